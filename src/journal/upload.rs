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

use chrono::{NaiveDate, Utc};
use serde_json::json;

use super::JournalError;
use super::layout::{self, Latest, Manifest, VersionId};
use super::progress::Progress;
use super::retry::with_retries;
use super::store::{Cond, Store, StoreError, Transferred};
use crate::config::Journal;

/// Who uploads what, as given on the command line.
#[derive(Debug, Clone)]
pub struct Request {
    pub cluster: String,
    pub change: Option<String>,
    /// No progress bar or log lines.
    pub quiet: bool,
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

/// Reads a file once to learn its sha256 and size (dry runs, change detection).
pub async fn hash_file(path: &Path, progress: &Progress) -> Result<Transferred, StoreError> {
    let f = tokio::fs::File::open(path).await.map_err(StoreError::io("open", path))?;
    super::store::copy_hashing(f, tokio::io::sink(), progress).await.map_err(StoreError::io("read", path))
}

/// Takes the next free N of `date` for `cluster`: one past the highest N in
/// use, then upwards while someone else's create-only claim wins.
async fn claim(store: &dyn Store, date: NaiveDate, cluster: &str, file: &str) -> Result<VersionId, StoreError> {
    let day = format!("{}{}", layout::SEQUENCE, VersionId::day_prefix(date));
    let keys = store.list(&day).await?;
    let mut n = keys.iter().filter_map(|k| layout::sequence_n(k)).max().unwrap_or(0) + 1;
    loop {
        let v = VersionId { date, n, cluster: cluster.to_string() };
        let body =
            json!({"version": v.to_string(), "file": file, "claimed_at": Utc::now(), "owner": super::lanes::owner()});
        if store.put(&layout::sequence_key(&v), body.to_string().into_bytes(), Cond::Absent).await? {
            return Ok(v);
        }
        n += 1;
    }
}

/// Folds the manifest into `latest.json`; a lost race re-reads and retries, so
/// two uploads finishing together both end up accounted for.
pub async fn update_latest(store: &dyn Store, m: &Manifest) -> Result<Latest, StoreError> {
    loop {
        let current = store.get(layout::LATEST).await?;
        let (mut latest, cond) = match &current {
            Some(o) => {
                let l: Latest = serde_json::from_slice(&o.bytes)
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

/// Uploads one journal; the caller has authorized it.
pub async fn upload(
    store: Arc<dyn Store>,
    cfg: &Journal,
    path: &Path,
    req: &Request,
    mandators: Vec<String>,
) -> Result<Manifest, JournalError> {
    let meta = std::fs::metadata(path).map_err(|_| JournalError::BadFile(path.display().to_string()))?;
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    if !meta.is_file() || !layout::valid_name(&file) {
        return Err(JournalError::BadFile(path.display().to_string()));
    }
    let (size, mandators) = (meta.len(), &mandators);
    let failed = |attempts, source| JournalError::UploadFailed { file: path.display().to_string(), attempts, source };
    let label = format!("upload {file}");
    let result = with_retries(cfg.retries, &label, |_| {
        let store = store.clone();
        let (file, label) = (file.clone(), label.clone());
        async move {
            let v = claim(store.as_ref(), Utc::now().date_naive(), &req.cluster, &file).await?;
            let progress = Progress::new(label, size, req.quiet);
            let object_meta = vec![
                ("stagegate-version".to_string(), v.to_string()),
                ("stagegate-cluster".to_string(), req.cluster.clone()),
            ];
            let t = store.upload(&layout::object_key(&v, &file), path, &object_meta, &progress).await;
            progress.finish();
            let t = t?;
            let m = Manifest {
                version: v.to_string(),
                cluster: req.cluster.clone(),
                file,
                size: t.size,
                sha256: t.sha256,
                uploaded_at: Utc::now(),
                change: req.change.clone(),
                mandators: mandators.to_vec(),
            };
            let bytes = serde_json::to_vec_pretty(&m).expect("serializes");
            store.put(&layout::manifest_key(&v), bytes, Cond::Absent).await?;
            Ok::<_, StoreError>(m)
        }
    })
    .await;
    let m = result.map_err(|(attempts, e)| failed(attempts, e))?;
    // The journal is stored and listed; the version endpoint follows.
    with_retries(cfg.retries, "update latest.json", |_| update_latest(store.as_ref(), &m)).await.map_err(
        |(_, source)| JournalError::EndpointFailed {
            file: path.display().to_string(),
            version: m.version.clone(),
            source,
        },
    )?;
    Ok(m)
}

/// Every listed version, newest first.
pub async fn versions(store: &dyn Store) -> Result<Vec<Manifest>, JournalError> {
    let keys = store.list(layout::JOURNALS).await?;
    let mut found: Vec<(VersionId, String)> = keys
        .into_iter()
        .filter(|k| k.ends_with(&format!("/{}", layout::MANIFEST)))
        .filter_map(|k| layout::version_of_key(&k).map(|v| (v, k)))
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    let mut out = Vec::with_capacity(found.len());
    for (_, key) in found {
        if let Some(o) = store.get(&key).await? {
            let m: Manifest = serde_json::from_slice(&o.bytes)
                .map_err(|e| StoreError::Corrupt { key: key.clone(), detail: e.to_string() })?;
            out.push(m);
        }
    }
    Ok(out)
}

/// The manifest of one version.
pub async fn manifest(store: &dyn Store, version: &str) -> Result<Manifest, JournalError> {
    let v = VersionId::parse(version).ok_or_else(|| JournalError::BadName(version.into(), "journal version"))?;
    let key = layout::manifest_key(&v);
    let o = store.get(&key).await?.ok_or_else(|| JournalError::UnknownVersion(version.into()))?;
    serde_json::from_slice(&o.bytes).map_err(|e| StoreError::Corrupt { key, detail: e.to_string() }.into())
}
