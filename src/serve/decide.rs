//! The verdict on one deployment protection request, from the config on the
//! repository's default branch (never the deployed ref's: a branch cannot
//! relax the rules it is judged by) and what GitHub says now. A thin adapter
//! on the check registry ([`crate::checks`], [`Surface::App`]): it gathers the
//! facts — the source environment that runs the deployed commit, the run's
//! approvals ([`crate::run::preflight::gate_verdict`]), the change named in
//! the run's title — and asks the same rules as the CLI.
//!
//! A refusal that can still pass later keeps the request pending (missing
//! approvals, soak not over, a freeze that ends, a change not yet approved); one
//! that cannot (wrong ref, illegal path, a rejection) rejects it at once.

use chrono::{DateTime, Utc};

use super::store::Request;
use crate::checks::{self, ApprovalsFact, ChangeFact, Evaluated, Facts, RefFact, Source, Surface};
use crate::config::{self, Config, Environment, Purpose};
use crate::forge::history;
use crate::forge::{Deployment, Forge, ForgeError};
use crate::gates::approvals::Verdict;
use crate::gates::servicenow::{ServiceNow, ServiceNowError};
use crate::gates::servicenow_instance::Instance;
use crate::github::GitHubForge;
use crate::github::app::{RuleState, WorkflowRun};
use crate::policy::{GitRef, Policy};
use crate::refusal::{Kind, Refusal};
use crate::values::sha::ShortSha;

/// Longest comment sent to GitHub (the rest is cut with a note).
const MAX_COMMENT: usize = 8 * 1024;

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
    let text = match &head {
        Some(sha) => forge.file_at(config_path, sha).await?,
        None => None,
    };
    let Some(text) = text else {
        let why = format!(
            "no stagegate config at {config_path} on {}, the default branch: add one (`stagegate init`)",
            req.default_branch
        );
        return Ok(refuse(req, "config", &why));
    };
    let run = forge.workflow_run(req.run_id).await?;
    let purpose = purpose(forge, &run, head.as_deref()).await?;
    judge(forge, req, &Inputs { config_path, config: &text, run: &run, now, servicenow, purpose }).await
}

/// The rollback workflow `stagegate init` writes.
pub const ROLLBACK_WORKFLOW: &str = ".github/workflows/rollback.yml";

/// A run is judged as a rollback only when it runs the rollback workflow
/// exactly as the default branch has it: reviewed code that redeploys only a
/// release that ran in the environment before (`stagegate rollback` refuses
/// any other). The run's title, its inputs and any deployment payload are
/// written by whoever starts the run and never lower the bar; a rollback
/// workflow edited on a branch is judged as a promotion.
async fn purpose(forge: &GitHubForge, run: &WorkflowRun, head: Option<&str>) -> Result<Purpose, ForgeError> {
    let Some(head) = head.filter(|_| run.path == ROLLBACK_WORKFLOW && !run.head_sha.is_empty()) else {
        return Ok(Purpose::Promotion);
    };
    let reviewed = forge.file_at(ROLLBACK_WORKFLOW, head).await?;
    let ran = forge.file_at(ROLLBACK_WORKFLOW, &run.head_sha).await?;
    Ok(match (reviewed, ran) {
        (Some(a), Some(b)) if a == b => Purpose::Rollback,
        _ => Purpose::Promotion,
    })
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
    /// A rollback when the run is the default branch's rollback workflow.
    pub purpose: Purpose,
}

/// The verdict from the config's bytes, the run and what `forge` says of
/// deployments and reviews: everything after reading the config and the run,
/// which the fuzz target drives with arbitrary inputs.
pub async fn judge(forge: &dyn Forge, req: &Request, i: &Inputs<'_>) -> Result<Outcome, ForgeError> {
    let Inputs { config_path, config: text, run, now, servicenow, purpose } = *i;
    let loaded = config::parse_bytes(&format!("{config_path}@{}", req.default_branch), text);
    let Some(cfg) = loaded.config else {
        let first = loaded.diagnostics.iter().find(|d| d.is_error()).map(|d| d.message.clone()).unwrap_or_default();
        let why = format!(
            "{config_path} on {} has {} error(s) (first: {first}); `stagegate check` lists them",
            req.default_branch,
            loaded.errors()
        );
        return Ok(refuse(req, "config", &why));
    };
    let policy = Policy::new(&cfg);
    // An instance of an ephemeral template is decided by the template's rules.
    let env = match cfg.resolve(&req.environment) {
        Ok(r @ (config::Resolved::Declared(_) | config::Resolved::Instance { .. })) => r.rules(),
        Ok(config::Resolved::Approval { .. }) | Err(_) => {
            return Ok(refuse(req, "environment", &policy.unknown_env(&req.environment)));
        }
    };
    let asked = Asked { req, run, now, servicenow, purpose };
    let (evaluated, verdict) = evaluate(forge, &policy, env, &asked).await?;
    Ok(conclude(req, &evaluated, verdict.as_ref()))
}

