//! The steps every run shares once pre-flight has passed: start the
//! deployment record, deploy and verify, record success — or roll back.
//!
//! Records are written so that none is left half-done: the new deployment is
//! `in_progress` while hooks run, then `success` (and the one it replaced
//! `inactive`) or `failure`; a rollback is a deployment of its own.

use std::time::Instant;

use super::failure::StepError;
use super::health::Probe;
use super::{Runner, StepStatus, Target, interrupt};
use crate::config::{Environment, HealthCheck};
use crate::forge::{Deployment, DeploymentId, DeploymentState, ForgeError, NewDeployment};
use crate::plan::{Act, Mode, Recover, StepName};
use crate::run::report::Outcome;

/// How often a health check that keeps failing says so while it is retried.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

impl Runner<'_> {
    /// Creates the deployment record and marks it in progress. A recovery's
    /// record says why it rolls back (`rollback_reason`).
    pub async fn start(
        &mut self,
        t: &Target,
        description: &str,
        rollback_of: Option<u64>,
        rollback_reason: Option<&str>,
    ) -> Result<Deployment, ForgeError> {
        let at = self.now();
        let mut verdict = self.kept_verdict();
        verdict.rollback_reason = rollback_reason.map(crate::forge::verdict::Text::lossy);
        let d = self
            .fx
            .forge
            .create_deployment(&NewDeployment {
                environment: t.env.clone(),
                release: t.release.clone(),
                git_ref: t.git_ref.clone(),
                sha: t.sha.clone(),
                creator: t.actor.clone(),
                description: description.to_owned(),
                run_id: t.run_id.clone(),
                from: t.from.clone(),
                rollback_of,
                reason: self.reason.clone(),
                at,
                environment_url: self.cfg.environments.iter().find(|e| e.name == t.env).and_then(|e| e.url.clone()),
                log_url: crate::actions::this_run_url(&t.run_id),
                verdict: Some(verdict),
            })
            .await?;
        self.fx.forge.set_deployment_status(&d, DeploymentState::InProgress, description, at).await?;
        Ok(d)
    }

    /// One health check as step `name`, retried until `startup` after
    /// `deployed`.
    pub async fn health(&mut self, check: &HealthCheck, name: StepName, deployed: Instant) -> Result<(), StepError> {
        let since = Instant::now();
        if self.fx.writes.is_dry_run() {
            let what = format!("would GET {} expecting {}", check.http, check.expect);
            self.record(name, StepStatus::Planned, since, what);
            return Ok(());
        }
        let deadline = tokio::time::Instant::from_std(deployed + self.cfg.steps.startup_timeout);
        let (sink, mut said) = (self.sink(), None);
        let mut progress = |p: &Probe, left: std::time::Duration| {
            // The first miss, then at most one line every 10 seconds.
            if said.is_some_and(|t: Instant| t.elapsed() < PROGRESS_EVERY) {
                return;
            }
            said = Some(Instant::now());
            sink.line(&format!(
                "    … GET {} → {} (expected {}), try {}; trying again for up to {}s",
                p.url,
                p.got(),
                p.expect,
                p.tries,
                left.as_secs().max(1)
            ));
        };
        // SIGINT/SIGTERM stop a long startup wait too (see `interrupt`).
        let probe = tokio::select! {
            p = self.fx.hooks.probe(check, self.cfg.steps.health_check_timeout, deadline, &mut progress) => p,
            signal = interrupt::wait() => {
                let why = StepError::HealthStopped { url: check.http.clone(), signal: signal.name() };
                return Err(self.failed(name, since, why));
            }
        };
        if probe.ok {
            self.record(name, StepStatus::Ok, since, probe.describe());
            Ok(())
        } else {
            Err(self.failed(name, since, StepError::Unhealthy(probe.describe())))
        }
    }

    /// The recovery's redeploy: deploy hook, health checks, verify hook.
    async fn redeploy(&mut self, env: &Environment, t: &Target) -> Result<(), StepError> {
        self.hook(Recover::Deploy.into(), t).await?;
        let deployed = Instant::now();
        for (i, check) in env.health.iter().enumerate() {
            self.health(check, Recover::Health(i).into(), deployed).await?;
        }
        self.hook(Recover::Verify.into(), t).await
    }

    /// Marks `d` successful and the deployment it replaced inactive.
    pub async fn succeed(
        &mut self,
        name: StepName,
        d: &Deployment,
        replaced: Option<&Deployment>,
    ) -> Result<(), ForgeError> {
        let since = Instant::now();
        let at = self.now();
        let what = format!("{} is live in {}", d.request.release, d.request.environment);
        self.fx.forge.set_deployment_status(d, DeploymentState::Success, &self.with_hooks(&what), at).await?;
        if let Some(old) = replaced.filter(|o| o.id != d.id) {
            let why = if self.fx.writes.is_dry_run() {
                format!("replaced by {}", d.request.release)
            } else {
                format!("replaced by {} (deployment {})", d.request.release, d.id)
            };
            self.fx.forge.set_deployment_status(old, DeploymentState::Inactive, &why, at).await?;
        }
        if self.fx.writes.is_dry_run() {
            self.record(name, StepStatus::Planned, since, format!("would record that {what}"));
        } else {
            self.record(name, StepStatus::Ok, since, format!("{what} (deployment {})", d.id));
        }
        Ok(())
    }

    /// `what` and the hooks that ran, for the record's last status (GitHub
    /// statuses carry no payload): `… is live in prod; hooks ok: backup,
    /// deploy, verify`. The audit trail keeps each hook's detail.
    fn with_hooks(&self, what: &str) -> String {
        let ran: Vec<&str> = self
            .steps
            .iter()
            .filter(|s| s.status == StepStatus::Ok)
            .filter_map(|s| s.name.hook())
            .map(|h| h.as_str())
            .collect();
        if ran.is_empty() { what.to_owned() } else { format!("{what}; hooks ok: {}", ran.join(", ")) }
    }

    pub async fn fail(&mut self, d: &Deployment, why: &str) -> Result<(), ForgeError> {
        let at = self.now();
        self.fx.forge.set_deployment_status(d, DeploymentState::Failure, why, at).await
    }

    /// After a failure once the deploy started (`why`): the rollback hook,
    /// then a redeploy of `previous` (when there is one) verified again.
    /// Returns what happened, in words, and whether the environment is
    /// healthy again.
    pub async fn roll_back(
        &mut self,
        env: &Environment,
        failed: &Target,
        previous: Option<&Deployment>,
        failed_id: DeploymentId,
        why: &str,
    ) -> Result<(String, bool), ForgeError> {
        // With nothing to go back to, the rollback hook restores its backup; it
        // gets an empty STAGEGATE_RELEASE.
        let restore = Target {
            release: previous.map_or(String::new(), |p| p.request.release.clone()),
            sha: previous.and_then(|p| p.request.sha.clone()),
            git_ref: previous.and_then(|p| p.request.git_ref.clone()),
            previous_release: Some(failed.release.clone()),
            ..failed.clone()
        };
        if let Err(why) = self.hook(Recover::Hook.into(), &restore).await {
            return Ok((format!("the rollback hook failed too ({why}); {} needs a person", env.name), false));
        }
        let Some(prev) = previous else {
            return Ok((format!("{} had no earlier successful release to redeploy", env.name), false));
        };
        let description = format!("rollback of {} to {}", failed.release, prev.request.release);
        let reason = format!("{} failed: {why}", failed.release);
        let d = self.start(&restore, &description, failed_id.recorded(), Some(&reason)).await?;
        match self.redeploy(env, &restore).await {
            Ok(()) => {
                self.succeed(Recover::Record.into(), &d, Some(prev)).await?;
                Ok((format!("rolled back to {} (healthy again)", prev.request.release), true))
            }
            Err(why) => {
                self.fail(&d, &why.to_string()).await?;
                Ok((format!("the rollback to {} failed too: {why}", prev.request.release), false))
            }
        }
    }
}

