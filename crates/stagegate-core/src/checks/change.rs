//! The change: a target with `change: required` takes a run only under an
//! approved ServiceNow change inside its implement window.

use super::{ChangeFact, Facts, Outcome, Rule, Surface};
use crate::config::Purpose;
use crate::refusal::{Kind, Refusal};
use crate::step::{Check, StepName};

pub struct Change;

impl Rule for Change {
    fn name(&self) -> &'static str {
        "change"
    }
    fn step(&self) -> Option<StepName> {
        Some(Check::Change.into())
    }
    fn guards(&self, surface: Surface) -> bool {
        match surface {
            Surface::Promote | Surface::Deploy | Surface::JournalPromote | Surface::App | Surface::Plan => true,
            // A rollback undoes a change, it needs none of its own; compare
            // and gate have no change to judge.
            Surface::Rollback | Surface::Compare | Surface::Gate => false,
        }
    }
    fn weight(&self) -> u32 {
        0
    }
    fn check(&self, f: &Facts) -> Outcome {
        if f.purpose == Purpose::Rollback {
            // The App judging a rollback run: as the `rollback` command is.
            return Outcome::not_applicable("a rollback undoes a change, it needs none of its own");
        }
        if !f.to.change_required {
            return Outcome::not_applicable(format!("{} needs no ServiceNow change", f.to.name));
        }
        match &f.change {
            ChangeFact::Missing => Outcome::Block(missing(&f.to.name)),
            ChangeFact::Checked(Ok(detail)) => Outcome::pass(detail.clone()),
            ChangeFact::Checked(Err(refusal)) => Outcome::Block(refusal.clone()),
        }
    }
}

/// A target with `change: required` and no change named.
pub fn missing(to: &str) -> Refusal {
    Refusal::new(Kind::Change, format!("{to} requires an approved ServiceNow change: pass --change CHG…"))
}
