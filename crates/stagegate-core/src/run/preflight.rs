//! Pre-flight checks, each a step that either passes with a detail or refuses
//! the run (exit 3) before anything has changed: the target is free, not
//! frozen, approved.

use std::time::Instant;

use chrono::{DateTime, Utc};

use super::audit::FreezeOverride;
use super::lock::{self, Acquire, EnvLock};
use super::{RunError, Runner, StepStatus};
use crate::config::{Environment, Reviewer};
use crate::forge::history;
use crate::forge::{Deployment, DeploymentState, Forge, ForgeError, ForgeKind};
use crate::gates::approvals::{self, Teams, Verdict};
use crate::gates::freeze;
use crate::plan::{Check, StepName, known};
use crate::refusal::Refusal;

/// Why a run stopped early.
pub enum Halt {
    /// Refused by policy (exit 3); the step is recorded with this reason.
    Refused(Refusal),
    /// Could not check (state not readable, …).
    Failed(RunError),
}

impl<E: Into<RunError>> From<E> for Halt {
    fn from(e: E) -> Halt {
        Halt::Failed(e.into())
    }
}

/// The members of the environment's reviewer teams, as the forge answers.
pub async fn reviewer_teams(forge: &dyn Forge, env: &Environment) -> Result<Teams, ForgeError> {
    let mut teams = Teams::new();
    for r in &env.approvals.reviewers {
        if let Reviewer::Team { org, slug } = r {
            let members = forge.team_members(org, slug).await?;
            teams.insert(approvals::team_key(org, slug), members.into_iter().map(|m| m.to_lowercase()).collect());
        }
    }
    Ok(teams)
}

/// Reads the run's reviews and team membership, and evaluates the gate.
pub async fn gate_verdict(
    forge: &dyn Forge,
    env: &Environment,
    run_id: &str,
    actors: &[String],
    deployments: &[Deployment],
    now: DateTime<Utc>,
) -> Result<Verdict, ForgeError> {
    let reviews = approvals::unused(forge.approvals(run_id).await?, deployments, run_id);
    let teams = reviewer_teams(forge, env).await?;
    // On GitHub the environment's wait timer is GitHub's own protection rule
    // (`environments sync` sets it): the job starts only once it has run out,
    // and the review history carries no times to measure it by.
    let mut policy = env.approvals.clone();
    if forge.kind() == ForgeKind::Github {
        policy.wait_timer = None;
    }
    Ok(approvals::evaluate(&approvals::Input {
        env: &env.name,
        policy: &policy,
        approvals: &reviews,
        actors,
        teams: &teams,
        now,
    }))
}

