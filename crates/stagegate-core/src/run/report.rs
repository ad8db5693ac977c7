//! The end of every run: one report, printed (text or the one JSON document),
//! appended to the audit trail, and summarised under Actions.

use serde::Serialize;

use super::audit::{self, FreezeOverride};
use super::{Runner, StepRecord, Target};
use crate::actions;
use crate::effects::Done;
use crate::exit::Exit;
use crate::gates::approvals::Verdict;
use crate::plan::Mode;
use crate::refusal::Refusal;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Deployed and verified.
    Succeeded,
    /// Refused before anything changed (exit 3).
    Refused,
    /// Failed; the environment was rolled back and is healthy again (exit 1).
    RolledBack,
    /// Failed, and could not be (fully) rolled back (exit 1).
    Failed,
    /// `--dry-run`: the checks passed; nothing was done.
    Planned,
}

impl Outcome {
    /// As in JSON and the `outcome` output: `succeeded`, `rolled_back`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Refused => "refused",
            Outcome::RolledBack => "rolled_back",
            Outcome::Failed => "failed",
            Outcome::Planned => "planned",
        }
    }

    pub fn exit(self) -> Exit {
        match self {
            Outcome::Succeeded | Outcome::Planned => Exit::Success,
            Outcome::Refused => Exit::Refused,
            Outcome::RolledBack | Outcome::Failed => Exit::Failed,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub command: String,
    pub outcome: Outcome,
    /// What the run's writes came to, as the seam recorded them: applied, or
    /// (`--dry-run`) only described — `"dry_run"` and `"effects"` in JSON.
    #[serde(flatten)]
    pub done: Done,
    pub target: Target,
    pub deployment_id: Option<u64>,
    pub message: String,
    /// Why the run was refused (`code` and `message`): the first blocker;
    /// `null` otherwise.
    pub refusal: Option<Refusal>,
    /// Every reason the run was refused, each with its code (pre-flight
    /// runs all its checks); empty otherwise.
    pub blockers: Vec<Refusal>,
    pub total_seconds: f64,
    pub steps: Vec<StepRecord>,
    pub gate: Option<Verdict>,
    pub freeze_override: Option<FreezeOverride>,
    /// Why the run was asked for (`rollback --reason`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The target environment's `url:` from the config.
    pub url: Option<String>,
    pub links: Links,
}

/// Where to look on GitHub: the run, the commit and the release (`null`
/// outside Actions, or for a run id that is not a workflow run).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Links {
    pub run: Option<String>,
    pub commit: Option<String>,
    pub release: Option<String>,
}

impl Links {
    fn of(t: &Target) -> Links {
        let Some(l) = actions::Links::from_env() else { return Links::default() };
        Links {
            run: l.run(&t.run_id),
            commit: t.sha.as_deref().and_then(|s| l.commit(s)),
            release: (!t.release.is_empty()).then(|| l.release(&t.release)),
        }
    }
}

impl Runner<'_> {
    /// Builds the report from the recorded steps.
    pub fn report(&mut self, command: &str, outcome: Outcome, target: Target, message: String) -> Report {
        let done = self.fx.writes.done();
        Report {
            command: command.to_owned(),
            outcome: if done.is_described() && outcome == Outcome::Succeeded { Outcome::Planned } else { outcome },
            done,
            deployment_id: None,
            message,
            refusal: None,
            blockers: Vec::new(),
            total_seconds: (self.started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
            steps: std::mem::take(&mut self.steps),
            gate: self.gate.take(),
            freeze_override: self.freeze_override.take(),
            reason: self.reason.clone(),
            url: self.cfg.environments.iter().find(|e| e.name == target.env).and_then(|e| e.url.clone()),
            links: Links::of(&target),
            target,
        }
    }
}

impl Runner<'_> {
    /// The report of a run refused before anything changed, with every
    /// blocker pre-flight found (at least one).
    pub fn refused(&mut self, mode: Mode, target: Target, blockers: Vec<Refusal>) -> Report {
        let message = match blockers.as_slice() {
            [one] => format!("{} refused: {one}", mode.noun()),
            all => {
                let each: String = all.iter().map(|b| format!("\n  - {b}")).collect();
                format!("{} refused ({} blockers):{each}", mode.noun(), all.len())
            }
        };
        let mut report = self.report(mode.command(), Outcome::Refused, target, message);
        report.refusal = blockers.first().cloned();
        report.blockers = blockers;
        report
    }
}

/// Prints the report, writes the audit line (when the writes were applied,
/// not only described) and the step summary; returns the exit code.
pub fn finish(r: &Runner, mut report: Report) -> Result<Exit, super::RunError> {
    report.done = r.fx.writes.done();
    let outcome = report.outcome.as_str();
    if !report.done.is_described() {
        let t = &report.target;
        let entry = audit::Entry {
            at: r.now(),
            actor: t.actor.clone(),
            run_id: t.run_id.clone(),
            command: report.command.clone(),
            env: t.env.clone(),
            from: t.from.clone(),
            release: Some(t.release.clone()),
            sha: t.sha.clone(),
            git_ref: t.git_ref.clone(),
            approvals: report
                .gate
                .iter()
                .flat_map(|g| g.reviews.iter().filter(|x| x.counted).map(|x| x.user.clone()))
                .collect(),
            freeze_override: report.freeze_override.clone(),
            reason: report.reason.clone(),
            outcome: outcome.to_owned(),
            message: report.message.clone(),
            steps: report.steps.clone(),
        };
        audit::append(&r.fx.state, &entry)?;
    }
    r.out.print(&report);
    Ok(report.outcome.exit())
}
