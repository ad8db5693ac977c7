//! `promote --from A --to B --release ID`: the check registry for a promotion,
//! then the plan's execution steps for real.
//!
//! Pre-flight (path, release and its ref, source current and healthy, target
//! free, freeze, soak, change, gate) refuses before anything changes; then
//! backup, deploy, health, verify, record — or, on a failure once the deploy
//! has started, rollback.

use super::flow::Executed;
use super::report::Report;
use super::{RunError, Runner, Target, health};
use crate::checks::{ApprovalsFact, Facts, RefFact, Source, Surface};
use crate::config::{Environment, Purpose};
use crate::forge::{history, hold};
use crate::plan::{self, Mode, PlanStep};
use crate::policy::Policy;

pub struct Request {
    pub from: String,
    pub to: String,
    pub release: String,
    pub actor: String,
    /// The actor and the triggering actor (never count as reviewers).
    pub actors: Vec<String>,
    pub run_id: String,
    pub override_reason: Option<String>,
    /// The ServiceNow change (`--change CHG…`) for targets with `change: required`.
    pub change: Option<String>,
}

/// Promotes `req.release` from `from_env` to `target_env` (both resolved
/// against the config by the caller).
pub async fn promote(
    r: &mut Runner<'_>,
    policy: &Policy<'_>,
    (from_env, target_env): (&Environment, &Environment),
    req: &Request,
) -> Result<Report, RunError> {
    let from_deps = r.fx.forge.recent_deployments(&req.from).await?;
    // A release deployed before what A runs now: the whole history, so the
    // refusal names what A runs rather than calling the release unknown.
    let from_deps = match history::of_release(&from_deps, &req.release) {
        Some(_) => from_deps,
        None => r.fx.forge.deployments(&req.from).await?,
    };
    let to_deps = r.fx.forge.recent_deployments(&req.to).await?;
    let source = history::of_release(&from_deps, &req.release).cloned();
    let previous = history::current(&to_deps).cloned();
    let target = Target {
        env: req.to.clone(),
        from: Some(req.from.clone()),
        release: req.release.clone(),
        sha: source.as_ref().and_then(|d| d.request.sha.clone()),
        git_ref: source.as_ref().and_then(|d| d.request.git_ref.clone()),
        actor: req.actor.clone(),
        run_id: req.run_id.clone(),
        previous_release: previous.as_ref().map(|p| p.request.release.clone()),
    };
    // The source's health matters only while it runs the release.
    let runs_it = history::current(&from_deps).is_some_and(|d| d.request.release == req.release);
    let steps = &r.cfg.steps;
    let probes = match runs_it && policy.graph.allows(&req.from, &req.to) {
        true => Some(health::probe_all(&from_env.health, steps.health_check_timeout, steps.health_check_timeout).await),
        false => None,
    };
    let holder = format!("promote {} → {} of {} by {} in run {}", req.from, req.to, req.release, req.actor, req.run_id);
    // Held to the end of the run.
    let held = r.take_target(&req.to, &holder, &to_deps).await?;
    let change = r.change_fact(target_env, req.change.as_deref()).await?;
    let approvals = r.count_approvals(target_env, &req.run_id, &req.actors, &to_deps, Purpose::Promotion).await?;
    let hold = hold::current(r.fx.forge.as_ref(), &req.to, r.now()).await?;
    let facts = Facts {
        source: Source::Env(from_env),
        release: Some(&req.release),
        git_ref: RefFact::Recorded,
        from_deployments: Some(&from_deps),
        to_deployments: &to_deps,
        source_health: probes.as_deref().map(health::summary),
        lock_busy: held.busy,
        abandoned: held.abandoned,
        override_reason: req.override_reason.as_deref(),
        change,
        approvals: approvals.as_ref().map(|(verdict, unblock)| ApprovalsFact { verdict, unblock: unblock.clone() }),
        hold: hold.as_ref(),
        ..Facts::new(policy, target_env, r.now())
    };
    let blockers = r.decide(Surface::Promote, &facts);
    if !blockers.is_empty() {
        return Ok(r.refused(Mode::Promotion, target, blockers));
    }
    let release_text = format!("release {}", req.release);
    let execution: Vec<_> = plan::act_steps(policy, target_env, &release_text)
        .into_iter()
        .filter_map(|s| match s.name {
            PlanStep::Act(a) => Some(a),
            PlanStep::Check(_) | PlanStep::Rollback => None,
        })
        .collect();
    let Executed { outcome, message, deployment_id } =
        r.execute(target_env, &target, previous.as_ref(), &execution, Mode::Promotion).await?;
    let mut report = r.report(Mode::Promotion.command(), outcome, target, message);
    report.deployment_id = deployment_id;
    drop(held.lock);
    Ok(report)
}