impl Runner<'_> {
    pub fn refuse<T>(&mut self, name: impl Into<StepName>, since: Instant, refusal: Refusal) -> Result<T, Halt> {
        self.record(name, StepStatus::Refused, since, refusal.message());
        Err(Halt::Refused(refusal))
    }

    /// `check-target`: takes the environment's lock (not in a dry run) and
    /// makes sure no deployment to it is in progress. On the local forge a
    /// deployment left `in_progress` while nobody holds the lock belongs to a
    /// run that died: it is marked `error`, not waited for.
    pub async fn check_target(
        &mut self,
        env: &str,
        holder: &str,
        deps: &[Deployment],
    ) -> Result<Option<EnvLock>, Halt> {
        let since = Instant::now();
        let held = if self.dry_run() {
            None
        } else {
            match lock::acquire(&self.fx.state, env, holder)
                .map_err(|source| RunError::Io { action: format!("lock {env}"), source })?
            {
                Acquire::Held(l) => Some(l),
                Acquire::Busy(busy) => {
                    let why = busy.describe(env, &lock::path(&self.fx.state, env));
                    return self.refuse(Check::Target, since, Refusal::Busy(why));
                }
            }
        };
        let mut notes = Vec::new();
        let local = self.fx.forge.kind() == ForgeKind::Local && held.is_some();
        for d in history::running(deps).filter(|_| local) {
            let why = "abandoned: the run that started it ended without finishing";
            self.fx.forge.set_deployment_status(d, DeploymentState::Error, why, self.now()).await?;
            notes.push(format!(
                "deployment {} ({}) was abandoned by a run that died; marked error",
                d.id, d.request.release
            ));
        }
        if !local && let Err(why) = known::target_idle(env, deps) {
            return self.refuse(Check::Target, since, why);
        }
        let detail =
            if notes.is_empty() { format!("no other deployment to {env} is in progress") } else { notes.join("; ") };
        self.record(Check::Target, StepStatus::Ok, since, detail);
        Ok(held)
    }

    /// `check-freeze`: refuses inside a window unless overridden where allowed.
    pub fn check_freeze(&mut self, env: &Environment, reason: Option<&str>) -> Result<(), Halt> {
        let since = Instant::now();
        match freeze::decide(env, self.now(), reason) {
            freeze::Decision::Clear => {
                self.record(Check::Freeze, StepStatus::Ok, since, format!("{} is not frozen", env.name));
                Ok(())
            }
            freeze::Decision::Overridden { window, reason } => {
                let detail = format!("freeze `{window}` overridden: {reason}");
                self.record(Check::Freeze, StepStatus::Ok, since, detail);
                self.freeze_override = Some(FreezeOverride { window, reason });
                Ok(())
            }
            freeze::Decision::Refused(why) => self.refuse(Check::Freeze, since, Refusal::Frozen(why)),
        }
    }

    /// `check-change`: the ServiceNow change named by `--change` is approved and
    /// its implement window is open. Not found, not approved, outside the
    /// window: refused (exit 3); ServiceNow unreachable or refusing the
    /// credentials: failed (exit 1).
    pub async fn check_change(
        &mut self,
        env: &str,
        change: Option<&str>,
        policy: &crate::policy::Policy<'_>,
    ) -> Result<(), Halt> {
        let since = Instant::now();
        let Some(number) = change else {
            return self.refuse(Check::Change, since, known::change_missing(env));
        };
        let cfg = policy.config;
        let instance = cfg.servicenow.as_ref().map(|s| s.instance.as_str());
        let fields = policy.env(env).map_or(&[][..], |e| cfg.change_match(e));
        match crate::gates::servicenow::change_state(instance, number, self.now(), fields).await? {
            Ok(detail) => {
                self.record(Check::Change, StepStatus::Ok, since, detail);
                self.change = Some(number.to_owned());
                Ok(())
            }
            Err(refusal) => self.refuse(Check::Change, since, refusal),
        }
    }

    /// `gate` (and `wait-timer`): the approvals of this run.
    pub async fn check_gate(
        &mut self,
        env: &Environment,
        run_id: &str,
        actors: &[String],
        deps: &[Deployment],
    ) -> Result<(), Halt> {
        let since = Instant::now();
        let v = gate_verdict(self.fx.forge.as_ref(), env, run_id, actors, deps, self.now()).await?;
        self.gate = Some(v.clone());
        let table = crate::gates::render(&self.out, &v);
        if !v.passed {
            self.sink().line(&table);
            let how = crate::gates::unblock::approvals(env, run_id, self.fx.forge.kind());
            return self.refuse(Check::Gate, since, Refusal::Approvals(format!("{}; {how}", v.reasons.join("; "))));
        }
        let who: Vec<String> =
            v.reviews.iter().filter(|r| r.counted).map(|r| format!("{} ({})", r.user, r.why)).collect();
        self.record(
            Check::Gate,
            StepStatus::Ok,
            since,
            format!("{}/{} approved: {}", v.counted, v.required, who.join(", ")),
        );
        if let Some(open) = v.opens_at {
            self.record(
                Check::WaitTimer,
                StepStatus::Ok,
                since,
                format!("opened at {}", open.format("%Y-%m-%d %H:%M:%S UTC")),
            );
        }
        Ok(())
    }
}
