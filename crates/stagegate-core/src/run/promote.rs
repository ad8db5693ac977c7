//! `promote --from A --to B --release ID`: the plan's steps, in order, for real.
//!
//! Pre-flight (path, release and its ref, source current and healthy, target
//! free, freeze, soak, gate) refuses before anything changes; then backup,
//! deploy, health, verify, record — or, on a failure once the deploy has
//! started, rollback.

use std::time::Instant;

use super::flow::Executed;
use super::preflight::Halt;
use super::report::Report;
use super::{RunError, Runner, StepStatus, Target, health};
use crate::forge::Deployment;
use crate::forge::history;
use crate::plan::{self, Check, Mode, PlanStep, known};
use crate::policy::{GitRef, Policy};
use crate::refusal::Refusal;

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

pub async fn promote(r: &mut Runner<'_>, policy: &Policy<'_>, req: &Request) -> Result<Report, RunError> {
    let target_env = policy.env(&req.to).expect("the caller checked the environment");
    let from_deps = r.fx.forge.recent_deployments(&req.from).await?;
    // A release deployed before what A runs now: the whole history, so the
    // refusal names what A runs rather than calling the release unknown.
    let from_deps = match history::of_release(&from_deps, &req.release) {
        Some(_) => from_deps,
        None => r.fx.forge.deployments(&req.from).await?,
    };
    let to_deps = r.fx.forge.recent_deployments(&req.to).await?;
    let source = history::of_release(&from_deps, &req.release).cloned();
    let git_ref = source.as_ref().and_then(|d| d.request.git_ref.as_deref()).and_then(|s| GitRef::parse(s).ok());
    let plan = plan::build(policy, &req.from, &req.to, Some(&req.release), git_ref.as_ref());
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
    // Held from `check-target` to the end of the run.
    let mut lock = None;
    let mut execution = Vec::new();
    let mut blockers = Vec::new();
    for step in &plan.steps {
        let check = match step.name {
            PlanStep::Check(c) => c,
            PlanStep::Act(a) => {
                execution.push(a);
                continue;
            }
            // Run by `execute` when a step after the deploy's start fails.
            PlanStep::Rollback => continue,
        };
        let result = match check {
            Check::Path => check_path(r, policy, req),
            Check::Ref => check_ref(r, policy, req, source.as_ref()),
            Check::Source => check_source(r, policy, req, &from_deps).await,
            Check::Target => {
                let holder = format!(
                    "promote {} → {} of {} by {} in run {}",
                    req.from, req.to, req.release, req.actor, req.run_id
                );
                r.check_target(&req.to, &holder, &to_deps).await.map(|l| lock = l)
            }
            Check::Freeze => r.check_freeze(target_env, req.override_reason.as_deref()),
            Check::Soak => check_soak(r, policy, req, &from_deps),
            Check::Change => r.check_change(&req.to, req.change.as_deref(), policy).await,
            Check::Gate => r.check_gate(target_env, &req.run_id, &req.actors, &to_deps).await,
            // Recorded by the gate, which knows when the timer opened.
            Check::WaitTimer => Ok(()),
        };
        // Every check runs, so a freeze does not hide missing approvals; but
        // an illegal path leaves nothing else to say.
        match result {
            Ok(()) => {}
            Err(Halt::Refused(why)) if check == Check::Path => {
                return Ok(r.refused(Mode::Promotion, target, vec![why]));
            }
            Err(Halt::Refused(why)) => blockers.push(why),
            Err(Halt::Failed(e)) => return Err(e),
        }
    }
    if !blockers.is_empty() {
        return Ok(r.refused(Mode::Promotion, target, blockers));
    }
    let Executed { outcome, message, deployment_id } =
        r.execute(target_env, &target, previous.as_ref(), &execution, Mode::Promotion).await?;
    let mut report = r.report(Mode::Promotion.command(), outcome, target, message);
    report.deployment_id = deployment_id;
    drop(lock);
    Ok(report)
}

fn check_path(r: &mut Runner, policy: &Policy, req: &Request) -> Result<(), Halt> {
    let since = Instant::now();
    match policy.edge_refusal(&req.from, &req.to) {
        Some(why) => r.refuse(Check::Path, since, Refusal::Path(why)),
        None => {
            r.record(Check::Path, StepStatus::Ok, since, format!("{} → {} is an allowed promotion", req.from, req.to));
            Ok(())
        }
    }
}

/// Records a check answered from what is known: its detail, or the refusal.
fn settle(r: &mut Runner, check: Check, since: Instant, outcome: known::Outcome) -> Result<(), Halt> {
    match outcome {
        Ok(detail) => {
            r.record(check, StepStatus::Ok, since, detail);
            Ok(())
        }
        Err(why) => r.refuse(check, since, why),
    }
}

fn check_ref(r: &mut Runner, policy: &Policy, req: &Request, source: Option<&Deployment>) -> Result<(), Halt> {
    let since = Instant::now();
    let outcome = known::source_release(&req.from, &req.release, source.map_or(&[][..], std::slice::from_ref))
        .and_then(|d| known::release_ref(policy, &req.to, &req.release, d));
    settle(r, Check::Ref, since, outcome)
}

/// The release must be what A runs now, successfully, and A must answer its
/// health checks now.
async fn check_source(r: &mut Runner<'_>, policy: &Policy<'_>, req: &Request, deps: &[Deployment]) -> Result<(), Halt> {
    let since = Instant::now();
    let from = &req.from;
    if let Err(why) = known::source_current(from, &req.release, deps) {
        return r.refuse(Check::Source, since, why);
    }
    let env = policy.env(from).expect("checked");
    let steps = &r.cfg.steps;
    let probes = health::probe_all(&env.health, steps.health_check_timeout, steps.health_check_timeout).await;
    if let Some(bad) = probes.iter().find(|p| !p.ok) {
        let why = format!("{from} is not healthy now: {}", bad.describe());
        return r.refuse(Check::Source, since, Refusal::Unhealthy(why));
    }
    let health = if probes.is_empty() { String::new() } else { format!(", {} health check(s) pass", probes.len()) };
    r.record(Check::Source, StepStatus::Ok, since, format!("{} is live in {from}{health}", req.release));
    Ok(())
}

/// Soak is measured only for the release the source runs; when it runs
/// another one, `check-source` has said so.
fn check_soak(r: &mut Runner, policy: &Policy, req: &Request, deps: &[Deployment]) -> Result<(), Halt> {
    let since = Instant::now();
    match known::soaked(policy, &req.from, &req.to, &req.release, deps, r.now()) {
        Some(outcome) => settle(r, Check::Soak, since, outcome),
        None => {
            let why = format!("{} does not run {}: nothing to measure", req.from, req.release);
            r.record(Check::Soak, StepStatus::Skipped, since, why);
            Ok(())
        }
    }
}
