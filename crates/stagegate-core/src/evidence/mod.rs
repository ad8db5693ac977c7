//! Evidence an auditor takes away: every promotion, deploy, rollback, hold
//! and journal operation as one flat event — when, who, where, what, who
//! approved, which reviews did not count, the change, the reasons, the
//! outcome and the run's page — made from the records the forge and the
//! journal store keep, never from a runner's local files.

pub mod csv;
pub mod dora;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::forge::history;
use crate::forge::hold::Hold;
use crate::forge::verdict::{Review, Verdict};
use crate::forge::{Deployment, DeploymentId};

/// One thing that happened, as `audit export` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub at: DateTime<Utc>,
    /// `promotion`, `deploy`, `rollback`, `hold`, `journal_upload`,
    /// `journal_seed`, `journal_promote`, `journal_import`.
    pub kind: String,
    pub actor: String,
    pub environment: Option<String>,
    pub lane: Option<String>,
    /// The release (deployments) or the journal version.
    pub release: Option<String>,
    /// A promotion's source environment.
    pub from: Option<String>,
    pub sha: Option<String>,
    /// The forge's deployment number.
    pub deployment: Option<u64>,
    /// Who counted in the gate; `null` when the record does not say.
    pub approved_by: Option<Vec<String>>,
    /// The reviews that did not count, and why (`mallory (self-review)`).
    pub not_counted: Vec<String>,
    /// `CHG0030001 (approved, Implement)`.
    pub change: Option<String>,
    /// A freeze override's reason, a rollback's reason, what was asked for.
    pub reasons: Vec<String>,
    /// `live`, `replaced`, `failed`, `rolled back`, `succeeded`, `refused`, …
    pub outcome: String,
    /// The last status's description (what the run said when it finished,
    /// its hooks' outcomes among it) or the journal entry's detail.
    pub detail: Option<String>,
    /// The workflow run's page.
    pub run_url: Option<String>,
}

/// The event of a deployment, read in the history `deps` of its environment
/// (which says what became of it).
pub fn of_deployment(deps: &[Deployment], d: &Deployment) -> Event {
    let r = &d.request;
    let kind = match (r.rollback_of, &r.from) {
        (Some(_), _) => "rollback",
        (None, Some(_)) => "promotion",
        (None, None) => "deploy",
    };
    let v = r.verdict.as_ref();
    let mut reasons = Vec::new();
    if let Some(o) = v.and_then(|v| v.freeze_override.as_ref()) {
        reasons.push(format!("freeze `{}` overridden: {}", o.window, o.reason));
    }
    if let Some(why) = v.and_then(|v| v.rollback_reason.as_ref()) {
        reasons.push(format!("rolled back because {why}"));
    }
    reasons.extend(r.reason.iter().map(|why| format!("asked for: {why}")));
    Event {
        at: r.at,
        kind: kind.into(),
        actor: r.creator.clone(),
        environment: Some(r.environment.clone()),
        lane: None,
        release: Some(r.release.clone()),
        from: r.from.clone(),
        sha: r.sha.clone(),
        deployment: match d.id {
            DeploymentId::Recorded(id) => Some(id),
            DeploymentId::Planned => None,
        },
        approved_by: v.map(Verdict::approved_by),
        not_counted: v.map_or_else(Vec::new, |v| v.not_counted.iter().map(Review::describe).collect()),
        change: v.and_then(|v| v.change.as_ref()).map(|c| c.describe()),
        reasons,
        outcome: history::outcome(deps, d).into(),
        detail: d.statuses.last().map(|s| s.description.clone()).filter(|s| !s.is_empty()),
        run_url: r.log_url.clone(),
    }
}

/// The events of holds: one `hold` event when a hold was set (outcome
/// `set`, its reason and until), and one when it ended (outcome `cleared`,
/// who cleared it and why, as its record says).
pub fn hold_events(holds: &[Hold]) -> Vec<Event> {
    let event = |h: &Hold, at, actor: String, outcome: &str, reasons, detail| Event {
        at,
        kind: "hold".into(),
        actor,
        environment: Some(h.set.environment.clone()),
        lane: None,
        release: None,
        from: None,
        sha: None,
        deployment: Some(h.id),
        approved_by: None,
        not_counted: Vec::new(),
        change: None,
        reasons,
        outcome: outcome.into(),
        detail,
        run_url: None,
    };
    let mut out = Vec::new();
    for h in holds {
        let mut why = vec![h.set.reason.clone()];
        if let Some(u) = h.set.until {
            why.push(format!("until {}", u.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
        }
        if h.set.rollbacks_too {
            why.push("rollbacks too".into());
        }
        out.push(event(h, h.set.at, h.set.by.clone(), "set", why, None));
        if let Some(c) = &h.cleared {
            let by = c.description.strip_prefix("cleared by ").and_then(|r| r.split(':').next());
            let actor = by.map_or_else(|| "(not recorded)".to_string(), str::to_string);
            out.push(event(h, c.at, actor, "cleared", Vec::new(), Some(c.description.clone())));
        }
    }
    out
}

/// Whether `e` falls in `[since, until]` and concerns `scope` (an
/// environment or a lane) when one is given.
pub fn in_range(e: &Event, scope: Option<&str>, since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> bool {
    let here = scope.is_none_or(|s| e.environment.as_deref() == Some(s) || e.lane.as_deref() == Some(s));
    here && since.is_none_or(|t| e.at >= t) && until.is_none_or(|t| e.at <= t)
}

/// The events in canonical form: one compact JSON array, keys in the order
/// of [`Event`], every character outside ASCII written `\uXXXX` (lower-case
/// hex, surrogate pairs above U+FFFF) — what Python's
/// `json.dumps(events, separators=(",", ":"))` writes of the parsed export.
pub fn canonical(events: &[Event]) -> Vec<u8> {
    ascii(&serde_json::to_string(events).expect("events serialize")).into_bytes()
}

/// JSON text with every character outside ASCII escaped (outside strings
/// JSON has none, so this never changes what it says).
pub fn ascii(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// The sha256 (hex) of the canonical events.
pub fn digest(events: &[Event]) -> String {
    hex::encode(Sha256::digest(canonical(events)))
}