/// Gathers the facts of `req` and asks the registry.
async fn evaluate(
    forge: &dyn Forge,
    policy: &Policy<'_>,
    env: &Environment,
    asked: &Asked<'_>,
) -> Result<(Vec<Evaluated>, Option<Verdict>), ForgeError> {
    let Asked { req, run, now, servicenow, purpose } = *asked;
    let cfg = policy.config;
    // A rollback's commit is the default branch's, not a release a source
    // runs: the release it returns to is `stagegate rollback`'s to check.
    let found = match purpose {
        Purpose::Rollback => Origin::Direct,
        Purpose::Promotion => source(forge, policy, env, req).await?,
    };
    let change = match env.change_required && purpose == Purpose::Promotion {
        true => change(cfg, env, &run.display_title, now, servicenow).await,
        false => ChangeFact::Missing,
    };
    // The target's records matter to the gate only (the App does not ask
    // whether the target is busy: GitHub queues its deployments).
    let mut to_deps = Vec::new();
    let verdict = match env.approvals_for(purpose).required {
        0 => None,
        _ => {
            to_deps = forge.recent_deployments(&req.environment).await?;
            let actors: Vec<String> = [run.actor.as_ref(), run.triggering_actor.as_ref()]
                .into_iter()
                .flatten()
                .map(|l| l.login.clone())
                .collect();
            let run_id = req.run_id.to_string();
            Some(crate::run::preflight::gate_verdict(forge, env, &run_id, &actors, &to_deps, now, purpose).await?)
        }
    };
    let unblock = crate::gates::unblock::approvals(env, &req.run_id.to_string(), crate::forge::ForgeKind::Github);
    let (source, release, from_deps) = match &found {
        Origin::Env(from, release, deps) => (Source::Env(from), Some(release.as_str()), Some(deps.as_slice())),
        Origin::Direct => (Source::Direct, None, None),
        Origin::Elsewhere(why) => (Source::NotFound(why.clone()), None, None),
    };
    let hold = crate::forge::hold::current(forge, &env.name, now).await?;
    let facts = Facts {
        hold: hold.as_ref(),
        source,
        release,
        git_ref: RefFact::Given(
            GitRef::parse(&req.git_ref).map_err(|e| format!("`{}` is not a ref stagegate accepts: {e}", req.git_ref)),
        ),
        from_deployments: from_deps,
        to_deployments: &to_deps,
        change,
        approvals: verdict.as_ref().map(|verdict| ApprovalsFact { verdict, unblock: unblock.clone() }),
        purpose,
        ..Facts::new(policy, env, now)
    };
    let evaluated = checks::evaluate(Surface::App, &facts);
    Ok((evaluated, verdict))
}

/// The request and what it is judged with.
#[derive(Clone, Copy)]
struct Asked<'a> {
    req: &'a Request,
    run: &'a WorkflowRun,
    now: DateTime<Utc>,
    servicenow: Option<&'a Instance>,
    purpose: Purpose,
}

/// Where the deployed commit comes from.
enum Origin<'c> {
    /// The source environment that runs it now, the release, its records.
    Env(&'c Environment, String, Vec<Deployment>),
    /// Deployed to directly: auto-deploy, or nothing promotes to it.
    Direct,
    /// No source runs it: what they run instead.
    Elsewhere(String),
}

/// The sha must be what an allowed source environment runs now; an
/// environment deployed to directly (auto-deploy, or nothing promotes to it)
/// has no source.
async fn source<'c>(
    forge: &dyn Forge,
    policy: &Policy<'c>,
    env: &Environment,
    req: &Request,
) -> Result<Origin<'c>, ForgeError> {
    let sources = policy.graph.predecessors(&env.name);
    if env.auto_deploy || sources.is_empty() {
        return Ok(Origin::Direct);
    }
    let short = ShortSha::new(&req.sha);
    let mut running = Vec::new();
    for s in &sources {
        let deps = forge.recent_deployments(s).await?;
        match history::current(&deps) {
            Some(d) if d.request.sha.as_deref() == Some(req.sha.as_str()) => {
                if let Some(from) = policy.env(s) {
                    let release = d.request.release.clone();
                    return Ok(Origin::Env(from, release, deps));
                }
            }
            Some(d) => {
                let sha = d.request.sha.as_deref().unwrap_or("?");
                running.push(format!("{s} runs {} ({})", d.request.release, ShortSha::new(sha)));
            }
            None => running.push(format!("nothing runs in {s}")),
        }
    }
    Ok(Origin::Elsewhere(format!(
        "{short} is not what any environment that promotes to {} runs now ({}): promote what a source runs",
        env.name,
        running.join("; ")
    )))
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

