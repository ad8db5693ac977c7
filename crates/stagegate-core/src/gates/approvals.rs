//! The approval gate: `required` distinct allowed humans approved the
//! environment and its approval environments, nobody rejected, and the wait
//! timer after the last needed approval has run out.
//!
//! Each person's latest review of each environment in the run stands: a
//! rejection they follow with an approval is withdrawn, an approval they
//! follow with a rejection is a rejection. A rejection blocks whoever gave it
//! (the actor, a bot, someone not listed): stopping a deploy is never
//! something the gate second-guesses.
//!
//! GitHub lets any one required reviewer approve an environment. For
//! `required: N > 1` the deployment environment keeps its required reviewers
//! (GitHub enforces that one approval on the deployment job) and the workflow
//! puts N-1 approval environments (`<env>-approval-1 … N-1`) in front of the
//! deployment job; this gate, inside that job, then checks that N *different*
//! people approved across all of them, none of them the actor or a bot, all
//! of them listed reviewers (directly or through a team).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::{Approvals, Reviewer, duration};
use crate::forge::verdict::Why;
use crate::forge::{Approval, ApprovalState, Deployment, UserType};

/// The environments whose approvals count for `env`: `env-approval-1 … N-1`
/// for `required: N > 1`, and `env` itself.
pub fn approval_environments(env: &str, required: u32) -> Vec<String> {
    crate::policy::environments::counting_envs(env, required)
}

/// Team membership as the forge answered it: `org/slug` (lower-case) → logins.
pub type Teams = BTreeMap<String, BTreeSet<String>>;

pub fn team_key(org: &str, slug: &str) -> String {
    format!("{}/{}", org.to_lowercase(), slug.to_lowercase())
}

/// Everything the verdict depends on.
pub struct Input<'a> {
    pub env: &'a str,
    pub policy: &'a Approvals,
    /// The run's reviews, any order.
    pub approvals: &'a [Approval],
    /// The actor and the triggering actor: never count when `prevent_self_review`.
    pub actors: &'a [String],
    pub teams: &'a Teams,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Passed,
    Missing,
    Rejected,
    Waiting,
}

/// One review and what the gate made of it.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub user: String,
    pub environment: String,
    pub state: ApprovalState,
    #[serde(serialize_with = "crate::human::rfc3339")]
    pub at: DateTime<Utc>,
    pub counted: bool,
    /// Why it counted (`listed reviewer`, `member of @acme/sre`) or why not.
    pub why: String,
    /// The same, as a kind: what a deployment record keeps.
    #[serde(skip)]
    pub reason: Why,
    /// The reviewer team that let it count (`@acme/sre`).
    #[serde(skip)]
    pub team: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    #[serde(rename = "environment")]
    pub env: String,
    pub passed: bool,
    pub state: State,
    pub required: u32,
    pub counted: usize,
    pub approval_environments: Vec<String>,
    /// When the wait timer opens (set once enough approvals are in).
    #[serde(serialize_with = "crate::human::rfc3339_opt")]
    pub opens_at: Option<DateTime<Utc>>,
    pub reasons: Vec<String>,
    pub reviews: Vec<Row>,
}

fn is_bot(a: &Approval) -> bool {
    a.user_type == UserType::Bot || a.user.to_lowercase().ends_with("[bot]")
}

/// Which listed reviewer entry lets `user` approve, if any: the user, or
/// the team they are a member of.
fn allowed_by<'p>(policy: &'p Approvals, teams: &Teams, user: &str) -> Option<&'p Reviewer> {
    policy.reviewers.iter().find(|r| match r {
        Reviewer::User(u) => u.eq_ignore_ascii_case(user),
        Reviewer::Team { org, slug } => teams.get(&team_key(org, slug)).is_some_and(|m| m.contains(user)),
    })
}

/// Evaluates the gate. Pure: the same input always gives the same verdict.
pub fn evaluate(input: &Input) -> Verdict {
    let p = input.policy;
    let envs = approval_environments(input.env, p.required);
    let tally = tally(input, &envs);
    let counted = tally.seen.len();
    // Checked: past the end of time the timer simply never opens.
    let opens_at = tally.nth_at.zip(p.wait_timer).map(|(at, t)| {
        chrono::Duration::from_std(t)
            .ok()
            .and_then(|t| at.checked_add_signed(t))
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
    });
    let mut reasons = Vec::new();
    let state = if !tally.rejections.is_empty() {
        reasons.extend(tally.rejections);
        State::Rejected
    } else if p.required == 0 {
        State::Passed
    } else if counted < p.required as usize {
        reasons.push(format!(
            "{} needs {} distinct approval(s) from allowed humans; {counted} counted",
            input.env, p.required
        ));
        State::Missing
    } else if let Some(opens) = opens_at.filter(|o| input.now < *o) {
        let t = p.wait_timer.map(duration::format).unwrap_or_default();
        reasons.push(format!("the wait timer of {t} runs until {}", opens.format("%Y-%m-%d %H:%M:%S UTC")));
        State::Waiting
    } else {
        State::Passed
    };
    Verdict {
        env: input.env.to_owned(),
        passed: state == State::Passed,
        state,
        required: p.required,
        counted,
        approval_environments: envs,
        opens_at,
        reasons,
        reviews: tally.rows,
    }
}