/// How the execution part of a run ended.
pub struct Executed {
    pub outcome: Outcome,
    pub message: String,
    pub deployment_id: Option<u64>,
}

impl Runner<'_> {
    /// Runs the execution steps of a run, in the plan's order: `backup` (or
    /// a rollback's hook), `deploy`, each `health`, `verify`, `record`. The
    /// deployment record is created before the first of them; a failure once
    /// `deploy` has started rolls back to `previous`, except in a rollback run.
    pub async fn execute(
        &mut self,
        env: &Environment,
        t: &Target,
        previous: Option<&Deployment>,
        steps: &[Act],
        mode: Mode,
    ) -> Result<Executed, ForgeError> {
        let what = mode.noun();
        let description = match mode {
            Mode::Rollback => format!("rollback of {} to {}", t.env, t.release),
            Mode::Promotion | Mode::Deployment => format!("{what} of {} to {}", t.release, t.env),
        };
        // From here on SIGINT/SIGTERM no longer end stagegate where it stands:
        // they stop the step under way, and the run records how it ended.
        if !self.fx.writes.is_dry_run() {
            interrupt::install();
        }
        // A rollback records what it undoes, so the next one goes further back.
        let undoes = if mode == Mode::Rollback { previous.and_then(|p| p.id.recorded()) } else { None };
        let d = self.start(t, &description, undoes, None).await?;
        let mut deployed = Instant::now();
        let mut started_deploy = false;
        let mut failure = None;
        for &step in steps {
            let result = match step {
                Act::Create | Act::Backup | Act::Rollback | Act::Verify => self.hook(step.into(), t).await,
                Act::Deploy => {
                    started_deploy = true;
                    let r = self.hook(step.into(), t).await;
                    deployed = Instant::now();
                    r
                }
                Act::Health(i) => match env.health.get(i) {
                    Some(c) => self.health(c, step.into(), deployed).await,
                    None => Err(StepError::NoHealthCheck { env: env.name.clone(), number: i + 1 }),
                },
                Act::Record => {
                    self.succeed(step.into(), &d, previous).await?;
                    Ok(())
                }
            };
            if let Err(why) = result {
                failure = Some(why);
                break;
            }
        }
        let id = d.id.recorded();
        let Some(why) = failure else {
            if self.fx.writes.is_dry_run() {
                let message =
                    format!("dry run: the checks pass; nothing was changed ({description} would run the steps above)");
                return Ok(Executed { outcome: Outcome::Planned, message, deployment_id: None });
            }
            let message = format!(
                "{} is live in {} ({what} took {:.1}s)",
                t.release,
                t.env,
                self.started.elapsed().as_secs_f64()
            );
            return Ok(Executed { outcome: Outcome::Succeeded, message, deployment_id: id });
        };
        self.fail(&d, &why.to_string()).await?;
        let kept = previous.map_or("nothing".to_string(), |p| p.request.release.clone());
        if mode == Mode::Rollback {
            let message = format!("{what} of {} to {} failed: {why}; {} needs a person", t.release, t.env, t.env);
            return Ok(Executed { outcome: Outcome::Failed, message, deployment_id: id });
        }
        if !started_deploy {
            let message = format!(
                "{what} of {} to {} failed before deploying: {why}; {} still runs {kept}",
                t.release, t.env, t.env
            );
            return Ok(Executed { outcome: Outcome::Failed, message, deployment_id: id });
        }
        let (rolled, healthy) = self.roll_back(env, t, previous, d.id, &why.to_string()).await?;
        let outcome = if healthy { Outcome::RolledBack } else { Outcome::Failed };
        let message = format!("{what} of {} to {} failed: {why}; {rolled}", t.release, t.env);
        Ok(Executed { outcome, message, deployment_id: id })
    }
}
