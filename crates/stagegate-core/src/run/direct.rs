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

use std::time::Instant;

use super::flow::Executed;
use super::lock::EnvLock;
use super::preflight::Halt;
use super::report::Report;
use super::{RunError, Runner, StepStatus, Target};
use crate::config::Environment;
use crate::forge::Deployment;
use crate::forge::history;
use crate::plan::{Check, Mode, StepName};
use crate::policy::{GitRef, Policy, RefVerdict};
use crate::refusal::Refusal;

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

fn halted(r: &mut Runner, mode: Mode, target: Target, halt: Halt) -> Result<Report, RunError> {
    match halt {
        Halt::Refused(why) => Ok(r.refused(mode, target, vec![why])),
        Halt::Failed(e) => Err(e),
    }
}

/// The execution steps of a direct run, once its checks have passed.
async fn finish(
    r: &mut Runner<'_>,
    mode: Mode,
    env: &Environment,
    target: Target,
    previous: Option<&Deployment>,
) -> Result<Report, RunError> {
    let steps = mode.execution(env.health.len());
    let Executed { outcome, message, deployment_id } = r.execute(env, &target, previous, &steps, mode).await?;
    let mut report = r.report(mode.command(), outcome, target, message);
    report.deployment_id = deployment_id;
    Ok(report)
}

/// `check-env`, `check-ref`, `check-target`, `check-freeze` (and
/// `check-change` where the environment requires one) of a deploy.
async fn deploy_checks(
    r: &mut Runner<'_>,
    policy: &Policy<'_>,
    req: &DeployRequest,
    deps: &[Deployment],
) -> Result<Option<EnvLock>, Halt> {
    let env = policy.env(&req.env).expect("the caller checked the environment");
    let since = Instant::now();
    if env.approvals.required > 0 {
        let from = policy.graph.predecessors(&env.name);
        let why = format!(
            "{} needs {} approval(s): it is reached by promotion (from {}), not by a direct deploy; use `stagegate promote`",
            env.name,
            env.approvals.required,
            if from.is_empty() { "nowhere".to_string() } else { from.join(", ") }
        );
        return r.refuse(StepName::CheckEnv, since, Refusal::PromotionOnly(why));
    }
    r.record(StepName::CheckEnv, StepStatus::Ok, since, format!("{} takes direct deploys (no approvals)", env.name));
    let since = Instant::now();
    match policy.ref_verdict(&req.env, &req.git_ref) {
        RefVerdict::Allowed(p) => {
            let detail = format!("{} may deploy to {} (matches `{p}`)", req.git_ref, req.env);
            r.record(Check::Ref, StepStatus::Ok, since, detail);
        }
        RefVerdict::Refused(why) => return r.refuse(Check::Ref, since, Refusal::Ref(why)),
    }
    let holder = format!("deploy {} to {} by {} in run {}", req.release, req.env, req.actor, req.run_id);
    let lock = r.check_target(&req.env, &holder, deps).await?;
    r.check_freeze(env, req.override_reason.as_deref())?;
    // A change-controlled environment takes no deploy without its change,
    // direct or promoted.
    if env.change_required {
        r.check_change(&req.env, req.change.as_deref(), policy).await?;
    }
    Ok(lock)
}

pub async fn deploy(r: &mut Runner<'_>, policy: &Policy<'_>, req: &DeployRequest) -> Result<Report, RunError> {
    let env = policy.env(&req.env).expect("the caller checked the environment");
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
    let lock = match deploy_checks(r, policy, req, &deps).await {
        Ok(checked) => checked,
        Err(h) => return halted(r, Mode::Deployment, target, h),
    };
    let report = finish(r, Mode::Deployment, env, target, previous.as_ref()).await?;
    drop(lock);
    Ok(report)
}

/// `check-release`, `check-target`, `gate` of a rollback; the deployment to
/// return to.
async fn rollback_checks(
    r: &mut Runner<'_>,
    env: &Environment,
    req: &RollbackRequest,
    deps: &[Deployment],
) -> Result<(Deployment, Option<EnvLock>), Halt> {
    let current = history::current(deps).map(|c| c.request.release.clone());
    let chosen = match &req.to {
        Some(id) => history::good_of_release(deps, id),
        None => history::rollback_target(deps),
    };
    let since = Instant::now();
    let Some(chosen) = chosen.cloned() else {
        let why = match &req.to {
            Some(id) => format!("{id} never ran successfully in {}: promote it instead", req.env),
            None => match &current {
                Some(c) => format!(
                    "{env} has no earlier successful release to roll back to: nothing older than {c} ran successfully in {env} without being rolled back from (choose one with --to ID)",
                    env = req.env
                ),
                None => format!("{} has no earlier successful release to roll back to", req.env),
            },
        };
        return r.refuse(StepName::CheckRelease, since, Refusal::NoRollbackTarget(why));
    };
    let now = current.map_or("nothing".into(), |c| format!("{c} now"));
    let detail = format!("roll {} back to {} (deployment {}; {now})", req.env, chosen.request.release, chosen.id);
    r.record(StepName::CheckRelease, StepStatus::Ok, since, detail);
    let holder =
        format!("rollback of {} to {} by {} in run {}", req.env, chosen.request.release, req.actor, req.run_id);
    let lock = r.check_target(&req.env, &holder, deps).await?;
    if env.approvals.required > 0 {
        r.check_gate(env, &req.run_id, &req.actors, deps).await?;
    }
    Ok((chosen, lock))
}

pub async fn rollback(r: &mut Runner<'_>, policy: &Policy<'_>, req: &RollbackRequest) -> Result<Report, RunError> {
    let env = policy.env(&req.env).expect("the caller checked the environment");
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
    let (chosen, lock) = match rollback_checks(r, env, req, &deps).await {
        Ok(checked) => checked,
        Err(h) => return halted(r, Mode::Rollback, target, h),
    };
    target.release = chosen.request.release.clone();
    target.sha = chosen.request.sha.clone();
    target.git_ref = chosen.request.git_ref.clone();
    let report = finish(r, Mode::Rollback, env, target, current.as_ref()).await?;
    drop(lock);
    Ok(report)
}