/// The reviews of one promotion, each judged in the order they were given.
struct Tally {
    rows: Vec<Row>,
    /// Counted people (lower case), and the environment each counted for.
    seen: BTreeMap<String, String>,
    /// When the approval that met the required number was given.
    nth_at: Option<chrono::DateTime<chrono::Utc>>,
    rejections: Vec<String>,
}

/// Judges every review of the environment (and of its `-approval-N`
/// environments), oldest first: whether it counts, and why or why not.
fn tally(input: &Input, envs: &[String]) -> Tally {
    let p = input.policy;
    let actors: BTreeSet<String> = input.actors.iter().map(|a| a.to_lowercase()).collect();
    let mut reviews: Vec<&Approval> = input
        .approvals
        .iter()
        .filter(|a| a.environment == input.env || a.environment.starts_with(&format!("{}-approval-", input.env)))
        .collect();
    reviews.sort_by_key(|a| a.at);
    // Per person and environment the latest review stands: a rejection
    // followed by an approval is an approval, and the other way round.
    let latest: BTreeMap<(String, &str), usize> =
        reviews.iter().enumerate().map(|(i, a)| ((a.user.to_lowercase(), a.environment.as_str()), i)).collect();
    let mut t = Tally { rows: Vec::new(), seen: BTreeMap::new(), nth_at: None, rejections: Vec::new() };
    for (i, a) in reviews.iter().enumerate() {
        let user = a.user.to_lowercase();
        let mut team = None;
        let (reason, why) = if latest.get(&(user.clone(), a.environment.as_str())) != Some(&i) {
            (Why::Superseded, format!("superseded by {}'s later review of {}", a.user, a.environment))
        } else if a.state == ApprovalState::Rejected {
            let note = a.comment.as_deref().map(|c| format!(": {c}")).unwrap_or_default();
            t.rejections.push(format!("{} rejected {}{note}", a.user, a.environment));
            (Why::Rejected, "rejection: fails the gate".into())
        } else if !envs.contains(&a.environment) {
            let why = format!("not one of {}'s approval environments ({})", input.env, envs.join(", "));
            (Why::OtherEnvironment, why)
        } else if is_bot(a) {
            (Why::Bot, "a bot: bots never count".into())
        } else if p.prevent_self_review && actors.contains(&user) {
            (Why::SelfReview, "started this run: self-review is not allowed".into())
        } else if let Some(first) = t.seen.get(&user) {
            (Why::Duplicate, format!("already counted for {first}: each person counts once"))
        } else if let Some(by) = allowed_by(p, input.teams, &user) {
            t.seen.insert(user, a.environment.clone());
            if t.seen.len() == p.required as usize {
                t.nth_at = Some(a.at);
            }
            match by {
                Reviewer::User(_) => (Why::ListedReviewer, "listed reviewer".into()),
                Reviewer::Team { .. } => {
                    team = Some(by.to_string());
                    (Why::TeamMember, format!("member of {by}"))
                }
            }
        } else {
            let who: Vec<String> = p.reviewers.iter().map(ToString::to_string).collect();
            (Why::NotAReviewer, format!("not a reviewer of {} ({})", input.env, who.join(", ")))
        };
        t.rows.push(Row {
            user: a.user.clone(),
            environment: a.environment.clone(),
            state: a.state,
            at: a.at,
            counted: reason.counts(),
            why,
            reason,
            team,
        });
    }
    t
}

