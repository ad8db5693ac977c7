//! The audit trail: one JSON line per deploy, promote, rollback (refused ones
//! too) in `<state>/audit.jsonl` — who, what, when, approvals, outcome, and a
//! freeze override's reason. Appended under the state directory's lock.

use std::fs::OpenOptions;
use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::StepRecord;
use crate::forge::ForgeError;
use crate::forge::state::StateDir;

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
    pub outcome: String,
    pub message: String,
    pub steps: Vec<StepRecord>,
}

pub fn append(state: &StateDir, entry: &Entry) -> Result<(), ForgeError> {
    let _lock = state.lock()?;
    let path = state.root().join(FILE);
    let io = |action| {
        let path = path.display().to_string();
        move |source| ForgeError::Io { action, path, source }
    };
    let mut line = serde_json::to_vec(entry).expect("audit entries serialize");
    line.push(b'\n');
    let mut f = OpenOptions::new().create(true).append(true).open(&path).map_err(io("open"))?;
    f.write_all(&line).map_err(io("append to"))?;
    f.sync_all().map_err(io("sync"))
}
