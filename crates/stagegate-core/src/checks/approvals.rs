//! Approvals: enough distinct, eligible humans approved this run (see
//! [`crate::gates::approvals`]), and nobody rejected it (a person's latest
//! review stands). The refusal's hint names what blocks: the rejecters, or
//! how to approve when approvals are missing.

use super::{Facts, Outcome, Rule, Surface};
use crate::config::Purpose;
use crate::forge::verdict::Why;
use crate::gates::approvals::State;
use crate::refusal::{Kind, Refusal};
use crate::step::{Check, StepName};

pub struct Approvals;

impl Rule for Approvals {
    fn name(&self) -> &'static str {
        "approvals"
    }
    fn step(&self) -> Option<StepName> {
        Some(Check::Gate.into())
    }
    fn guards(&self, surface: Surface) -> bool {
        match surface {
            Surface::Promote
            | Surface::Rollback
            | Surface::JournalPromote
            | Surface::App
            | Surface::Plan
            | Surface::Gate => true,
            // A direct deploy into an approval environment is refused
            // outright (promotion-only); compare scores the release, not a run.
            Surface::Deploy | Surface::Compare => false,
        }
    }
    fn weight(&self) -> u32 {
        0
    }
    fn check(&self, f: &Facts) -> Outcome {
        let a = &f.approvals_policy();
        if a.required == 0 {
            return match f.purpose {
                // Said where it is a choice: the trade shows in the run's steps.
                Purpose::Rollback if f.to.approvals.required > 0 => {
                    Outcome::pass(format!("a rollback into {} needs no approvals", f.to.name))
                }
                _ => Outcome::not_applicable(format!("{} needs no approvals", f.to.name)),
            };
        }
        let Some(fact) = &f.approvals else { return Outcome::skip(requirement(a)) };
        let v = fact.verdict;
        let refused =
            |how: &str| Refusal::new(Kind::Approvals, format!("{}; {how}", v.reasons.join("; "))).unblock(how);
        match v.state {
            State::Passed | State::Waiting => {
                let who: Vec<String> =
                    v.reviews.iter().filter(|r| r.counted).map(|r| format!("{} ({})", r.user, r.why)).collect();
                Outcome::pass(format!("{}/{} approved: {}", v.counted, v.required, who.join(", ")))
            }
            State::Missing => Outcome::Block(refused(&fact.unblock)),
            State::Rejected => Outcome::Block(refused(&after_rejection(v)).final_(true)),
        }
    }
}

/// How a rejected run gets going again: whoever rejected approves again
/// (their latest review stands), or a new run starts.
fn after_rejection(v: &crate::gates::approvals::Verdict) -> String {
    let mut who: Vec<&str> = Vec::new();
    for r in v.reviews.iter().filter(|r| r.reason == Why::Rejected) {
        if !who.iter().any(|w| w.eq_ignore_ascii_case(&r.user)) {
            who.push(&r.user);
        }
    }
    let can = match who.as_slice() {
        [one] => format!("{one} can"),
        _ => "each of them can".to_string(),
    };
    format!("rejected by {}: {can} approve again, or start a new run", who.join(", "))
}

/// What the approvals of `a` ask, in words: "2 distinct approval(s) from
/// @alice, @bob; not the actor, not bots".
pub fn requirement(a: &crate::config::Approvals) -> String {
    let who: Vec<String> = a.reviewers.iter().map(ToString::to_string).collect();
    let mut d = format!("{} distinct approval(s) from {}", a.required, who.join(", "));
    if a.prevent_self_review {
        d.push_str("; not the actor, not bots");
    }
    d
}
