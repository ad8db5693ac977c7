//! Holds ("stop the line"): nobody held the target with `hold set`, or the
//! hold was cleared or has run out. A rollback still runs into a held
//! environment (it is how an incident ends) unless the hold holds rollbacks
//! too. The App keeps a held request pending and decides it when the hold
//! ends: a hold is never final.

use super::{Facts, Outcome, Rule, Surface};
use crate::config::Purpose;
use crate::refusal::{Kind, Refusal};
use crate::step::{Check, StepName};

pub struct Hold;

impl Rule for Hold {
    fn name(&self) -> &'static str {
        "not-held"
    }
    fn step(&self) -> Option<StepName> {
        Some(Check::Hold.into())
    }
    fn guards(&self, surface: Surface) -> bool {
        match surface {
            Surface::Promote
            | Surface::Deploy
            | Surface::Rollback
            | Surface::JournalPromote
            | Surface::App
            | Surface::Plan
            | Surface::Compare
            | Surface::Gate => true,
        }
    }
    fn weight(&self) -> u32 {
        0
    }
    fn check(&self, f: &Facts) -> Outcome {
        let to = &f.to.name;
        let Some(h) = f.hold.filter(|h| h.holds_at(f.now)) else {
            return Outcome::not_applicable(format!("{to} is not held"));
        };
        // A rollback run, or its gate (`gate --rollback`).
        let rollback = f.rollback.is_some() || f.purpose == Purpose::Rollback;
        if rollback && !h.set.rollbacks_too {
            return Outcome::pass(format!("{to} is held ({}), but rollbacks still run", h.set.reason));
        }
        let since = h.set.at.format("%Y-%m-%d %H:%M UTC");
        let until = h.set.until.map_or(String::new(), |u| format!(" until {}", u.format("%Y-%m-%d %H:%M UTC")));
        let what = if rollback { "rollbacks too" } else { "promotions and deploys" };
        Outcome::Block(
            Refusal::new(
                Kind::Held,
                format!("{to} is held by {} since {since}{until} ({what}): {}", h.set.by, h.set.reason),
            )
            .until(h.set.until)
            .unblock(format!("when it is over: stagegate hold clear --env {to} --reason \"…\"")),
        )
    }
}
