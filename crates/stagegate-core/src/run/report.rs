//! The end of every run: one report, printed (text or the one JSON document),
//! appended to the audit trail, and summarised under Actions.

use serde::Serialize;

use super::audit::{self, FreezeOverride};
use super::{Runner, StepRecord, Target};
use crate::actions;
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
    pub dry_run: bool,
    pub target: Target,
    pub deployment_id: Option<u64>,
    pub message: String,
    /// Why the run was refused (`code` and `message`); `null` otherwise.
    pub refusal: Option<Refusal>,
    pub total_seconds: f64,
    pub steps: Vec<StepRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<Verdict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freeze_override: Option<FreezeOverride>,
    /// `--dry-run`: the writes that were skipped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub effects: Vec<String>,
}

impl Runner<'_> {
    /// Builds the report from the recorded steps.
    pub fn report(&mut self, command: &str, outcome: Outcome, target: Target, message: String) -> Report {
        Report {
            command: command.to_owned(),
            outcome: if self.dry_run() && outcome == Outcome::Succeeded { Outcome::Planned } else { outcome },
            dry_run: self.dry_run(),
            target,
            deployment_id: None,
            message,
            refusal: None,
            total_seconds: (self.started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
            steps: std::mem::take(&mut self.steps),
            gate: self.gate.take(),
            freeze_override: self.freeze_override.take(),
            effects: Vec::new(),
        }
    }
}

impl Runner<'_> {
    /// The report of a run refused before anything changed.
    pub fn refused(&mut self, mode: Mode, target: Target, refusal: Refusal) -> Report {
        let message = format!("{} refused: {refusal}", mode.noun());
        let mut report = self.report(mode.command(), Outcome::Refused, target, message);
        report.refusal = Some(refusal);
        report
    }
}

/// Prints the report, writes the audit line (not in a dry run) and the step
/// summary; returns the exit code.
pub fn finish(r: &Runner, mut report: Report, log: &crate::effects::EffectLog) -> Result<Exit, super::RunError> {
    report.effects = log.entries();
    let outcome = report.outcome.as_str();
    if !report.dry_run {
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
            outcome: outcome.to_owned(),
            message: report.message.clone(),
            steps: report.steps.clone(),
        };
        audit::append(&r.state, &entry)?;
    }
    actions::summary(&markdown(&report));
    let verb = match report.outcome {
        Outcome::Refused => Some("refused"),
        Outcome::Failed => Some("failed"),
        Outcome::RolledBack => Some("failed and was rolled back"),
        Outcome::Succeeded | Outcome::Planned => None,
    };
    if let Some(verb) = verb {
        let title = format!("stagegate {}: {} to {} {verb}", report.command, report.target.release, report.target.env);
        actions::alert("error", &title, &report.message);
    }
    actions::set_output("outcome", outcome);
    if let Some(refusal) = &report.refusal {
        actions::set_output("refusal", refusal.code());
    }
    if r.out.json() {
        r.out.emit(&report);
    } else {
        let mark = match report.outcome {
            Outcome::Succeeded | Outcome::Planned => r.out.good("✓"),
            _ => r.out.bad("✗"),
        };
        println!();
        println!("{mark} {}", report.message);
        if report.dry_run {
            for e in &report.effects {
                println!("  would {e}");
            }
        }
    }
    Ok(report.outcome.exit())
}

fn markdown(report: &Report) -> String {
    use crate::actions::{cell, inline};
    let t = &report.target;
    let icon = match report.outcome {
        Outcome::Succeeded | Outcome::Planned => "✅",
        Outcome::RolledBack => "↩️",
        _ => "❌",
    };
    let from = t.from.as_deref().map(|f| format!(" from {f}")).unwrap_or_default();
    let mut md = format!(
        "### stagegate {}: {} to {}{from}\n\n{icon} {}\n\n",
        report.command,
        t.release,
        t.env,
        inline(&report.message)
    );
    md.push_str("| step | outcome | time | detail |\n|---|---|---|---|\n");
    for s in &report.steps {
        md.push_str(&format!(
            "| {} | {:?} | {:.1}s | {} |\n",
            cell(s.name.as_str()),
            s.status,
            s.seconds,
            cell(&s.detail)
        ));
    }
    md
}
