//! Holds ("stop the line"): an environment held takes no promotion, deploy
//! or journal promotion, and the App keeps its requests pending, until the
//! hold is cleared or its `until` passes. A rollback still runs unless the
//! hold was set with `rollbacks_too`.
//!
//! On GitHub a hold is a deployment in the held environment with its own
//! task ([`TASK`]), the hold in its payload and no status while it holds;
//! clearing it sets the deployment `inactive` with the reason as the
//! status's description. A workflow token (`deployments: write`) and the
//! App's installation token (`deployments: read`) read it, and people see it
//! on the environment's deployments page. The local forge keeps holds in its
//! records. The newest hold of an environment decides: setting one replaces
//! the one before.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Forge, ForgeError};

/// The deployment task a hold is recorded under on GitHub; ordinary
/// deployments are `deploy`.
pub const TASK: &str = "stagegate:hold";

/// Holds of one environment read at most (`history`): the newest decides.
pub const MAX_HOLDS: usize = 20;

/// What `hold set` records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewHold {
    pub environment: String,
    pub reason: String,
    /// Who set it.
    pub by: String,
    /// When it stops holding by itself (`None`: until cleared).
    pub until: Option<DateTime<Utc>>,
    /// Rollbacks are held too (by default they run: they end incidents).
    pub rollbacks_too: bool,
    /// When it was set (the local forge records it; GitHub stamps its own).
    pub at: DateTime<Utc>,
}

/// How a hold ended: `hold clear` (or replaced by a newer hold).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cleared {
    pub at: DateTime<Utc>,
    /// Who cleared it and why, as the `inactive` status says it.
    pub description: String,
}

/// A hold as the forge keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// The forge's number for it (GitHub: the deployment's id).
    pub id: u64,
    #[serde(flatten)]
    pub set: NewHold,
    pub cleared: Option<Cleared>,
}

impl Hold {
    /// Whether it holds at `now`: not cleared, and its `until` not reached.
    pub fn holds_at(&self, now: DateTime<Utc>) -> bool {
        self.cleared.is_none() && self.set.until.is_none_or(|u| now < u)
    }

    /// Whether it holds a rollback at `now`.
    pub fn holds_rollbacks_at(&self, now: DateTime<Utc>) -> bool {
        self.holds_at(now) && self.set.rollbacks_too
    }
}

/// The hold in force on `environment` at `now`, if any: the newest one, when
/// it still holds.
pub async fn current(forge: &dyn Forge, environment: &str, now: DateTime<Utc>) -> Result<Option<Hold>, ForgeError> {
    let newest = forge.holds(environment, 1).await?.into_iter().next();
    Ok(newest.filter(|h| h.holds_at(now)))
}

/// What an `inactive` status says of a cleared hold: `cleared by alice: fixed`.
pub fn clear_description(by: &str, reason: Option<&str>) -> String {
    match reason {
        Some(r) => format!("cleared by {by}: {r}"),
        None => format!("cleared by {by}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hold(until: Option<&str>, cleared: bool) -> Hold {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        Hold {
            id: 1,
            set: NewHold {
                environment: "prod".into(),
                reason: "INC-1".into(),
                by: "alice".into(),
                until: until.map(t),
                rollbacks_too: true,
                at: t("2026-12-01T10:00:00Z"),
            },
            cleared: cleared
                .then(|| Cleared { at: t("2026-12-01T11:00:00Z"), description: clear_description("bob", None) }),
        }
    }

    #[test]
    fn a_hold_holds_until_cleared_or_its_until() {
        let now = "2026-12-01T12:00:00Z".parse().unwrap();
        assert!(hold(None, false).holds_at(now));
        assert!(hold(Some("2026-12-01T12:00:01Z"), false).holds_rollbacks_at(now));
        assert!(!hold(Some("2026-12-01T12:00:00Z"), false).holds_at(now), "until is the first moment it is gone");
        assert!(!hold(None, true).holds_at(now));
    }
}
