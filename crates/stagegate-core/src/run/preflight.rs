//! Pre-flight: what a run gathers for the check registry (the lock, the
//! change, the run's approvals) and the one loop that asks the registry and
//! records each check as a step that passes with a detail or refuses the run
//! (exit 3) before anything has changed.

use std::time::Instant;

use chrono::{DateTime, Utc};

use super::audit::FreezeOverride;
use super::lock::{self, Acquire, EnvLock};
use super::{RunError, Runner, StepStatus};
use crate::checks::{self, ChangeFact, Evaluated, Facts, Outcome, Surface};
use crate::config::{Environment, Purpose, Reviewer};
use crate::effects::Writes;
use crate::forge::history;
use crate::forge::{Deployment, DeploymentState, Forge, ForgeError, ForgeKind};
use crate::gates::approvals::{self, Teams, Verdict};
use crate::gates::freeze::{Decision, decide};
use crate::plan::{Check, StepName};
use crate::refusal::Refusal;

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
    purpose: Purpose,
) -> Result<Verdict, ForgeError> {
    let reviews = approvals::unused(forge.approvals(run_id).await?, deployments, run_id);
    let teams = reviewer_teams(forge, env).await?;
    // On GitHub the environment's wait timer is GitHub's own protection rule
    // (`environments sync` sets it): the job starts only once it has run out,
    // and the review history carries no times to measure it by.
    let mut policy = env.approvals_for(purpose);
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

/// What `check-target` found: the lock (held by this run, not in a dry run),
/// who else holds it, and the abandoned deployments it marked failed.
pub struct TargetState {
    pub lock: Option<EnvLock>,
    pub busy: Option<String>,
    pub abandoned: Option<Vec<String>>,
}

impl Runner<'_> {
    /// Takes the environment's lock (in a dry run: only looks whether another
    /// run holds it). On the local forge a deployment left `in_progress`
    /// while nobody holds the lock belongs to a run that died: it is marked
    /// `error`, not waited for.
    pub async fn take_target(&mut self, env: &str, holder: &str, deps: &[Deployment]) -> Result<TargetState, RunError> {
        let io = |source| RunError::Io { action: format!("lock {env}"), source };
        // Whether to take the lock is the seam's to say: a dry run only looks.
        let taken = match &self.fx.writes {
            Writes::DryRun(_) => lock::inspect(&self.fx.state, env).map_or(Ok(None), |b| Err(Box::new(b))),
            Writes::Apply => match lock::acquire(&self.fx.state, env, holder).map_err(io)? {
                Acquire::Held(l) => Ok(Some(l)),
                Acquire::Busy(busy) => Err(busy),
            },
        };
        let held = match taken {
            Ok(held) => held,
            Err(busy) => {
                let why = busy.describe(env, &lock::path(&self.fx.state, env));
                return Ok(TargetState { lock: None, busy: Some(why), abandoned: None });
            }
        };
        if self.fx.forge.kind() != ForgeKind::Local || held.is_none() {
            return Ok(TargetState { lock: held, busy: None, abandoned: None });
        }
        let mut notes = Vec::new();
        for d in history::running(deps) {
            let why = "abandoned: the run that started it ended without finishing";
            self.fx.forge.set_deployment_status(d, DeploymentState::Error, why, self.now()).await?;
            notes.push(format!(
                "deployment {} ({}) was abandoned by a run that died; marked error",
                d.id, d.request.release
            ));
        }
        Ok(TargetState { lock: held, busy: None, abandoned: Some(notes) })
    }

    /// The ServiceNow change named by `--change`, looked up when `env`
    /// requires one. Not found, not approved, outside the window: a refusal;
    /// ServiceNow unreachable or refusing the credentials: an error (exit 1).
    /// An approved change is kept for the hooks and the deployment record.
    pub async fn change_fact(&mut self, env: &Environment, change: Option<&str>) -> Result<ChangeFact, RunError> {
        let Some(number) = change.filter(|_| env.change_required) else { return Ok(ChangeFact::Missing) };
        let instance = self.cfg.servicenow.as_ref().map(|s| s.instance.as_str());
        let checked =
            crate::gates::servicenow::approved_change(instance, number, self.now(), self.cfg.change_match(env)).await?;
        self.change = checked.as_ref().ok().cloned();
        Ok(ChangeFact::Checked(checked.map(|c| c.detail())))
    }

    /// The run's approvals, counted (when `env` needs any). Kept for the
    /// report, and for the review table printed when they do not pass.
    pub async fn count_approvals(
        &mut self,
        env: &Environment,
        run_id: &str,
        actors: &[String],
        deps: &[Deployment],
        purpose: Purpose,
    ) -> Result<Option<(Verdict, String)>, RunError> {
        if env.approvals_for(purpose).required == 0 {
            return Ok(None);
        }
        let v = gate_verdict(self.fx.forge.as_ref(), env, run_id, actors, deps, self.now(), purpose).await?;
        self.gate = Some(v.clone());
        let how = crate::gates::unblock::approvals(env, run_id, self.fx.forge.kind());
        Ok(Some((v, how)))
    }

    /// Asks the registry for `surface` and records each check as a step
    /// (up to a decisive refusal). Every other check runs, so a freeze does
    /// not hide missing approvals.
    /// Returns every blocker; keeps what passing checks tell the rest of the
    /// run (a freeze override, the change).
    pub fn decide(&mut self, surface: Surface, facts: &Facts) -> Vec<Refusal> {
        let evaluated = checks::evaluate(surface, facts);
        let evaluated = checks::until_decisive(&evaluated);
        let mut blockers = Vec::new();
        let mut i = 0;
        while i < evaluated.len() {
            let Some(step) = evaluated[i].rule.step() else {
                i += 1;
                continue;
            };
            // The checks a run records as one step (the source's release and health).
            let group: Vec<&Evaluated> = evaluated[i..].iter().take_while(|e| e.rule.step() == Some(step)).collect();
            i += group.len();
            self.record_checks(step, &group, &mut blockers);
        }
        if let Some(Decision::Overridden { window, reason }) = (!(facts.to.freeze.is_empty()
            && facts.to.deploy_windows.is_empty()))
        .then(|| decide(facts.to, facts.now, facts.override_reason))
        {
            self.freeze_override = Some(FreezeOverride { window, reason });
        }
        if !blockers.is_empty() || !facts.to.change_required {
            self.change = None;
        }
        blockers
    }

    fn record_checks(&mut self, step: StepName, group: &[&Evaluated], blockers: &mut Vec<Refusal>) {
        let since = Instant::now();
        let shown: Vec<&Outcome> =
            group.iter().map(|e| &e.outcome).filter(|o| !matches!(o, Outcome::NotApplicable { .. })).collect();
        if shown.is_empty() {
            return;
        }
        let refused: Vec<&Refusal> = shown.iter().filter_map(|o| o.refusal()).collect();
        let gate = [StepName::Check(Check::Gate), StepName::Check(Check::WaitTimer)];
        if let Some(v) = self.gate.as_ref().filter(|_| !refused.is_empty() && gate.contains(&step)) {
            self.sink().line(&crate::gates::render(&self.out, v));
        }
        let (status, details): (StepStatus, Vec<&str>) = if !refused.is_empty() {
            blockers.extend(refused.iter().map(|r| (*r).clone()));
            (StepStatus::Refused, refused.iter().map(|r| r.message()).collect())
        } else if shown.iter().any(|o| matches!(o, Outcome::Pass { .. } | Outcome::Caution { .. })) {
            let passed = shown.iter().filter(|o| !matches!(o, Outcome::Skip { .. }));
            (StepStatus::Ok, passed.map(|o| o.detail()).collect())
        } else {
            (StepStatus::Skipped, shown.iter().map(|o| o.detail()).collect())
        };
        self.record(step, status, since, details.join(", "));
    }
}
