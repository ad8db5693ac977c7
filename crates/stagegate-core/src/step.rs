//! The steps of a run, as types: what `plan` lists, what `promote`, `deploy`
//! and `rollback` dispatch on, and what every report and audit line names.
//!
//! Each step's JSON name is defined here and only here. The runners match on
//! these enums exhaustively, so a new or renamed step cannot be skipped
//! silently: the compiler points at every place that must handle it.

use serde::{Serialize, Serializer};

/// A pre-flight check of a promotion: it passes or refuses the run before
/// anything has changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// `from → to` is an edge of the promotion graph.
    Path,
    /// The release's git ref matches the target's branch rules.
    Ref,
    /// The source environment runs the release now, healthy.
    Source,
    /// No other deployment to the target is in progress (and the lock is ours).
    Target,
    /// The target is not inside a freeze window (or the freeze is overridden).
    Freeze,
    /// The release has run long enough in the source environment.
    Soak,
    /// An approved ServiceNow change, inside its implement window.
    Change,
    /// Enough distinct, eligible approvals of this run.
    Gate,
    /// The environment's wait timer after approval has run out.
    WaitTimer,
    /// Nobody holds the environment (`hold set`).
    Hold,
}

/// A step that changes the environment, in the order a run executes them. A
/// failure once [`Act::Deploy`] has started rolls the environment back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// The create hook, before the first deploy of an ephemeral instance.
    Create,
    /// The backup hook.
    Backup,
    /// The rollback hook, as the first step of `stagegate rollback`.
    Rollback,
    /// The deploy hook (or, without one, only the record of the deploy).
    Deploy,
    /// The environment's health check with this index, after the deploy.
    Health(usize),
    /// The verify hook.
    Verify,
    /// The deployment record marked successful, the one it replaced inactive.
    Record,
}

/// A step of the recovery after a failed deploy: the rollback hook, then the
/// previous good release deployed and verified again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recover {
    Hook,
    Deploy,
    Health(usize),
    Verify,
    Record,
}

/// One entry of a plan: a check, an execution step, or the recovery that runs
/// only when a step after the deploy's start fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanStep {
    Check(Check),
    Act(Act),
    /// The whole recovery sequence ([`Recover`]), listed once.
    Rollback,
}

impl From<Check> for PlanStep {
    fn from(c: Check) -> PlanStep {
        PlanStep::Check(c)
    }
}

impl From<Act> for PlanStep {
    fn from(a: Act) -> PlanStep {
        PlanStep::Act(a)
    }
}

/// When a planned step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum When {
    Always,
    OnFailure,
}

impl PlanStep {
    pub fn when(self) -> When {
        match self {
            PlanStep::Check(_) | PlanStep::Act(_) => When::Always,
            PlanStep::Rollback => When::OnFailure,
        }
    }

    pub fn name(self) -> StepName {
        match self {
            PlanStep::Check(c) => StepName::Check(c),
            PlanStep::Act(a) => StepName::Act(a),
            PlanStep::Rollback => StepName::Recover(Recover::Hook),
        }
    }
}

/// The name of a step as a run records it: a report's `steps[].name`, the
/// audit trail's, the progress line's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepName {
    Check(Check),
    /// A direct deploy's check that the environment takes direct deploys.
    CheckEnv,
    /// A rollback's choice of the release to return to.
    CheckRelease,
    Act(Act),
    Recover(Recover),
    Teardown(Teardown),
}

/// A step of `destroy`: an ephemeral instance's deployments marked inactive,
/// its destroy hook, its GitHub environment deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Teardown {
    Deactivate,
    Hook,
    DeleteEnvironment,
}

impl From<Teardown> for StepName {
    fn from(t: Teardown) -> StepName {
        StepName::Teardown(t)
    }
}

impl From<Check> for StepName {
    fn from(c: Check) -> StepName {
        StepName::Check(c)
    }
}

impl From<Act> for StepName {
    fn from(a: Act) -> StepName {
        StepName::Act(a)
    }
}

impl From<Recover> for StepName {
    fn from(r: Recover) -> StepName {
        StepName::Recover(r)
    }
}

/// The hooks a step can run, by the `steps:` key that configures them; the
/// hook gets the key as `STAGEGATE_STEP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    Backup,
    Deploy,
    Verify,
    Rollback,
    Create,
    Destroy,
}

impl Hook {
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::Backup => "backup",
            Hook::Deploy => "deploy",
            Hook::Verify => "verify",
            Hook::Rollback => "rollback",
            Hook::Create => "create",
            Hook::Destroy => "destroy",
        }
    }
}

