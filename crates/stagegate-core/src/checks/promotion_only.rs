//! Promotion only: an environment that needs approvals is reached by
//! promotion, never by a direct deploy, so a path rule ("prod only from
//! staging") cannot be walked around.

use super::{Facts, Outcome, Rule, Surface};
use crate::refusal::{Kind, Refusal};
use crate::step::StepName;

pub struct PromotionOnly;

impl Rule for PromotionOnly {
    fn name(&self) -> &'static str {
        "promotion-only"
    }
    fn step(&self) -> Option<StepName> {
        Some(StepName::CheckEnv)
    }
    fn guards(&self, surface: Surface) -> bool {
        match surface {
            Surface::Deploy => true,
            Surface::Promote
            | Surface::Rollback
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
        let env = f.to;
        if env.approvals.required == 0 {
            return Outcome::pass(format!("{} takes direct deploys (no approvals)", env.name));
        }
        let from = f.policy.graph.predecessors(&env.name);
        let why = format!(
            "{} needs {} approval(s): it is reached by promotion (from {}), not by a direct deploy; use `stagegate promote`",
            env.name,
            env.approvals.required,
            if from.is_empty() { "nowhere".to_string() } else { from.join(", ") }
        );
        Outcome::Block(Refusal::new(Kind::PromotionOnly, why))
    }
}
