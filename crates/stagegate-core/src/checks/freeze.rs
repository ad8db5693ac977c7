//! Freeze and deploy windows: the target is not inside a closed period of its
//! calendar, or the closure is overridden (where the environment allows it)
//! with a reason.

use super::{Facts, Outcome, Rule, Surface};
use crate::config::Purpose;
use crate::gates::freeze::{Decision, decide};
use crate::step::{Check, StepName};

pub struct Freeze;

impl Rule for Freeze {
    fn name(&self) -> &'static str {
        "not-frozen"
    }
    fn step(&self) -> Option<StepName> {
        Some(Check::Freeze.into())
    }
    fn guards(&self, surface: Surface) -> bool {
        match surface {
            Surface::Promote
            | Surface::Deploy
            | Surface::JournalPromote
            | Surface::App
            | Surface::Plan
            | Surface::Compare => true,
            // A rollback is how a bad change is undone: freezes do not block it.
            Surface::Rollback | Surface::Gate => false,
        }
    }
    fn weight(&self) -> u32 {
        10
    }
    fn check(&self, f: &Facts) -> Outcome {
        if f.purpose == Purpose::Rollback {
            // The App judging a rollback run: as the `rollback` command is.
            return Outcome::not_applicable("a rollback is how a bad change is undone: freezes do not block it");
        }
        if f.to.freeze.is_empty() && f.to.deploy_windows.is_empty() {
            return Outcome::not_applicable(format!("{} has no freeze or deploy windows", f.to.name));
        }
        match decide(f.to, f.now, f.override_reason) {
            Decision::Clear => Outcome::pass(format!("{} is not frozen", f.to.name)),
            Decision::Overridden { window, reason } => Outcome::pass(format!("freeze `{window}` overridden: {reason}")),
            Decision::Frozen(refusal) => Outcome::Block(refusal),
        }
    }
}
