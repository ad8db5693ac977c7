//! The verdict on one deployment protection request, from the config on the
//! repository's default branch (never the deployed ref's: a branch cannot
//! relax the rules it is judged by) and what GitHub says now. Each check is
//! the CLI's own: the ref against the environment's branch and tag policy,
//! the promotion path, freeze windows, soak, the ServiceNow change, and the
//! run's approvals ([`crate::run::preflight::gate_verdict`]).
//!
//! A check that can still pass later keeps the request pending (missing
//! approvals, soak not over, a freeze that ends, a change not yet approved); one
//! that cannot (wrong ref, illegal path, a rejection) rejects it at once.

use chrono::{DateTime, Utc};

use super::store::Request;
use crate::config::{self, Config, Environment};
use crate::forge::history;
use crate::forge::{Deployment, Forge, ForgeError};
use crate::gates::approvals::{State, Verdict};
use crate::gates::servicenow::{ServiceNow, ServiceNowError};
use crate::gates::servicenow_instance::Instance;
use crate::gates::{freeze, soak};
use crate::github::GitHubForge;
use crate::github::app::{RuleState, WorkflowRun};
use crate::policy::{GitRef, Policy, RefVerdict};
use crate::values::sha::ShortSha;

/// Longest comment sent to GitHub (the rest is cut with a note).
const MAX_COMMENT: usize = 8 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    Pass,
    /// Can still pass; look again at `until` (or on the next event).
    Wait {
        until: Option<DateTime<Utc>>,
    },
    Fail,
}

#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub mark: Mark,
    pub detail: String,
}

impl Check {
    fn new(name: &'static str, mark: Mark, detail: impl Into<String>) -> Check {
        Check { name, mark, detail: detail.into() }
    }
}

/// What the App does with a request.
#[derive(Debug, Clone)]
pub enum Outcome {
    Answer { state: RuleState, comment: String },
    Pending { until: Option<DateTime<Utc>>, why: String },
}

/// Decides `req` now. `Err` only when GitHub could not be read: the request
/// stays pending and is decided again later.
pub async fn decide(
    forge: &GitHubForge,
    req: &Request,
    config_path: &str,
    now: DateTime<Utc>,
    servicenow: Option<&Instance>,
) -> Result<Outcome, ForgeError> {
    // At the branch's head commit, by sha: a tag named like the branch cannot
    // stand in for it.
    let head = forge.branch_head(&req.default_branch).await?;
    let text = match head {
        Some(sha) => forge.file_at(config_path, &sha).await?,
        None => None,
    };
    let Some(text) = text else {
        let why = format!(
            "no stagegate config at {config_path} on {}, the default branch: add one (`stagegate init`)",
            req.default_branch
        );
        return Ok(reject(req, &[Check::new("config", Mark::Fail, why)], None));
    };
    let run = forge.workflow_run(req.run_id).await?;
    judge(forge, req, &Inputs { config_path, config: &text, run: &run, now, servicenow }).await
}

/// What a decision is made from besides the forge's deployments and reviews.
pub struct Inputs<'a> {
    pub config_path: &'a str,
    /// The config file's bytes at the default branch's head.
    pub config: &'a [u8],
    pub run: &'a WorkflowRun,
    pub now: DateTime<Utc>,
    /// The operator's ServiceNow instance (`--servicenow-instance`).
    pub servicenow: Option<&'a Instance>,
}

/// The verdict from the config's bytes, the run and what `forge` says of
/// deployments and reviews: everything after reading the config and the run,
/// which the fuzz target drives with arbitrary inputs.
pub async fn judge(forge: &dyn Forge, req: &Request, i: &Inputs<'_>) -> Result<Outcome, ForgeError> {
    let Inputs { config_path, config: text, run, now, servicenow } = *i;
    let loaded = config::parse_bytes(&format!("{config_path}@{}", req.default_branch), text);
    let Some(cfg) = loaded.config else {
        let first = loaded.diagnostics.iter().find(|d| d.is_error()).map(|d| d.message.clone()).unwrap_or_default();
        let why = format!(
            "{config_path} on {} has {} error(s) (first: {first}); `stagegate check` lists them",
            req.default_branch,
            loaded.errors()
        );
        return Ok(reject(req, &[Check::new("config", Mark::Fail, why)], None));
    };
    let checks = evaluate(forge, &cfg, req, run, now, servicenow).await?;
    Ok(conclude(req, checks))
}