/// The change named in the run's title, as the operator's ServiceNow answers
/// now. What can still come (approval, scheduling, the window's start,
/// ServiceNow answering) keeps the request pending; the rest rejects it.
async fn change(
    cfg: &Config,
    env: &Environment,
    title: &str,
    now: DateTime<Utc>,
    operator: Option<&Instance>,
) -> ChangeFact {
    let Some(number) = change_number(title) else {
        let why = format!(
            "{} requires an approved ServiceNow change: name it in the run's title (`run-name: … CHG0012345`)",
            env.name
        );
        return ChangeFact::Checked(Err(Refusal::new(Kind::Change, why).final_(true)));
    };
    let instance = match operator_instance(cfg, env, operator) {
        Ok(i) => i,
        Err(why) => return ChangeFact::Checked(Err(Refusal::new(Kind::Change, why).final_(true))),
    };
    let checked = match ServiceNow::at(instance) {
        Ok(sn) => sn.check_change(number, now, cfg.change_match(env)).await,
        Err(e) => Err(e),
    };
    let e = match checked {
        Ok(c) => {
            return ChangeFact::Checked(Ok(format!("{} approved; window {} – {}", c.number, c.start_date, c.end_date)));
        }
        Err(e) => e,
    };
    let refusal = Refusal::new(Kind::Change, e.to_string());
    ChangeFact::Checked(Err(match &e {
        ServiceNowError::NotApproved { .. }
        | ServiceNowError::WrongState { .. }
        | ServiceNowError::Http(_)
        | ServiceNowError::Auth { .. } => refusal.final_(false),
        ServiceNowError::OutsideWindow { .. } => match window_start(&e).filter(|s| *s > now) {
            Some(start) => refusal.final_(false).until(Some(start)),
            None => refusal.final_(true),
        },
        _ => refusal.final_(true),
    }))
}

fn window_start(e: &ServiceNowError) -> Option<DateTime<Utc>> {
    let ServiceNowError::OutsideWindow { start, .. } = e else { return None };
    chrono::NaiveDateTime::parse_from_str(start.trim(), "%Y-%m-%d %H:%M:%S").ok().map(|d| d.and_utc())
}

fn conclude(req: &Request, evaluated: &[Evaluated], verdict: Option<&Verdict>) -> Outcome {
    let state = match checks::verdict::of(evaluated) {
        checks::verdict::Verdict::Approve => RuleState::Approved,
        checks::verdict::Verdict::Reject => RuleState::Rejected,
        checks::verdict::Verdict::Pending { until } => return Outcome::Pending { until, why: pending(evaluated) },
    };
    Outcome::Answer { state, comment: comment(req, state, &rows(evaluated), verdict) }
}

/// Why a request is pending: each refusal that can still pass.
fn pending(evaluated: &[Evaluated]) -> String {
    evaluated
        .iter()
        .filter(|e| e.outcome.is_block())
        .map(|e| format!("{}: {}", e.rule.name(), e.outcome.detail()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A request refused before the registry could be asked (no config, an
/// unknown environment).
fn refuse(req: &Request, name: &str, why: &str) -> Outcome {
    let row = ("❌", name.to_owned(), why.to_owned());
    Outcome::Answer { state: RuleState::Rejected, comment: comment(req, RuleState::Rejected, &[row], None) }
}

/// Each check as a row of the comment: its mark, name and detail.
fn rows(evaluated: &[Evaluated]) -> Vec<(&'static str, String, String)> {
    evaluated
        .iter()
        .map(|e| {
            let mark = match e.outcome.refusal() {
                Some(r) if r.is_final => "❌",
                Some(_) => "⏳",
                None if e.outcome.scores() => "✅",
                None => "–",
            };
            (mark, e.rule.name().to_owned(), e.outcome.detail().to_owned())
        })
        .collect()
}

/// The comment GitHub shows with the answer: each check, then the review
/// table (who counted, who did not and why).
pub fn comment(req: &Request, state: RuleState, rows: &[(&str, String, String)], verdict: Option<&Verdict>) -> String {
    let head = match state {
        RuleState::Approved => "approved",
        RuleState::Rejected => "rejected",
    };
    let (git_ref, env) = (crate::actions::inline(&req.git_ref), crate::actions::inline(&req.environment));
    let mut md = format!("stagegate {head} the deployment of {git_ref} to {env}\n\n");
    md.push_str("| | check | detail |\n|---|---|---|\n");
    for (mark, name, detail) in rows {
        md.push_str(&format!("| {mark} | {name} | {} |\n", crate::actions::cell(detail)));
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
