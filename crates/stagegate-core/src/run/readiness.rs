//! The readiness score of `compare A B`: how ready A's current release is to
//! be promoted to B, out of 100, from the check registry's outcomes for
//! [`Surface::Compare`](crate::checks::Surface::Compare). Each rule carries
//! its weight ([`crate::checks::Rule::weight`]):
//!
//! | check | weight |
//! |---|---|
//! | A has a current successful release (`source-release`) | 15 |
//! | A → B is an allowed promotion path (`path`) | 15 |
//! | the release's ref is allowed in B (`ref`) | 15 |
//! | A's health checks pass now, none configured passes (`source-health`) | 15 |
//! | the release never failed in B, and B's last deployment did not fail (`no-failures`) | 15 |
//! | B is not inside a freeze window (`not-frozen`) | 10 |
//! | the release has soaked in A for B's `soak`, none passes (`soak`) | 10 |
//! | nothing is deploying to B right now (`target-idle`) | 5 |
//!
//! Any refusal makes the verdict "not ready" (exit 3), whatever the points:
//! `compare` never calls ready what `plan` refuses. The points rank only what
//! passes: ≥ 90 ready, 75–89 caution, < 75 not ready.

use serde::Serialize;

use crate::checks::Evaluated;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ready,
    Caution,
    NotReady,
    /// B already runs A's release: nothing to promote.
    UpToDate,
}

impl Verdict {
    /// The verdict of `score` points, when nothing refuses the promotion.
    pub fn of(score: u32) -> Verdict {
        match score {
            90.. => Verdict::Ready,
            75..=89 => Verdict::Caution,
            _ => Verdict::NotReady,
        }
    }

    /// The verdict of the registry's outcomes: any refusal is "not ready".
    pub fn judge(evaluated: &[Evaluated]) -> Verdict {
        if evaluated.iter().any(|e| e.outcome.is_block()) { Verdict::NotReady } else { Verdict::of(score(evaluated)) }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Verdict::Ready => "ready for promotion",
            Verdict::Caution => "promotion with caution",
            Verdict::NotReady => "not ready for promotion",
            Verdict::UpToDate => "nothing to promote",
        }
    }
}

/// The points the outcomes earn.
pub fn score(evaluated: &[Evaluated]) -> u32 {
    evaluated.iter().map(Evaluated::points).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_inclusive() {
        assert_eq!(Verdict::of(100), Verdict::Ready);
        assert_eq!(Verdict::of(90), Verdict::Ready);
        assert_eq!(Verdict::of(89), Verdict::Caution);
        assert_eq!(Verdict::of(75), Verdict::Caution);
        assert_eq!(Verdict::of(74), Verdict::NotReady);
        assert_eq!(Verdict::of(0), Verdict::NotReady);
    }
}