async fn evaluate(
    forge: &dyn Forge,
    cfg: &Config,
    req: &Request,
    run: &WorkflowRun,
    now: DateTime<Utc>,
    servicenow: Option<&Instance>,
) -> Result<(Vec<Check>, Option<Verdict>), ForgeError> {
    let policy = Policy::new(cfg);
    let Some(env) = policy.env(&req.environment) else {
        return Ok((vec![Check::new("environment", Mark::Fail, policy.unknown_env(&req.environment))], None));
    };
    let mut checks = vec![check_ref(&policy, req)];
    let (path, source) = check_path(forge, &policy, env, req).await?;
    checks.push(path);
    checks.push(check_freeze(env, now));
    if let Some(s) = check_soak(env, source.as_ref(), now) {
        checks.push(s);
    }
    if env.change_required {
        checks.push(check_change(cfg, env, &run.display_title, now, servicenow).await);
    }
    let mut verdict = None;
    if env.approvals.required > 0 {
        let actors: Vec<String> = [run.actor.as_ref(), run.triggering_actor.as_ref()]
            .into_iter()
            .flatten()
            .map(|l| l.login.clone())
            .collect();
        let deployments = forge.recent_deployments(&env.name).await?;
        let v = crate::run::preflight::gate_verdict(forge, env, &req.run_id.to_string(), &actors, &deployments, now)
            .await?;
        let mark = match v.state {
            State::Passed => Mark::Pass,
            State::Rejected => Mark::Fail,
            State::Missing | State::Waiting => Mark::Wait { until: None },
        };
        let detail = if v.passed {
            format!("{}/{} distinct approvals from allowed humans", v.counted, v.required)
        } else {
            v.reasons.join("; ")
        };
        checks.push(Check::new("approvals", mark, detail));
        verdict = Some(v);
    }
    Ok((checks, verdict))
}

fn check_ref(policy: &Policy, req: &Request) -> Check {
    let r = match GitRef::parse(&req.git_ref) {
        Ok(r) => r,
        Err(e) => {
            return Check::new("ref", Mark::Fail, format!("`{}` is not a ref stagegate accepts: {e}", req.git_ref));
        }
    };
    match policy.ref_verdict(&req.environment, &r) {
        RefVerdict::Allowed(p) => {
            Check::new("ref", Mark::Pass, format!("{r} may deploy to {} (matches `{p}`)", req.environment))
        }
        RefVerdict::Refused(why) => Check::new("ref", Mark::Fail, why),
    }
}

/// The sha must be what an allowed source environment runs now; an
/// environment deployed to directly (auto-deploy, or nothing promotes to it)
/// has no source.
async fn check_path(
    forge: &dyn Forge,
    policy: &Policy<'_>,
    env: &Environment,
    req: &Request,
) -> Result<(Check, Option<(String, Deployment)>), ForgeError> {
    let sources = policy.graph.predecessors(&env.name);
    if env.auto_deploy || sources.is_empty() {
        let why = if env.auto_deploy { "auto-deploy" } else { "nothing promotes to it" };
        return Ok((Check::new("path", Mark::Pass, format!("{} is deployed to directly ({why})", env.name)), None));
    }
    let short = ShortSha::new(&req.sha);
    let mut running = Vec::new();
    for s in &sources {
        let deps = forge.recent_deployments(s).await?;
        match history::current(&deps) {
            Some(d) if d.request.sha.as_deref() == Some(req.sha.as_str()) => {
                let detail = format!(
                    "{short} is what {s} runs now ({}): {s} → {} is an allowed promotion",
                    d.request.release, env.name
                );
                return Ok((Check::new("path", Mark::Pass, detail), Some((s.to_string(), d.clone()))));
            }
            Some(d) => {
                let sha = d.request.sha.as_deref().unwrap_or("?");
                running.push(format!("{s} runs {} ({})", d.request.release, ShortSha::new(sha)));
            }
            None => running.push(format!("nothing runs in {s}")),
        }
    }
    let why = format!(
        "{short} is not what any environment that promotes to {} runs now ({}): promote what a source runs",
        env.name,
        running.join("; ")
    );
    Ok((Check::new("path", Mark::Fail, why), None))
}

