//! The rollback target: an earlier release that ran successfully in the
//! environment (or the one `--to` names).

use super::{Facts, Outcome, Rule, Surface};
use crate::forge::history;
use crate::refusal::{Kind, Refusal};
use crate::step::StepName;

pub struct RollbackTarget;

impl Rule for RollbackTarget {
    fn name(&self) -> &'static str {
        "rollback-target"
    }
    fn step(&self) -> Option<StepName> {
        Some(StepName::CheckRelease)
    }
    fn guards(&self, surface: Surface) -> bool {
        match surface {
            Surface::Rollback => true,
            Surface::Promote
            | Surface::Deploy
            | Surface::JournalPromote
            | Surface::App
            | Surface::Plan
            | Surface::Compare
            | Surface::Gate => false,
        }
    }
    fn weight(&self) -> u32 {
        0
    }
    fn decisive(&self) -> bool {
        true
    }
    fn check(&self, f: &Facts) -> Outcome {
        match &f.rollback {
            None => Outcome::skip("no rollback asked for"),
            Some(Err(why)) => Outcome::Block(Refusal::new(Kind::NoRollbackTarget, why.clone())),
            Some(Ok(chosen)) => {
                let now = history::current(f.to_deployments)
                    .map_or("nothing".into(), |c| format!("{} now", c.request.release));
                Outcome::pass(format!(
                    "roll {} back to {} (deployment {}; {now})",
                    f.to.name, chosen.request.release, chosen.id
                ))
            }
        }
    }
}
