//! Why stagegate refused a run, as one type. Each kind has a stable code
//! (`stagegate::refused::frozen`, …) that JSON reports and the action's
//! `refusal` output carry, so a workflow can branch on why a promotion was
//! refused without parsing its message. A leaf module: it knows nothing of
//! the areas that refuse.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// A refusal by policy (exit 3), with the message that says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `from → to` is not an edge of the promotion graph.
    Path(String),
    /// The release's git ref may not deploy to the target (branch rules), or
    /// is not recorded or not a valid ref.
    Ref(String),
    /// The release was never deployed to the source environment.
    UnknownRelease(String),
    /// The source environment does not run the release now (or nothing).
    NotCurrent(String),
    /// The source environment does not answer its health checks now.
    Unhealthy(String),
    /// Another run holds the target, or a deployment to it is in progress.
    Busy(String),
    /// The target is inside a freeze window.
    Frozen(String),
    /// The release has not run long enough in the source environment.
    Soak(String),
    /// No approved ServiceNow change inside its implement window.
    Change(String),
    /// Not enough distinct, eligible approvals (or the wait timer runs).
    Approvals(String),
    /// The environment needs approvals, so it is reached by promotion only.
    PromotionOnly(String),
    /// There is no earlier good release to roll back to.
    NoRollbackTarget(String),
}

impl Refusal {
    /// The stable code: `stagegate::refused::<kind>`.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Path(_) => "stagegate::refused::path",
            Refusal::Ref(_) => "stagegate::refused::ref",
            Refusal::UnknownRelease(_) => "stagegate::refused::unknown_release",
            Refusal::NotCurrent(_) => "stagegate::refused::not_current",
            Refusal::Unhealthy(_) => "stagegate::refused::unhealthy",
            Refusal::Busy(_) => "stagegate::refused::busy",
            Refusal::Frozen(_) => "stagegate::refused::frozen",
            Refusal::Soak(_) => "stagegate::refused::soak",
            Refusal::Change(_) => "stagegate::refused::change",
            Refusal::Approvals(_) => "stagegate::refused::approvals",
            Refusal::PromotionOnly(_) => "stagegate::refused::promotion_only",
            Refusal::NoRollbackTarget(_) => "stagegate::refused::no_rollback_target",
        }
    }

    /// What was refused and how to get unblocked, in words.
    pub fn message(&self) -> &str {
        match self {
            Refusal::Path(m)
            | Refusal::Ref(m)
            | Refusal::UnknownRelease(m)
            | Refusal::NotCurrent(m)
            | Refusal::Unhealthy(m)
            | Refusal::Busy(m)
            | Refusal::Frozen(m)
            | Refusal::Soak(m)
            | Refusal::Change(m)
            | Refusal::Approvals(m)
            | Refusal::PromotionOnly(m)
            | Refusal::NoRollbackTarget(m) => m,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// `{"code": "stagegate::refused::frozen", "message": "prod is frozen …"}`.
impl Serialize for Refusal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Refusal", 2)?;
        st.serialize_field("code", self.code())?;
        st.serialize_field("message", self.message())?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_serializes_as_its_code_and_message() {
        let r = Refusal::Frozen("prod is frozen".into());
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({ "code": "stagegate::refused::frozen", "message": "prod is frozen" })
        );
        assert_eq!(r.to_string(), "prod is frozen");
    }
}