fn check_freeze(env: &Environment, now: DateTime<Utc>) -> Check {
    match (freeze::frozen(env.freeze.iter().map(|w| &w.value), now), freeze::decide(env, now, None)) {
        (Some(f), freeze::Decision::Refused(why)) => Check::new("freeze", Mark::Wait { until: Some(f.ends) }, why),
        _ => Check::new("freeze", Mark::Pass, format!("{} is not frozen", env.name)),
    }
}

fn check_soak(env: &Environment, source: Option<&(String, Deployment)>, now: DateTime<Utc>) -> Option<Check> {
    let need = env.soak?;
    let (from, current) = source?;
    Some(match soak::check(current, from, need, now) {
        Ok(detail) => Check::new("soak", Mark::Pass, detail),
        Err(why) => {
            let since = current.succeeded_at().unwrap_or(current.request.at);
            let until = chrono::Duration::from_std(need).ok().and_then(|d| since.checked_add_signed(d));
            Check::new("soak", Mark::Wait { until }, why.message())
        }
    })
}

/// The change number is read from the run's title (`run-name:`), e.g.
/// `run-name: Deploy ${{ github.ref_name }} under ${{ inputs.change }}`.
pub fn change_number(title: &str) -> Option<&str> {
    title.split(|c: char| !c.is_ascii_alphanumeric()).find(|w| {
        let mut chars = w.chars();
        let prefix: String = chars.by_ref().take(3).collect();
        w.len() > 3 && w.len() <= 40 && prefix.eq_ignore_ascii_case("CHG") && chars.all(|c| c.is_ascii_digit())
    })
}

/// The operator's ServiceNow, the one the App's credentials are for; a config
/// naming another instance is refused, never followed.
fn operator_instance<'i>(
    cfg: &Config,
    env: &Environment,
    operator: Option<&'i Instance>,
) -> Result<&'i Instance, String> {
    let Some(op) = operator else {
        return Err(format!(
            "{} requires an approved ServiceNow change, but this App has no ServiceNow instance: its operator sets one with --servicenow-instance (STAGEGATE_SERVICENOW_INSTANCE)",
            env.name
        ));
    };
    let named = cfg.servicenow.as_ref().map(|s| s.instance.as_str()).filter(|i| !i.trim().is_empty());
    match named.map(Instance::parse) {
        None => Ok(op),
        Some(Ok(theirs)) if theirs.same(op) => Ok(op),
        Some(_) => Err(format!(
            "the config names the ServiceNow instance `{}`, but this App asks only its operator's ({op}): it never sends its credentials to a host a repository chooses. Set `servicenow.instance` to {op} or leave it out",
            named.unwrap_or_default().escape_debug()
        )),
    }
}

async fn check_change(
    cfg: &Config,
    env: &Environment,
    title: &str,
    now: DateTime<Utc>,
    operator: Option<&Instance>,
) -> Check {
    let Some(number) = change_number(title) else {
        let why = format!(
            "{} requires an approved ServiceNow change: name it in the run's title (`run-name: … CHG0012345`)",
            env.name
        );
        return Check::new("change", Mark::Fail, why);
    };
    let instance = match operator_instance(cfg, env, operator) {
        Ok(i) => i,
        Err(why) => return Check::new("change", Mark::Fail, why),
    };
    let checked = match ServiceNow::at(instance) {
        Ok(sn) => sn.check_change(number, now, cfg.change_match(env)).await,
        Err(e) => Err(e),
    };
    match checked {
        Ok(c) => {
            Check::new("change", Mark::Pass, format!("{} approved; window {} – {}", c.number, c.start_date, c.end_date))
        }
        // Approval and scheduling can still come; so can the window's start.
        Err(e @ (ServiceNowError::NotApproved { .. } | ServiceNowError::WrongState { .. })) => {
            Check::new("change", Mark::Wait { until: None }, e.to_string())
        }
        Err(e @ ServiceNowError::OutsideWindow { .. }) => {
            let started = window_start(&e).is_some_and(|s| s <= now);
            let mark = if started { Mark::Fail } else { Mark::Wait { until: window_start(&e) } };
            Check::new("change", mark, e.to_string())
        }
        // ServiceNow unreachable or refusing the App's credentials: look again later.
        Err(e @ (ServiceNowError::Http(_) | ServiceNowError::Auth { .. })) => {
            Check::new("change", Mark::Wait { until: None }, e.to_string())
        }
        Err(e) => Check::new("change", Mark::Fail, e.to_string()),
    }
}

