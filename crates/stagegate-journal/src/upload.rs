//! Uploading a journal: who may, which version id it gets, and the order of
//! writes that keeps the store consistent.
//!
//! 1. claim `sequence/<YYYYMMDD>.<N>.json` create-only — the N of
//!    `YYYYMMDD.N.<cluster>` is taken by whoever creates it first, whatever
//!    the cluster;
//! 2. stream the journal to `journals/<version>/<file>`;
//! 3. write the manifest (only now is the version listed);
//! 4. fold it into `latest.json` with a conditional write, retried on conflict.
//!
//! A failure before 3 leaves at most an unlisted claim (N is skipped, the order
//! stays total); the local file is never touched.

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use serde_json::json;

use super::JournalError;
use super::layout::{self, Latest, Manifest, VersionId};
use super::progress::Progress;
use super::retry::with_retries;
use super::store::{Cond, Store, StoreError};
use crate::config::Journal;
use crate::notes::Notes;

pub use super::store::hash_file;

/// Who uploads what, as given on the command line.
#[derive(Debug, Clone)]
pub struct Request {
    pub cluster: String,
    pub change: Option<String>,
    /// No progress bar or log lines.
    pub quiet: bool,
    /// Where progress and retries are told.
    pub notes: Arc<dyn Notes>,
}

/// Only `journal.writers` may upload, and only journals of their mandators.
/// Returns the mandators the journal declares (the writer's own by default).
pub fn authorize(cfg: &Journal, cluster: &str, mandators: &[String]) -> Result<Vec<String>, JournalError> {
    layout::check_name(cluster, "cluster name")?;
    let Some(writer) = cfg.writers.iter().find(|w| w.cluster == cluster) else {
        let names: Vec<&str> = cfg.writers.iter().map(|w| w.cluster.as_str()).collect();
        let help = if names.is_empty() {
            "no cluster may upload: list the writer clusters under journal.writers".to_string()
        } else {
            format!("only the writer clusters may upload: {}; `{cluster}` is read-only", names.join(", "))
        };
        return Err(JournalError::NotWriter { cluster: cluster.into(), help });
    };
    if mandators.is_empty() {
        return Ok(writer.mandators.clone());
    }
    for m in mandators {
        if !writer.mandators.contains(m) {
            return Err(JournalError::Mandator {
                cluster: cluster.into(),
                mandator: m.clone(),
                allowed: if writer.mandators.is_empty() { "none".into() } else { writer.mandators.join(", ") },
            });
        }
    }
    Ok(mandators.to_vec())
}

/// Takes the next free N of `date` for `cluster`: one past the highest N in
/// use, then upwards while someone else's create-only claim wins.
async fn claim(store: &dyn Store, date: NaiveDate, cluster: &str, file: &str) -> Result<VersionId, StoreError> {
    let day = format!("{}{}", layout::SEQUENCE, VersionId::day_prefix(date));
    let keys = store.list(&day).await?;
    let highest = keys.iter().filter_map(|k| layout::sequence_n(k)).max().unwrap_or(0);
    // N comes from key names in the store: the largest one has no next.
    let full = |n: u32| StoreError::Corrupt {
        key: day.clone(),
        detail: format!("version number {n} is the largest a day can have: no next one for {date}"),
    };
    let mut n = highest.checked_add(1).ok_or_else(|| full(highest))?;
    loop {
        let v = VersionId { date, n, cluster: cluster.to_string() };
        let body = json!({"version": v.to_string(), "file": file, "claimed_at": crate::clock::now(), "owner": super::lanes::owner()});
        if store.put(&layout::sequence_key(&v), body.to_string().into_bytes(), Cond::Absent).await? {
            return Ok(v);
        }
        n = n.checked_add(1).ok_or_else(|| full(n))?;
    }
}

/// Folds the manifest into `latest.json`; a lost race re-reads and retries, so
/// two uploads finishing together both end up accounted for.
pub async fn update_latest(store: &dyn Store, m: &Manifest) -> Result<Latest, StoreError> {
    loop {
        let current = store.get(layout::LATEST).await?;
        let (mut latest, cond) = match &current {
            Some(o) => {
                // Damaged (not what stagegate writes): refused, never overwritten.
                let l: Latest = crate::state::parse(&o.bytes)
                    .map_err(|e| StoreError::Corrupt { key: layout::LATEST.into(), detail: e.to_string() })?;
                (l, Cond::Match(o.etag.clone()))
            }
            None => (Latest::default(), Cond::Absent),
        };
        latest.record(m);
        let bytes = serde_json::to_vec_pretty(&latest).expect("serializes");
        if store.put(layout::LATEST, bytes, cond).await? {
            return Ok(latest);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// What identifies a file's content without reading it: if any of these
/// differ between the start and the end of an upload, the file changed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl Identity {
    fn of(path: &Path) -> std::io::Result<Identity> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path)?;
        let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
        Ok(Identity {
            dev: m.dev(),
            ino: m.ino(),
            size: m.len(),
            mtime_ns: ns(m.mtime(), m.mtime_nsec()),
            ctime_ns: ns(m.ctime(), m.ctime_nsec()),
        })
    }

    /// How `later` differs, in words; `None` when it does not.
    fn changed(&self, later: &Identity, sent: u64) -> Option<String> {
        if (self.dev, self.ino) != (later.dev, later.ino) {
            Some("it was replaced by another file".into())
        } else if self.size != later.size {
            Some(format!("its size went from {} to {} bytes", self.size, later.size))
        } else if sent != self.size {
            Some(format!("{sent} bytes were read of its {}", self.size))
        } else if (self.mtime_ns, self.ctime_ns) != (later.mtime_ns, later.ctime_ns) {
            Some("it was modified".into())
        } else {
            None
        }
    }
}

