//! The audit trail: one JSON line per deploy, promote, rollback (refused ones
//! too) in `<state>/audit.jsonl` — who, what, when, approvals, outcome, and a
//! freeze override's reason. Appended under the state directory's lock, one
//! whole line at a time.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::StepRecord;
use crate::state::{StateDir, StateError};
use crate::statefs;

pub const FILE: &str = "audit.jsonl";

#[derive(Debug, Clone, Serialize)]
pub struct FreezeOverride {
    pub window: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub run_id: String,
    pub command: String,
    pub env: String,
    pub from: Option<String>,
    pub release: Option<String>,
    pub sha: Option<String>,
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// Who counted in the gate.
    pub approvals: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freeze_override: Option<FreezeOverride>,
    /// Why the run was asked for (`rollback --reason`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub outcome: String,
    pub message: String,
    pub steps: Vec<StepRecord>,
}

/// Refuses an audit trail that is a link or special file before a run
/// starts, so a run is never left without its audit line.
pub fn check(state: &StateDir) -> Result<(), StateError> {
    state.check()?;
    let path = state.root().join(FILE);
    statefs::absent_or_file(&path).map_err(|source| state.io_err("append to")((path, source)))
}

/// Appends one entry as one line, whole or not at all (see
/// [`statefs::append_line`]); `audit.jsonl` is never followed through a link.
pub fn append(state: &StateDir, entry: &Entry) -> Result<(), StateError> {
    let _lock = state.lock()?;
    let mut line = serde_json::to_vec(entry).expect("audit entries serialize");
    line.push(b'\n');
    let mut f = statefs::open_append(state.root(), Path::new(FILE)).map_err(state.io_err("open"))?;
    statefs::append_line(&mut f, &line).map_err(|e| state.io_err("append to")((state.root().join(FILE), e)))
}
