//! The verdict of a set of outcomes, as the App answers a deployment
//! protection rule: approve when nothing refuses, reject when a refusal cannot
//! pass later, and otherwise keep the request pending until the earliest time
//! one of them may pass (or the next event).

use chrono::{DateTime, Utc};

use super::Evaluated;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approve,
    /// Every refusal can pass later; look again at `until` (or on the next event).
    Pending {
        until: Option<DateTime<Utc>>,
    },
    Reject,
}

/// The verdict of `evaluated`.
pub fn of(evaluated: &[Evaluated]) -> Verdict {
    let mut refusals = evaluated.iter().filter_map(|e| e.outcome.refusal()).peekable();
    if refusals.peek().is_none() {
        return Verdict::Approve;
    }
    let refusals: Vec<_> = refusals.collect();
    if refusals.iter().any(|r| r.is_final) {
        return Verdict::Reject;
    }
    Verdict::Pending { until: refusals.iter().filter_map(|r| r.until).min() }
}
