//! The target is free: no other run holds its lock, and no deployment to it
//! is pending or in progress.

use super::{Facts, Outcome, Rule, Surface};
use crate::forge::history;
use crate::refusal::{Kind, Refusal};
use crate::step::{Check, StepName};

pub struct TargetBusy;

impl Rule for TargetBusy {
    fn name(&self) -> &'static str {
        "target-idle"
    }
    fn step(&self) -> Option<StepName> {
        Some(Check::Target.into())
    }
    fn guards(&self, surface: Surface) -> bool {
        match surface {
            Surface::Promote | Surface::Deploy | Surface::Rollback | Surface::Plan | Surface::Compare => true,
            Surface::JournalPromote | Surface::App | Surface::Gate => false,
        }
    }
    fn weight(&self) -> u32 {
        5
    }
    fn check(&self, f: &Facts) -> Outcome {
        let to = f.target_name();
        if let Some(busy) = &f.lock_busy {
            return Outcome::Block(Refusal::new(Kind::Busy, busy.clone()));
        }
        let idle = format!("no other deployment to {to} is in progress");
        if let Some(notes) = &f.abandoned {
            return Outcome::pass(if notes.is_empty() { idle } else { notes.join("; ") });
        }
        match history::running(f.to_deployments).next() {
            Some(d) => Outcome::Block(Refusal::new(
                Kind::Busy,
                format!(
                    "deployment {} of {} to {to} is still {} (started {} by {})",
                    d.id,
                    d.request.release,
                    d.state(),
                    d.request.at.format("%Y-%m-%d %H:%M:%S UTC"),
                    d.request.creator
                ),
            )),
            None => Outcome::pass(idle),
        }
    }
}
