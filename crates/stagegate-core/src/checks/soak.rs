//! Soak: the release has run in the source for the target's soak time.

use super::{Facts, Outcome, Rule, Source, Surface};
use crate::step::{Check, StepName};

pub struct Soak;

impl Rule for Soak {
    fn name(&self) -> &'static str {
        "soak"
    }
    fn step(&self) -> Option<StepName> {
        Some(Check::Soak.into())
    }
    fn guards(&self, surface: Surface) -> bool {
        match surface {
            Surface::Promote | Surface::App | Surface::Plan | Surface::Compare => true,
            Surface::Deploy | Surface::Rollback | Surface::JournalPromote | Surface::Gate => false,
        }
    }
    fn weight(&self) -> u32 {
        10
    }
    fn check(&self, f: &Facts) -> Outcome {
        let Some(need) = f.to.soak else {
            return Outcome::not_applicable(format!("{} asks for no soak time", f.to.name));
        };
        let from = match &f.source {
            Source::Env(e) => e.name.as_str(),
            Source::Direct => return Outcome::not_applicable(format!("{} is deployed to directly", f.to.name)),
            Source::NotFound(_) => return Outcome::skip("no source runs the release: nothing to measure"),
        };
        let Some(current) = f.source_current() else {
            let text = format!(
                "{} has been healthy in {from} for at least {}",
                f.release_text(),
                crate::config::duration::format(need)
            );
            return match (f.release, f.from_deployments) {
                (Some(r), Some(_)) => Outcome::skip(format!("{from} does not run {r}: nothing to measure")),
                _ => Outcome::skip(text),
            };
        };
        match crate::gates::soak::check(current, from, need, f.now) {
            Ok(detail) => Outcome::pass(detail),
            Err(refusal) => Outcome::Block(refusal),
        }
    }
}
