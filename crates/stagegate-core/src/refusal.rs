//! Why stagegate refused a run, as one type. Each kind has a stable code
//! (`stagegate::refused::frozen`, …) that JSON reports and the action's
//! `refusal` output carry, so a workflow can branch on why a promotion was
//! refused without parsing its message. A refusal also says whether it can
//! pass later by itself (a freeze ends, a soak runs out, approvals come: the
//! App keeps such a request pending) or not (an illegal path, a wrong ref, a
//! rejection: the App rejects it), when, and how to get unblocked. A leaf
//! module: it knows nothing of the areas that refuse.

use chrono::{DateTime, Utc};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// The kinds of refusal, each with its stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `from → to` is not an edge of the promotion graph.
    Path,
    /// The release's git ref may not deploy to the target (branch rules), or
    /// is not recorded or not a valid ref.
    Ref,
    /// The release was never deployed to the source environment.
    UnknownRelease,
    /// The source environment does not run the release now (or nothing).
    NotCurrent,
    /// The source environment does not answer its health checks now.
    Unhealthy,
    /// Another run holds the target, or a deployment to it is in progress.
    Busy,
    /// The target is inside a freeze window.
    Frozen,
    /// The release has not run long enough in the source environment.
    Soak,
    /// No approved ServiceNow change inside its implement window.
    Change,
    /// Not enough distinct, eligible approvals (or the wait timer runs).
    Approvals,
    /// The environment needs approvals, so it is reached by promotion only.
    PromotionOnly,
    /// There is no earlier good release to roll back to.
    NoRollbackTarget,
    /// Someone held the environment (`hold set`): nothing goes in until it is cleared.
    Held,
}

impl Kind {
    /// The stable code: `stagegate::refused::<kind>`.
    pub fn code(self) -> &'static str {
        match self {
            Kind::Path => "stagegate::refused::path",
            Kind::Ref => "stagegate::refused::ref",
            Kind::UnknownRelease => "stagegate::refused::unknown_release",
            Kind::NotCurrent => "stagegate::refused::not_current",
            Kind::Unhealthy => "stagegate::refused::unhealthy",
            Kind::Busy => "stagegate::refused::busy",
            Kind::Frozen => "stagegate::refused::frozen",
            Kind::Soak => "stagegate::refused::soak",
            Kind::Change => "stagegate::refused::change",
            Kind::Approvals => "stagegate::refused::approvals",
            Kind::PromotionOnly => "stagegate::refused::promotion_only",
            Kind::NoRollbackTarget => "stagegate::refused::no_rollback_target",
            Kind::Held => "stagegate::refused::held",
        }
    }

    /// Whether a refusal of this kind can pass later without anyone changing
    /// the request: time passes, people approve, the source recovers.
    fn passes_later(self) -> bool {
        match self {
            Kind::Path | Kind::Ref | Kind::UnknownRelease | Kind::PromotionOnly | Kind::NoRollbackTarget => false,
            Kind::NotCurrent
            | Kind::Unhealthy
            | Kind::Busy
            | Kind::Frozen
            | Kind::Soak
            | Kind::Change
            | Kind::Approvals
            | Kind::Held => true,
        }
    }
}

/// A refusal by policy (exit 3), with the message that says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub kind: Kind,
    /// What was refused and how to get unblocked, in words.
    pub message: String,
    /// When it can pass (a freeze's end, a soak's end, the wait timer's).
    pub until: Option<DateTime<Utc>>,
    /// It cannot pass later as the request stands (the App rejects at once).
    pub is_final: bool,
    /// How to get unblocked, when there is a way beyond waiting.
    pub unblock: Option<String>,
}

impl Refusal {
    /// A refusal of `kind`; final or not as the kind usually is.
    pub fn new(kind: Kind, message: impl Into<String>) -> Refusal {
        Refusal { kind, message: message.into(), until: None, is_final: !kind.passes_later(), unblock: None }
    }

    /// It passes at `at`.
    pub fn until(mut self, at: Option<DateTime<Utc>>) -> Refusal {
        self.until = at;
        self
    }

    /// It cannot pass later (`true`), or can (`false`), whatever its kind says.
    pub fn final_(mut self, is_final: bool) -> Refusal {
        self.is_final = is_final;
        self
    }

    /// How to get unblocked.
    pub fn unblock(mut self, how: impl Into<String>) -> Refusal {
        self.unblock = Some(how.into());
        self
    }

    /// The stable code: `stagegate::refused::<kind>`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// What was refused and how to get unblocked, in words.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// `{"code": "stagegate::refused::frozen", "message": "prod is frozen …",
/// "can_pass_later": true, "until": "…", "unblock": …}`.
impl Serialize for Refusal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Refusal", 5)?;
        st.serialize_field("code", self.code())?;
        st.serialize_field("message", self.message())?;
        st.serialize_field("can_pass_later", &!self.is_final)?;
        st.serialize_field("until", &self.until.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))?;
        st.serialize_field("unblock", &self.unblock)?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_serializes_as_its_code_message_and_whether_it_can_pass_later() {
        let r = Refusal::new(Kind::Frozen, "prod is frozen");
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({ "code": "stagegate::refused::frozen", "message": "prod is frozen",
                "can_pass_later": true, "until": null, "unblock": null })
        );
        assert_eq!(r.to_string(), "prod is frozen");
        assert!(Refusal::new(Kind::Path, "no").is_final);
    }
}
