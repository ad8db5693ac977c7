//! `deploy --env E --ref REF` and `rollback --env E [--to ID]`: runs into one
//! environment without a source environment.
//!
//! A direct deploy is for environments that need no approval (DEV-INT on
//! push, FUTURE and ACTIVE by hand); environments behind approvals
//! are reached by `promote` only, so a path rule like "PROD only from STAGING"
//! cannot be walked around. A rollback redeploys an earlier good release of E
//! behind the same gate as promoting into E; freeze windows do not block it,
//! and it needs no ServiceNow change of its own, since it is how a bad change
//! is undone. A deploy into an environment with `change: required` needs its
//! approved change, as a promotion does.

use super::flow::Executed;
use super::report::Report;
use super::{RunError, Runner, Target};
use crate::checks::{ApprovalsFact, ChangeFact, Facts, RefFact, Surface};
use crate::config::{Environment, Purpose};
use crate::forge::Deployment;
use crate::forge::{history, hold};
use crate::plan::Mode;
use crate::policy::{GitRef, Policy};

pub struct DeployRequest {
    pub env: String,
    pub git_ref: GitRef,
    pub release: String,
    pub sha: Option<String>,
    pub actor: String,
    pub run_id: String,
    pub override_reason: Option<String>,
    /// The ServiceNow change, for an environment with `change: required`.
    pub change: Option<String>,
    /// `env` is an instance of an ephemeral template: its first deploy (with
    /// nothing live there) runs the create hook first.
    pub instance: bool,
}

pub struct RollbackRequest {
    pub env: String,
    pub to: Option<String>,
    pub actor: String,
    pub actors: Vec<String>,
    pub run_id: String,
    /// `--reason`: recorded in the deployment and the audit trail.
    pub reason: Option<String>,
}

fn full_ref(r: &GitRef) -> String {
    match r {
        GitRef::Branch(b) => format!("refs/heads/{b}"),
        GitRef::Tag(t) => format!("refs/tags/{t}"),
    }
}

/// The execution steps of a direct run, once its checks have passed.
async fn finish(
    r: &mut Runner<'_>,
    mode: Mode,
    env: &Environment,
    target: Target,
    previous: Option<&Deployment>,
    create: bool,
) -> Result<Report, RunError> {
    let steps = mode.execution_of(env.health.len(), create);
    let Executed { outcome, message, deployment_id } = r.execute(env, &target, previous, &steps, mode).await?;
    let mut report = r.report(mode.command(), outcome, target, message);
    report.deployment_id = deployment_id;
    Ok(report)
}

/// Deploys `req.release` to `env` (resolved against the config by the caller).
pub async fn deploy(
    r: &mut Runner<'_>,
    policy: &Policy<'_>,
    env: &Environment,
    req: &DeployRequest,
) -> Result<Report, RunError> {
    let deps = r.fx.forge.deployments(&req.env).await?;
    let previous = history::current(&deps).cloned();
    let target = Target {
        env: req.env.clone(),
        from: None,
        release: req.release.clone(),
        sha: req.sha.clone(),
        git_ref: Some(full_ref(&req.git_ref)),
        actor: req.actor.clone(),
        run_id: req.run_id.clone(),
        previous_release: previous.as_ref().map(|p| p.request.release.clone()),
    };
    let holder = format!("deploy {} to {} by {} in run {}", req.release, req.env, req.actor, req.run_id);
    // An approval environment is refused before its lock is taken.
    let direct = env.approvals.required == 0;
    let held = if direct { Some(r.take_target(&req.env, &holder, &deps).await?) } else { None };
    // A change-controlled environment takes no deploy without its change,
    // direct or promoted.
    let change = if direct { r.change_fact(env, req.change.as_deref()).await? } else { ChangeFact::Missing };
    let (lock, busy, abandoned) = held.map_or((None, None, None), |h| (h.lock, h.busy, h.abandoned));
    let hold = hold::current(r.fx.forge.as_ref(), &req.env, r.now()).await?;
    let facts = Facts {
        hold: hold.as_ref(),
        release: Some(&req.release),
        git_ref: RefFact::Given(Ok(req.git_ref.clone())),
        to_deployments: &deps,
        lock_busy: busy,
        abandoned,
        override_reason: req.override_reason.as_deref(),
        change,
        instance: req.instance.then_some(req.env.as_str()),
        ..Facts::new(policy, env, r.now())
    };
    let blockers = r.decide(Surface::Deploy, &facts);
    if !blockers.is_empty() {
        return Ok(r.refused(Mode::Deployment, target, blockers));
    }
    let create = req.instance && previous.is_none();
    let report = finish(r, Mode::Deployment, env, target, previous.as_ref(), create).await?;
    drop(lock);
    Ok(report)
}