impl StepName {
    /// The step's name in reports, JSON and the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            StepName::Check(c) => match c {
                Check::Path => "check-path",
                Check::Ref => "check-ref",
                Check::Source => "check-source",
                Check::Target => "check-target",
                Check::Freeze => "check-freeze",
                Check::Soak => "check-soak",
                Check::Change => "check-change",
                Check::Gate => "gate",
                Check::WaitTimer => "wait-timer",
                Check::Hold => "check-hold",
            },
            StepName::CheckEnv => "check-env",
            StepName::CheckRelease => "check-release",
            StepName::Act(a) => match a {
                Act::Create => "create",
                Act::Backup => "backup",
                Act::Rollback => "rollback",
                Act::Deploy => "deploy",
                Act::Health(_) => "health",
                Act::Verify => "verify",
                Act::Record => "record",
            },
            StepName::Recover(r) => match r {
                Recover::Hook => "rollback",
                Recover::Deploy => "rollback-deploy",
                Recover::Health(_) => "rollback-health",
                Recover::Verify => "rollback-verify",
                Recover::Record => "rollback-record",
            },
            StepName::Teardown(t) => match t {
                Teardown::Deactivate => "deactivate",
                Teardown::Hook => "destroy",
                Teardown::DeleteEnvironment => "delete-env",
            },
        }
    }

    /// The hook this step runs, if it is a hook step.
    pub fn hook(self) -> Option<Hook> {
        match self {
            StepName::Act(Act::Create) => Some(Hook::Create),
            StepName::Teardown(Teardown::Hook) => Some(Hook::Destroy),
            StepName::Act(Act::Backup) => Some(Hook::Backup),
            StepName::Act(Act::Deploy) | StepName::Recover(Recover::Deploy) => Some(Hook::Deploy),
            StepName::Act(Act::Verify) | StepName::Recover(Recover::Verify) => Some(Hook::Verify),
            StepName::Act(Act::Rollback) | StepName::Recover(Recover::Hook) => Some(Hook::Rollback),
            StepName::Check(_)
            | StepName::CheckEnv
            | StepName::CheckRelease
            | StepName::Act(Act::Health(_) | Act::Record)
            | StepName::Recover(Recover::Health(_) | Recover::Record)
            | StepName::Teardown(Teardown::Deactivate | Teardown::DeleteEnvironment) => None,
        }
    }
}

impl std::fmt::Display for StepName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for StepName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for PlanStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name().as_str())
    }
}

impl Serialize for PlanStep {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.name().serialize(s)
    }
}

/// What kind of run executes the steps: it names the run in records and
/// messages, and says whether a failure is rolled back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Promotion,
    Deployment,
    Rollback,
}

impl Mode {
    /// The command that runs it, as reports name it.
    pub fn command(self) -> &'static str {
        match self {
            Mode::Promotion => "promote",
            Mode::Deployment => "deploy",
            Mode::Rollback => "rollback",
        }
    }

    /// The run in words: "promotion of 26.12.01.4 to prod".
    pub fn noun(self) -> &'static str {
        match self {
            Mode::Promotion => "promotion",
            Mode::Deployment => "deployment",
            Mode::Rollback => "rollback",
        }
    }

    /// The execution steps of a run into an environment with `health_checks`
    /// checks: the backup (or, for a rollback, the rollback hook), the deploy,
    /// each health check, verify, record.
    pub fn execution(self, health_checks: usize) -> Vec<Act> {
        self.execution_of(health_checks, false)
    }

    /// [`Mode::execution`], led by the create hook when `create` (the first
    /// deploy of an ephemeral instance: nothing live there yet).
    pub fn execution_of(self, health_checks: usize, create: bool) -> Vec<Act> {
        let first = match self {
            Mode::Promotion | Mode::Deployment => Act::Backup,
            Mode::Rollback => Act::Rollback,
        };
        let mut steps = if create { vec![Act::Create] } else { Vec::new() };
        steps.extend([first, Act::Deploy]);
        steps.extend((0..health_checks).map(Act::Health));
        steps.extend([Act::Verify, Act::Record]);
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_of_a_run_has_a_distinct_name_except_the_two_rollback_hooks() {
        let names: Vec<StepName> = vec![
            Check::Path.into(),
            Check::Ref.into(),
            Check::Source.into(),
            Check::Target.into(),
            Check::Freeze.into(),
            Check::Soak.into(),
            Check::Change.into(),
            Check::Gate.into(),
            Check::WaitTimer.into(),
            Check::Hold.into(),
            StepName::CheckEnv,
            StepName::CheckRelease,
            Act::Create.into(),
            Act::Backup.into(),
            Act::Deploy.into(),
            Act::Health(0).into(),
            Act::Verify.into(),
            Act::Record.into(),
            Recover::Hook.into(),
            Recover::Deploy.into(),
            Recover::Health(0).into(),
            Recover::Verify.into(),
            Recover::Record.into(),
            Teardown::Deactivate.into(),
            Teardown::DeleteEnvironment.into(),
        ];
        let mut seen = std::collections::HashSet::new();
        for n in &names {
            assert!(seen.insert(n.as_str()), "two steps are named {n}");
        }
        assert_eq!(StepName::from(Act::Rollback).as_str(), StepName::from(Recover::Hook).as_str());
    }

    #[test]
    fn a_rollback_run_starts_with_the_rollback_hook_and_checks_every_health_check() {
        assert_eq!(
            Mode::Rollback.execution(2),
            [Act::Rollback, Act::Deploy, Act::Health(0), Act::Health(1), Act::Verify, Act::Record]
        );
        assert_eq!(Mode::Promotion.execution(0)[0], Act::Backup);
        assert_eq!(StepName::from(Act::Deploy).hook(), Some(Hook::Deploy));
        assert_eq!(StepName::from(Recover::Hook).hook(), Some(Hook::Rollback));
        assert_eq!(StepName::from(Act::Record).hook(), None);
        assert_eq!(Mode::Deployment.execution_of(0, true)[..2], [Act::Create, Act::Backup]);
        assert_eq!(StepName::from(Teardown::Hook).hook(), Some(Hook::Destroy));
    }
}
