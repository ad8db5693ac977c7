//! What a rule says: it passes (with a detail), it passes with a caution (no
//! points in `compare`), it does not apply, it was skipped, or it blocks with a
//! typed [`Refusal`].

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use super::Rule;
use crate::refusal::Refusal;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It holds.
    Pass { detail: String },
    /// It holds, with a warning: `compare` gives it no points.
    Caution { detail: String },
    /// Nothing to check here (no freeze windows, no soak, no approvals):
    /// passes, and runs do not list it as a step.
    NotApplicable { detail: String },
    /// Not decided: what it needs is not known yet (a plan without a release),
    /// or another rule already said why not.
    Skip { detail: String },
    /// It refuses.
    Block(Refusal),
}

impl Outcome {
    pub fn pass(detail: impl Into<String>) -> Outcome {
        Outcome::Pass { detail: detail.into() }
    }

    pub fn skip(detail: impl Into<String>) -> Outcome {
        Outcome::Skip { detail: detail.into() }
    }

    pub fn not_applicable(detail: impl Into<String>) -> Outcome {
        Outcome::NotApplicable { detail: detail.into() }
    }

    pub fn is_block(&self) -> bool {
        matches!(self, Outcome::Block(_))
    }

    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Outcome::Block(r) => Some(r),
            _ => None,
        }
    }

    /// The outcome in words.
    pub fn detail(&self) -> &str {
        match self {
            Outcome::Pass { detail }
            | Outcome::Caution { detail }
            | Outcome::NotApplicable { detail }
            | Outcome::Skip { detail } => detail,
            Outcome::Block(r) => r.message(),
        }
    }

    /// Whether it earns its points in `compare`.
    pub fn scores(&self) -> bool {
        matches!(self, Outcome::Pass { .. } | Outcome::NotApplicable { .. })
    }
}

/// A rule and what it said.
#[derive(Clone)]
pub struct Evaluated {
    pub rule: &'static dyn Rule,
    pub outcome: Outcome,
}

impl std::fmt::Debug for Evaluated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluated").field("rule", &self.rule.name()).field("outcome", &self.outcome).finish()
    }
}

impl Evaluated {
    /// The points it earns in `compare`.
    pub fn points(&self) -> u32 {
        if self.outcome.scores() { self.rule.weight() } else { 0 }
    }
}

/// As `compare` lists it: `{"name", "weight", "passed", "points", "detail", "code"}`.
impl Serialize for Evaluated {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Check", 6)?;
        st.serialize_field("name", self.rule.name())?;
        st.serialize_field("weight", &self.rule.weight())?;
        st.serialize_field("passed", &self.outcome.scores())?;
        st.serialize_field("points", &self.points())?;
        st.serialize_field("detail", self.outcome.detail())?;
        st.serialize_field("code", &self.outcome.refusal().map(|r| r.code()))?;
        st.end()
    }
}
