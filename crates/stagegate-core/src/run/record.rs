//! What a run keeps in the deployment records it makes: the verdict its
//! checks reached — the gate's tally, the change, a freeze override — taken
//! from the same values the report and the audit trail are made of, so
//! `history` can never list someone the gate did not count.

use super::Runner;
use super::audit::FreezeOverride;
use crate::forge::verdict::{self, List, Review, Text};
use crate::gates::approvals::{Row, Verdict as Gate};
use crate::gates::servicenow::Change;

/// The record's verdict: who counted and who did not (and why), the change
/// and a freeze override. `gate` is `None` where no approvals were needed.
pub fn verdict(gate: Option<&Gate>, change: Option<&Change>, freeze: Option<&FreezeOverride>) -> verdict::Verdict {
    let rows = gate.map_or(&[][..], |g| g.reviews.as_slice());
    verdict::Verdict {
        required: gate.map_or(0, |g| g.required),
        approvers: List::first(rows.iter().filter(|r| r.counted).map(review)),
        not_counted: List::first(rows.iter().filter(|r| !r.counted).map(review)),
        change: change.map(|c| verdict::Change {
            number: Text::lossy(&c.number),
            approval: Text::lossy(&c.approval),
            state: Text::lossy(&c.state),
            start: (!c.start_date.is_empty()).then(|| Text::lossy(&c.start_date)),
            end: (!c.end_date.is_empty()).then(|| Text::lossy(&c.end_date)),
        }),
        freeze_override: freeze
            .map(|f| verdict::Override { window: Text::lossy(&f.window), reason: Text::lossy(&f.reason) }),
        rollback_reason: None,
    }
}

fn review(r: &Row) -> Review {
    Review {
        user: Text::lossy(&r.user),
        environment: Text::lossy(&r.environment),
        why: r.reason,
        team: r.team.as_deref().map(Text::lossy),
    }
}

impl Runner<'_> {
    /// The verdict of this run so far, for the deployment record it makes.
    pub fn kept_verdict(&self) -> verdict::Verdict {
        verdict(self.gate.as_ref(), self.change.as_ref(), self.freeze_override.as_ref())
    }
}
