//! The wait timer: once enough approvals are in, the environment's wait
//! timer must have run out (on GitHub, GitHub runs it).

use super::{Facts, Outcome, Rule, Surface};
use crate::gates::approvals::State;
use crate::refusal::{Kind, Refusal};
use crate::step::{Check, StepName};

pub struct WaitTimer;

impl Rule for WaitTimer {
    fn name(&self) -> &'static str {
        "wait-timer"
    }
    fn step(&self) -> Option<StepName> {
        Some(Check::WaitTimer.into())
    }
    fn guards(&self, surface: Surface) -> bool {
        match surface {
            Surface::Promote
            | Surface::Rollback
            | Surface::JournalPromote
            | Surface::App
            | Surface::Plan
            | Surface::Gate => true,
            Surface::Deploy | Surface::Compare => false,
        }
    }
    fn weight(&self) -> u32 {
        0
    }
    fn check(&self, f: &Facts) -> Outcome {
        let a = &f.approvals_policy();
        let Some(t) = a.wait_timer.filter(|_| a.required > 0) else {
            return match f.to.approvals.wait_timer {
                // Only a rollback's policy drops a timer the environment has.
                Some(_) if f.to.approvals.required > 0 => {
                    Outcome::pass(format!("a rollback into {} skips its wait timer", f.to.name))
                }
                _ => Outcome::not_applicable(format!("{} has no wait timer", f.to.name)),
            };
        };
        let wait = format!("wait {} after approval", crate::config::duration::format(t));
        let Some(fact) = &f.approvals else { return Outcome::skip(wait) };
        let v = fact.verdict;
        match (v.state, v.opens_at) {
            (State::Waiting, until) => {
                let how = until.map_or_else(
                    || "the wait timer is still running; the approvals are in".to_string(),
                    |t| format!("wait timer runs until {}; the approvals are in", t.format("%Y-%m-%d %H:%M:%S UTC")),
                );
                Outcome::Block(Refusal::new(Kind::Approvals, v.reasons.join("; ")).until(until).unblock(how))
            }
            (State::Passed, Some(open)) => Outcome::pass(format!("opened at {}", open.format("%Y-%m-%d %H:%M:%S UTC"))),
            // GitHub runs the timer itself: the job starts only once it ran out.
            (State::Passed, None) => Outcome::not_applicable("GitHub's own wait timer ran out before the job started"),
            (State::Missing | State::Rejected, _) => Outcome::skip(wait),
        }
    }
}
