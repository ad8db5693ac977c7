//! `destroy --env T --ref BRANCH` and `prune --env T --older-than D`: an
//! ephemeral instance torn down, under its lock — every deployment still
//! standing marked `inactive`, the destroy hook (where the team drops the
//! instance's database and servers), then its GitHub environment deleted.
//! Each destroy is a run of its own: one report, one audit line.
//!
//! Deleting a GitHub environment takes an admin token or the App's
//! (`administration: write`); a workflow's `GITHUB_TOKEN` is refused. Then
//! the rest is done, the step says what token it needs, and the run still
//! succeeds: the instance is gone in every way stagegate controls.

use std::time::Instant;

use chrono::{DateTime, Utc};

use super::report::{Outcome, Report};
use super::{RunError, Runner, StepStatus, Target};
use crate::forge::{Deployment, DeploymentState, EnvDeleted, history};
use crate::plan::Teardown;
use crate::refusal::{Kind, Refusal};

pub struct DestroyRequest {
    /// The instance: its name is its branch.
    pub instance: String,
    pub actor: String,
    pub run_id: String,
    /// Why (`branch deleted`, `no deployment since …`): recorded in the audit trail.
    pub reason: String,
}

/// The newest deployment of an instance, when it was made: what `prune` ages it by.
pub fn last_deployed(deps: &[Deployment]) -> Option<DateTime<Utc>> {
    deps.iter().map(|d| d.request.at).max()
}

/// Destroys one instance.
pub async fn destroy(r: &mut Runner<'_>, req: &DestroyRequest) -> Result<Report, RunError> {
    r.reason = Some(req.reason.clone());
    let deps = r.fx.forge.deployments(&req.instance).await?;
    let current = history::current(&deps);
    let target = Target {
        env: req.instance.clone(),
        from: None,
        release: current.map(|c| c.request.release.clone()).unwrap_or_default(),
        sha: current.and_then(|c| c.request.sha.clone()),
        git_ref: Some(format!("refs/heads/{}", req.instance)),
        actor: req.actor.clone(),
        run_id: req.run_id.clone(),
        previous_release: None,
    };
    let holder = format!("destroy {} by {} in run {}", req.instance, req.actor, req.run_id);
    let held = r.take_target(&req.instance, &holder, &deps).await?;
    if let Some(busy) = held.busy {
        let refusal = Refusal::new(Kind::Busy, busy).unblock("wait for the run to end, then destroy again");
        let mut report = r.refused(crate::plan::Mode::Deployment, target, vec![refusal]);
        report.command = "destroy".into();
        return Ok(report);
    }
    deactivate(r, &deps).await?;
    if let Err(why) = r.hook(Teardown::Hook.into(), &target).await {
        let message =
            format!("destroy of {} failed: {why}; its environment is kept, so run destroy again", req.instance);
        return Ok(r.report("destroy", Outcome::Failed, target, message));
    }
    let kept = delete_environment(r, &req.instance).await?;
    drop(held.lock);
    let message = match kept {
        None => format!("{} is destroyed", req.instance),
        Some(why) => format!("{} is destroyed, but its GitHub environment stays: {why}", req.instance),
    };
    Ok(r.report("destroy", Outcome::Succeeded, target, message))
}

/// Marks every deployment that still stands (live, failed, in progress) inactive.
async fn deactivate(r: &mut Runner<'_>, deps: &[Deployment]) -> Result<(), RunError> {
    let since = Instant::now();
    let standing: Vec<&Deployment> = deps.iter().filter(|d| d.state() != DeploymentState::Inactive).collect();
    for d in &standing {
        let at = r.now();
        r.fx.forge.set_deployment_status(d, DeploymentState::Inactive, history::DESTROYED, at).await?;
    }
    let (status, verb) =
        if r.fx.writes.is_dry_run() { (StepStatus::Planned, "would mark") } else { (StepStatus::Ok, "marked") };
    let detail = format!("{verb} {} deployment(s) inactive ({} in all)", standing.len(), deps.len());
    r.record(Teardown::Deactivate, status, since, detail);
    Ok(())
}

/// Deletes the instance's environment on the forge; `Some(why)` when it stays.
async fn delete_environment(r: &mut Runner<'_>, name: &str) -> Result<Option<String>, RunError> {
    let since = Instant::now();
    let step = Teardown::DeleteEnvironment;
    match r.fx.forge.delete_environment(name).await? {
        EnvDeleted::Deleted if r.fx.writes.is_dry_run() => {
            r.record(step, StepStatus::Planned, since, format!("would delete `{name}`"))
        }
        EnvDeleted::Deleted => r.record(step, StepStatus::Ok, since, format!("deleted environment `{name}`")),
        EnvDeleted::Absent => {
            r.record(step, StepStatus::Skipped, since, format!("no environment `{name}` on the forge"))
        }
        EnvDeleted::NotAllowed { status, message } => {
            let why = format!(
                "GitHub answered {status} ({message}): deleting an environment needs an admin token or the stagegate App's (administration: write); a workflow's GITHUB_TOKEN may not. Delete it in Settings → Environments, or run destroy again with such a token"
            );
            tracing::warn!("{why}");
            r.record(step, StepStatus::Skipped, since, why.clone());
            return Ok(Some(why));
        }
    }
    Ok(None)
}