/// One attempt: claim, stream, check the file did not change, manifest.
/// `Ok(Err(_))` ends the retries: a changing file is not sent again.
async fn attempt(
    store: &dyn Store,
    path: &Path,
    file: &str,
    req: &Request,
    mandators: &[String],
    label: &str,
) -> Result<Result<Manifest, JournalError>, StoreError> {
    let changed = |detail| Ok(Err(JournalError::Changed { file: path.display().to_string(), detail }));
    let before = Identity::of(path).map_err(StoreError::io("read", path))?;
    let v = claim(store, crate::clock::now().date_naive(), &req.cluster, file).await?;
    let progress = Progress::new(label.to_string(), before.size, req.quiet, &req.notes);
    let object_meta =
        vec![("stagegate-version".to_string(), v.to_string()), ("stagegate-cluster".to_string(), req.cluster.clone())];
    let key = layout::object_key(&v, file);
    let t = store.upload(&key, path, &object_meta, &progress).await;
    progress.finish();
    let t = t?;
    // The sha256 published must be that of what was stored: the bytes sent are
    // those of the file as it was at the start, or the object goes again.
    let after = Identity::of(path).map_err(StoreError::io("read", path));
    let detail = match &after {
        Ok(after) => before.changed(after, t.size),
        Err(e) => Some(e.to_string()),
    };
    if let Some(detail) = detail {
        // Nothing points at the object yet (no manifest): take it away.
        if let Err(e) = store.delete(&key).await {
            return changed(format!("{detail}; the unlisted object {key} could not be removed: {e}"));
        }
        return changed(detail);
    }
    let m = Manifest {
        version: v.to_string(),
        cluster: req.cluster.clone(),
        file: file.to_string(),
        size: t.size,
        sha256: t.sha256,
        uploaded_at: crate::clock::now(),
        change: req.change.clone(),
        mandators: mandators.to_vec(),
    };
    let bytes = serde_json::to_vec_pretty(&m).expect("serializes");
    store.put(&layout::manifest_key(&v), bytes, Cond::Absent).await?;
    Ok(Ok(m))
}

/// Uploads one journal; the caller has authorized it.
pub async fn upload(
    store: Arc<dyn Store>,
    cfg: &Journal,
    path: &Path,
    req: &Request,
    mandators: Vec<String>,
) -> Result<Manifest, JournalError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => JournalError::NoSuchFile(path.display().to_string()),
        _ => JournalError::BadFile(path.display().to_string()),
    })?;
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    if !meta.is_file() || !layout::valid_name(&file) {
        return Err(JournalError::BadFile(path.display().to_string()));
    }
    let failed = |attempts, source| JournalError::upload_failed(path.display().to_string(), attempts, source);
    let label = format!("upload {file}");
    let result = with_retries(cfg.retries, &label, req.notes.as_ref(), |_| {
        attempt(store.as_ref(), path, &file, req, &mandators, &label)
    })
    .await;
    let m = result.map_err(|(attempts, e)| failed(attempts, e))??;
    // The journal is stored and listed; the version endpoint follows.
    with_retries(cfg.retries, "update latest.json", req.notes.as_ref(), |_| update_latest(store.as_ref(), &m))
        .await
        .map_err(|(_, source)| JournalError::EndpointFailed {
            file: path.display().to_string(),
            version: m.version.clone(),
            source,
        })?;
    Ok(m)
}

/// Every listed version, newest first. A manifest that disagrees with where
/// it was read from is damaged: refused, never imported.
pub async fn versions(store: &dyn Store) -> Result<Vec<Manifest>, JournalError> {
    let keys = store.list(layout::JOURNALS).await?;
    let mut found: Vec<(VersionId, String)> = keys
        .iter()
        .filter(|k| k.ends_with(&format!("/{}", layout::MANIFEST)))
        .filter_map(|k| layout::version_of_key(k).map(|v| (v, k.clone())))
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    let mut out = Vec::with_capacity(found.len());
    for (v, key) in found {
        if let Some(o) = store.get(&key).await? {
            out.push(checked_manifest(&v, &key, &o.bytes, &keys)?);
        }
    }
    Ok(out)
}

fn checked_manifest(v: &VersionId, key: &str, bytes: &[u8], keys: &[String]) -> Result<Manifest, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt { key: key.into(), detail };
    let m: Manifest = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    m.check_against(v).map_err(|e| corrupt(e.to_string()))?;
    let object = layout::object_key(v, &m.file);
    if !keys.contains(&object) {
        return Err(corrupt(format!("it names the file `{}`, which is not stored beside it", m.file)));
    }
    Ok(m)
}

/// The manifest of one version, checked against where it lives.
pub async fn manifest(store: &dyn Store, version: &str) -> Result<Manifest, JournalError> {
    let v = VersionId::parse(version).ok_or_else(|| JournalError::BadName(version.into(), "journal version"))?;
    let key = layout::manifest_key(&v);
    let o = store.get(&key).await?.ok_or_else(|| JournalError::UnknownVersion(version.into()))?;
    let keys = store.list(&format!("{}{v}/", layout::JOURNALS)).await?;
    Ok(checked_manifest(&v, &key, &o.bytes, &keys)?)
}