/// Approvals are per run. The local forge's runs are all `local`, so an
/// approval is used up by the next deployment to the environment in that run:
/// only reviews after it count for the next one.
pub fn unused(approvals: Vec<Approval>, deployments: &[Deployment], run_id: &str) -> Vec<Approval> {
    let last = deployments.iter().filter(|d| d.request.run_id == run_id).map(|d| d.request.at).max();
    approvals.into_iter().filter(|a| last.is_none_or(|l| a.at > l)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn policy(required: u32, reviewers: &[&str], wait: Option<u64>) -> Approvals {
        Approvals {
            required,
            reviewers: reviewers.iter().map(|r| Reviewer::parse(r).unwrap()).collect(),
            prevent_self_review: true,
            wait_timer: wait.map(Duration::from_secs),
            ..Approvals::default()
        }
    }

    fn review(env: &str, user: &str, minute: u32, state: ApprovalState) -> Approval {
        Approval {
            run_id: "1".into(),
            environment: env.into(),
            user: user.into(),
            user_type: if user.ends_with("[bot]") { UserType::Bot } else { UserType::User },
            state,
            comment: None,
            at: format!("2026-11-21T10:{minute:02}:00Z").parse().unwrap(),
        }
    }

    fn verdict(p: &Approvals, reviews: &[Approval], now_minute: u32) -> Verdict {
        let teams: Teams = [("acme/sre".to_string(), ["erin".to_string()].into_iter().collect())].into();
        evaluate(&Input {
            env: "prod",
            policy: p,
            approvals: reviews,
            actors: &["Mallory".to_string()],
            teams: &teams,
            now: format!("2026-11-21T11:{now_minute:02}:00Z").parse().unwrap(),
        })
    }

    use ApprovalState::{Approved, Rejected};

    #[test]
    fn two_distinct_reviewers_pass_and_one_twice_does_not() {
        let p = policy(2, &["@alice", "@bob", "@acme/sre"], None);
        let v = verdict(&p, &[review("prod-approval-1", "alice", 1, Approved), review("prod", "bob", 2, Approved)], 0);
        assert!(v.passed, "{v:#?}");
        let v =
            verdict(&p, &[review("prod-approval-1", "alice", 1, Approved), review("prod", "ALICE", 2, Approved)], 0);
        assert_eq!((v.passed, v.counted), (false, 1));
        assert!(v.reviews[1].why.contains("already counted"), "{v:#?}");
    }

    #[test]
    fn self_bot_outsider_and_wrong_environment_never_count() {
        let p = policy(2, &["@alice", "@mallory", "@acme/sre"], None);
        let v = verdict(
            &p,
            &[
                review("prod-approval-1", "mallory", 1, Approved),
                review("prod-approval-1", "deploy[bot]", 2, Approved),
                review("prod", "zed", 3, Approved),
                review("prod-approval-2", "alice", 4, Approved),
                review("prod", "erin", 5, Approved),
            ],
            0,
        );
        assert_eq!((v.passed, v.counted, v.state), (false, 1, State::Missing));
        let why: Vec<&str> = v.reviews.iter().map(|r| r.why.as_str()).collect();
        assert!(why[0].contains("self-review"));
        assert!(why[1].contains("bot"));
        assert!(why[2].contains("not a reviewer"));
        assert!(why[3].contains("not one of prod's approval environments"));
        assert_eq!(why[4], "member of @acme/sre");
    }

    #[test]
    fn a_persons_latest_review_of_an_environment_stands() {
        let p = policy(1, &["@alice", "@bob"], None);
        let v = verdict(&p, &[review("prod", "bob", 2, Approved), review("prod", "Bob", 1, Rejected)], 0);
        assert_eq!((v.state, v.counted), (State::Passed, 1), "{v:#?}");
        assert_eq!(v.reviews[0].reason, Why::Superseded);
        let v = verdict(&p, &[review("prod", "bob", 1, Approved), review("prod", "bob", 2, Rejected)], 0);
        assert_eq!((v.state, v.counted), (State::Rejected, 0), "{v:#?}");
        assert_eq!(v.reviews[0].reason, Why::Superseded);
        // Another environment's rejection is not withdrawn by an approval here.
        let p = policy(2, &["@alice", "@bob"], None);
        let v = verdict(&p, &[review("prod-approval-1", "bob", 1, Rejected), review("prod", "bob", 2, Approved)], 0);
        assert_eq!(v.state, State::Rejected, "{v:#?}");
    }

    #[test]
    fn a_rejection_fails_and_the_wait_timer_opens_after_the_nth_approval() {
        let p = policy(1, &["@alice", "@bob"], Some(1800));
        let v = verdict(&p, &[review("prod", "alice", 1, Approved), review("prod", "bob", 2, Rejected)], 59);
        assert_eq!(v.state, State::Rejected);
        let ok = [review("prod", "alice", 40, Approved)];
        let v = verdict(&p, &ok, 9);
        assert_eq!(v.state, State::Waiting);
        assert_eq!(v.opens_at.unwrap().to_rfc3339(), "2026-11-21T11:10:00+00:00");
        assert!(verdict(&p, &ok, 10).passed);
    }
}
