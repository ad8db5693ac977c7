//! The check registry: every rule that can refuse a run — the promotion
//! path, the ref, the source's release and health, a busy target, freeze
//! windows, holds, soak, the ServiceNow change, approvals, the wait timer, direct
//! deploys into approval environments, the rollback target — is one type in
//! one file of this module, listed once in [`REGISTRY`].
//!
//! Every surface asks the registry: `promote`, `deploy` and `rollback` (the
//! runner), `plan`, `gate`, `compare`, the App's verdict and `journal
//! promote`. Each gathers the [`Facts`] it can (the forge's records, the
//! clock, the lock, health probes, the run's reviews, the change) and calls
//! [`evaluate`]; a rule is pure, so the same facts always give the same
//! outcome on every surface.
//!
//! Adding a rule: a file here with a type implementing [`Rule`] (its
//! [`Rule::guards`] is an exhaustive match over [`Surface`], so the compiler
//! makes it decide for every surface), and one line in [`REGISTRY`].

pub mod approvals;
mod change;
pub mod facts;
mod freeze;
mod git_ref;
mod hold;
mod no_failures;
pub mod outcome;
mod path;
mod promotion_only;
mod rollback_target;
mod soak;
mod source_health;
mod source_release;
mod target_busy;
pub mod verdict;
mod wait_timer;

pub use facts::{ApprovalsFact, ChangeFact, Facts, Health, RefFact, Source};
pub use outcome::{Evaluated, Outcome};

use crate::step::StepName;

/// The commands (and the App) that ask the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Surface {
    /// `promote`: a run from one environment into the next.
    Promote,
    /// `deploy`: a direct run into one environment.
    Deploy,
    /// `rollback`: a run back to an earlier good release.
    Rollback,
    /// `journal promote`: a lane's version moved to the next lane.
    JournalPromote,
    /// The GitHub App's answer to a deployment protection rule.
    App,
    /// `plan`, before anyone approves: missing approvals are pending, not refused.
    Plan,
    /// `compare`: the readiness score of promoting A's release to B.
    Compare,
    /// `gate`: do this run's approvals satisfy the environment?
    Gate,
}

impl Surface {
    pub const ALL: [Surface; 8] = [
        Surface::Promote,
        Surface::Deploy,
        Surface::Rollback,
        Surface::JournalPromote,
        Surface::App,
        Surface::Plan,
        Surface::Compare,
        Surface::Gate,
    ];
}

/// One rule. Pure: it reads the facts a surface gathered, nothing else.
pub trait Rule: Sync {
    /// Its name in `compare`'s table and JSON (`not-frozen`, `soak`, …).
    fn name(&self) -> &'static str;
    /// The step a run records it as (`check-freeze`, `gate`, …); `None` for
    /// what only `compare` weighs.
    fn step(&self) -> Option<StepName>;
    /// Whether it decides on `surface`.
    fn guards(&self, surface: Surface) -> bool;
    /// Its points in `compare`'s readiness score (the rules compare asks sum to 100).
    fn weight(&self) -> u32;
    /// A block leaves nothing else to say (a direct deploy into an approval
    /// environment, a rollback with nothing to return to): later rules are skipped.
    fn decisive(&self) -> bool {
        false
    }
    /// The outcome for these facts.
    fn check(&self, facts: &Facts) -> Outcome;
}

/// Every rule, in the order runs check them.
pub static REGISTRY: [&dyn Rule; 14] = [
    &promotion_only::PromotionOnly,
    &rollback_target::RollbackTarget,
    &path::Path,
    &git_ref::Ref,
    &source_release::SourceRelease,
    &source_health::SourceHealth,
    &hold::Hold,
    &target_busy::TargetBusy,
    &freeze::Freeze,
    &soak::Soak,
    &change::Change,
    &approvals::Approvals,
    &wait_timer::WaitTimer,
    &no_failures::NoFailures,
];

/// Asks every rule that guards `surface`, in registry order. After a
/// decisive block the later rules are skipped.
pub fn evaluate(surface: Surface, facts: &Facts) -> Vec<Evaluated> {
    let mut out = Vec::new();
    let mut halted: Option<&'static str> = None;
    for rule in REGISTRY.iter().copied().filter(|r| r.guards(surface)) {
        let outcome = match halted {
            Some(why) => Outcome::Skip { detail: format!("not checked: {why}") },
            None => rule.check(facts),
        };
        if rule.decisive() && outcome.is_block() && halted.is_none() {
            halted = Some(rule.name());
        }
        out.push(Evaluated { rule, outcome });
    }
    out
}

/// The outcomes up to the first decisive refusal: runs list only what came
/// before it.
pub fn until_decisive(evaluated: &[Evaluated]) -> &[Evaluated] {
    match evaluated.iter().position(|e| e.rule.decisive() && e.outcome.is_block()) {
        Some(i) => &evaluated[..=i],
        None => evaluated,
    }
}

/// The refusals among `evaluated`, in order.
pub fn blockers(evaluated: &[Evaluated]) -> Vec<crate::refusal::Refusal> {
    evaluated.iter().filter_map(|e| e.outcome.refusal().cloned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_compare_asks_weigh_100_and_every_name_is_distinct() {
        let sum: u32 = REGISTRY.iter().filter(|r| r.guards(Surface::Compare)).map(|r| r.weight()).sum();
        assert_eq!(sum, 100);
        let others: u32 = REGISTRY.iter().filter(|r| !r.guards(Surface::Compare)).map(|r| r.weight()).sum();
        assert_eq!(others, 0, "only what compare asks carries points");
        let mut names = std::collections::HashSet::new();
        for r in REGISTRY {
            assert!(names.insert(r.name()), "two rules are named {}", r.name());
            assert!(Surface::ALL.iter().any(|s| r.guards(*s)), "{} guards nothing", r.name());
        }
    }
}