/// The deployment a rollback returns to, or why there is none.
fn rollback_target<'d>(deps: &'d [Deployment], req: &RollbackRequest) -> Result<&'d Deployment, String> {
    let chosen = match &req.to {
        Some(id) => history::good_of_release(deps, id),
        None => history::rollback_target(deps),
    };
    chosen.ok_or_else(|| match &req.to {
        Some(id) => format!("{id} never ran successfully in {}: promote it instead", req.env),
        None => match history::current(deps) {
            Some(c) => format!(
                "{env} has no earlier successful release to roll back to: nothing older than {c} ran successfully in {env} without being rolled back from (choose one with --to ID)",
                env = req.env,
                c = c.request.release
            ),
            None => format!("{} has no earlier successful release to roll back to", req.env),
        },
    })
}

/// Rolls `env` (resolved against the config by the caller) back.
pub async fn rollback(
    r: &mut Runner<'_>,
    policy: &Policy<'_>,
    env: &Environment,
    req: &RollbackRequest,
) -> Result<Report, RunError> {
    r.reason = req.reason.clone();
    let deps = r.fx.forge.deployments(&req.env).await?;
    let current = history::current(&deps).cloned();
    let mut target = Target {
        env: req.env.clone(),
        from: None,
        release: req.to.clone().unwrap_or_default(),
        sha: None,
        git_ref: None,
        actor: req.actor.clone(),
        run_id: req.run_id.clone(),
        previous_release: current.as_ref().map(|c| c.request.release.clone()),
    };
    let chosen = rollback_target(&deps, req);
    let (held, approvals) = match &chosen {
        Ok(c) => {
            let holder =
                format!("rollback of {} to {} by {} in run {}", req.env, c.request.release, req.actor, req.run_id);
            let held = r.take_target(&req.env, &holder, &deps).await?;
            let approvals = match held.busy {
                None => r.count_approvals(env, &req.run_id, &req.actors, &deps, Purpose::Rollback).await?,
                Some(_) => None,
            };
            (Some(held), approvals)
        }
        Err(_) => (None, None),
    };
    let (lock, busy, abandoned) = held.map_or((None, None, None), |h| (h.lock, h.busy, h.abandoned));
    let hold = hold::current(r.fx.forge.as_ref(), &req.env, r.now()).await?;
    let facts = Facts {
        hold: hold.as_ref(),
        to_deployments: &deps,
        lock_busy: busy,
        abandoned,
        approvals: approvals.as_ref().map(|(verdict, unblock)| ApprovalsFact { verdict, unblock: unblock.clone() }),
        rollback: Some(chosen.as_ref().map(|d| *d).map_err(Clone::clone)),
        purpose: Purpose::Rollback,
        ..Facts::new(policy, env, r.now())
    };
    let blockers = r.decide(Surface::Rollback, &facts);
    let chosen = match chosen {
        Ok(c) if blockers.is_empty() => c.clone(),
        _ => return Ok(r.refused(Mode::Rollback, target, blockers)),
    };
    target.release = chosen.request.release.clone();
    target.sha = chosen.request.sha.clone();
    target.git_ref = chosen.request.git_ref.clone();
    let report = finish(r, Mode::Rollback, env, target, current.as_ref(), false).await?;
    drop(lock);
    Ok(report)
}
