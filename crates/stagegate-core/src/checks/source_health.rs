//! The source's health: the source environment answers its health checks now.

use super::{Facts, Health, Outcome, Rule, Surface};
use crate::refusal::{Kind, Refusal};
use crate::step::{Check, StepName};

pub struct SourceHealth;

impl Rule for SourceHealth {
    fn name(&self) -> &'static str {
        "source-health"
    }
    fn step(&self) -> Option<StepName> {
        Some(Check::Source.into())
    }
    fn guards(&self, surface: Surface) -> bool {
        match surface {
            Surface::Promote | Surface::Compare => true,
            Surface::Deploy
            | Surface::Rollback
            | Surface::JournalPromote
            | Surface::App
            | Surface::Plan
            | Surface::Gate => false,
        }
    }
    fn weight(&self) -> u32 {
        15
    }
    fn check(&self, f: &Facts) -> Outcome {
        let Some(from) = f.from() else { return Outcome::not_applicable("no source environment") };
        if from.health.is_empty() {
            return Outcome::not_applicable(format!("{} has no health checks", from.name));
        }
        if f.source_current().is_none() {
            return Outcome::skip(format!("{} does not run {}: nothing to probe", from.name, f.release_text()));
        }
        match &f.source_health {
            None => Outcome::skip(format!("{}'s health checks (probed when it runs)", from.name)),
            Some(Health::Failing(bad)) => {
                Outcome::Block(Refusal::new(Kind::Unhealthy, format!("{} is not healthy now: {bad}", from.name)))
            }
            Some(Health::Passing(n)) => Outcome::pass(format!("{n} health check(s) of {} pass", from.name)),
        }
    }
}