fn window_start(e: &ServiceNowError) -> Option<DateTime<Utc>> {
    let ServiceNowError::OutsideWindow { start, .. } = e else { return None };
    chrono::NaiveDateTime::parse_from_str(start.trim(), "%Y-%m-%d %H:%M:%S").ok().map(|d| d.and_utc())
}

fn conclude(req: &Request, (checks, verdict): (Vec<Check>, Option<Verdict>)) -> Outcome {
    if checks.iter().any(|c| c.mark == Mark::Fail) {
        return reject(req, &checks, verdict.as_ref());
    }
    let waits: Vec<&Check> = checks.iter().filter(|c| matches!(c.mark, Mark::Wait { .. })).collect();
    if waits.is_empty() {
        return Outcome::Answer {
            state: RuleState::Approved,
            comment: comment(req, RuleState::Approved, &checks, verdict.as_ref()),
        };
    }
    let until = waits.iter().filter_map(|c| if let Mark::Wait { until } = c.mark { until } else { None }).min();
    let why = waits.iter().map(|c| format!("{}: {}", c.name, c.detail)).collect::<Vec<_>>().join("; ");
    Outcome::Pending { until, why }
}

fn reject(req: &Request, checks: &[Check], verdict: Option<&Verdict>) -> Outcome {
    Outcome::Answer { state: RuleState::Rejected, comment: comment(req, RuleState::Rejected, checks, verdict) }
}

/// The comment GitHub shows with the answer: each check, then the review
/// table (who counted, who did not and why).
pub fn comment(req: &Request, state: RuleState, checks: &[Check], verdict: Option<&Verdict>) -> String {
    let head = match state {
        RuleState::Approved => "approved",
        RuleState::Rejected => "rejected",
    };
    let (git_ref, env) = (crate::actions::inline(&req.git_ref), crate::actions::inline(&req.environment));
    let mut md = format!("stagegate {head} the deployment of {git_ref} to {env}\n\n");
    md.push_str("| | check | detail |\n|---|---|---|\n");
    for c in checks {
        let mark = match c.mark {
            Mark::Pass => "✅",
            Mark::Wait { .. } => "⏳",
            Mark::Fail => "❌",
        };
        md.push_str(&format!("| {mark} | {} | {} |\n", c.name, crate::actions::cell(&c.detail)));
    }
    if let Some(v) = verdict {
        md.push('\n');
        md.push_str(&crate::gates::markdown(v));
    }
    if md.len() > MAX_COMMENT {
        let mut cut = MAX_COMMENT;
        while !md.is_char_boundary(cut) {
            cut -= 1;
        }
        md.truncate(cut);
        md.push_str("\n\n(cut: the full table is in the service's log)");
    }
    md
}

#[cfg(test)]
mod tests {
    use super::change_number;

    #[test]
    fn change_numbers_come_from_the_title() {
        assert_eq!(change_number("Deploy 26.11.21.1 to prod under CHG0012345"), Some("CHG0012345"));
        assert_eq!(change_number("deploy (chg0030001)"), Some("chg0030001"));
        assert_eq!(change_number("Deploy main"), None);
        assert_eq!(change_number("CHANGE CHG"), None);
    }
}
