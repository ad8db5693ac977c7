//! The journal's own audit trail, kept in the store beside the versions:
//! one small object per operation (upload, seed, promote, import) under
//! `audit/`, written create-only (S3 `If-None-Match: *`, a directory's
//! `create_new`), so writers racing each other never overwrite one another's
//! entries. A key starts with the entry's time, so a range is read by listing.
//!
//! Entries are read back by `stagegate audit export`; whatever the store
//! holds is attacker input there: a damaged or oversized entry is skipped
//! and counted, never trusted.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::{Cond, Store, StoreError};

/// The folder the entries live in.
pub const PREFIX: &str = "audit/";
/// Entries larger than this are not read (a small JSON document each).
const MAX_ENTRY: usize = 16 * 1024;
/// Attempts to find a free key (a collision needs the same microsecond and
/// the same 128 random bits).
const ATTEMPTS: u32 = 5;

/// One journal operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub at: DateTime<Utc>,
    /// `upload`, `seed`, `promote`, `import`.
    pub operation: String,
    /// Who ran it (`GITHUB_ACTOR`, else `USER`), or the uploading cluster's writer.
    pub actor: String,
    /// The lane (`promote`: the target lane), when one is concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lane: Option<String>,
    /// The journal version concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `succeeded`, `failed`, …
    pub outcome: String,
    /// What else is worth keeping: the cluster, the lane it came from, a change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The workflow run's page, under Actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_url: Option<String>,
}

/// The key an entry at `at` is written under: sortable time, then 128
/// random bits.
fn key(at: DateTime<Utc>) -> String {
    format!("{PREFIX}{}-{}.json", at.format("%Y%m%dT%H%M%S%.6fZ"), stagegate_core::random::hex128())
}

/// Appends `entry`: a new object, create-only, so a concurrent writer can
/// neither replace it nor be replaced by it.
pub async fn append(store: &dyn Store, entry: &Entry) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec(entry).expect("audit entries serialize");
    for _ in 0..ATTEMPTS {
        let key = key(entry.at);
        if store.put(&key, bytes.clone(), Cond::Absent).await? {
            return Ok(());
        }
    }
    Err(StoreError::Corrupt {
        key: PREFIX.into(),
        detail: format!("no free key for an audit entry after {ATTEMPTS} attempts"),
    })
}

/// What the store's trail holds in `[since, until]`, oldest first, and how
/// many entries could not be read.
pub async fn read(
    store: &dyn Store,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> Result<(Vec<Entry>, usize), StoreError> {
    let mut keys = store.list(PREFIX).await?;
    keys.sort();
    let stamp = |t: DateTime<Utc>| format!("{PREFIX}{}", t.format("%Y%m%dT%H%M%S%.6fZ"));
    let (low, high) = (since.map(stamp), until.map(|t| stamp(t + chrono::Duration::microseconds(1))));
    let mut entries = Vec::new();
    let mut skipped = 0;
    for key in keys {
        let in_range = low.as_ref().is_none_or(|l| key >= *l) && high.as_ref().is_none_or(|h| key < *h);
        if !in_range {
            continue;
        }
        let Some(obj) = store.get(&key).await? else { continue };
        match (obj.bytes.len() <= MAX_ENTRY).then(|| serde_json::from_slice::<Entry>(&obj.bytes)) {
            Some(Ok(e)) if since.is_none_or(|s| e.at >= s) && until.is_none_or(|u| e.at <= u) => entries.push(e),
            Some(Ok(_)) => {}
            _ => skipped += 1,
        }
    }
    entries.sort_by_key(|e| e.at);
    Ok((entries, skipped))
}
