//! The readiness score of `compare A B` (seed 004): how ready A's current
//! release is to be promoted to B, out of 100.
//!
//! | check | weight |
//! |---|---|
//! | A has a current successful release | 15 |
//! | A → B is an allowed promotion path | 15 |
//! | the release's ref is allowed in B | 15 |
//! | A's health checks pass now (none configured: passes) | 15 |
//! | the release never failed in B, and B's last deployment did not fail | 15 |
//! | B is not inside a freeze window | 10 |
//! | the release has soaked in A for B's `soak` (none: passes) | 10 |
//! | nothing is deploying to B right now | 5 |
//!
//! Verdict: ≥ 90 ready, 75–89 caution, < 75 not ready (exit 3).

use serde::Serialize;

pub const WEIGHTS: [(&str, u32); 8] = [
    ("source-release", 15),
    ("path", 15),
    ("ref", 15),
    ("source-health", 15),
    ("no-failures", 15),
    ("not-frozen", 10),
    ("soak", 10),
    ("target-idle", 5),
];

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub weight: u32,
    pub passed: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ready,
    Caution,
    NotReady,
}

impl Verdict {
    pub fn of(score: u32) -> Verdict {
        match score {
            90.. => Verdict::Ready,
            75..=89 => Verdict::Caution,
            _ => Verdict::NotReady,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Verdict::Ready => "ready for promotion",
            Verdict::Caution => "promotion with caution",
            Verdict::NotReady => "not ready for promotion",
        }
    }
}

/// A check result by name; its weight comes from [`WEIGHTS`].
pub fn check(name: &'static str, passed: bool, detail: impl Into<String>) -> Check {
    let weight = WEIGHTS.iter().find(|(n, _)| *n == name).map_or(0, |(_, w)| *w);
    Check { name, weight, passed, detail: detail.into() }
}

pub fn score(checks: &[Check]) -> u32 {
    checks.iter().filter(|c| c.passed).map(|c| c.weight).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_100_and_thresholds_are_inclusive() {
        assert_eq!(WEIGHTS.iter().map(|(_, w)| w).sum::<u32>(), 100);
        assert_eq!(Verdict::of(100), Verdict::Ready);
        assert_eq!(Verdict::of(90), Verdict::Ready);
        assert_eq!(Verdict::of(89), Verdict::Caution);
        assert_eq!(Verdict::of(75), Verdict::Caution);
        assert_eq!(Verdict::of(74), Verdict::NotReady);
        assert_eq!(Verdict::of(0), Verdict::NotReady);
    }
}
