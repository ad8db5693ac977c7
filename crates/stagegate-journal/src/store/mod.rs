//! Where journals live: S3 (or an S3-compatible server) or a directory, behind
//! one interface so every command — and `--dry-run` — works the same on both.

pub mod dry_run;
pub mod file;
pub mod s3;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use miette::Diagnostic;
use thiserror::Error;

use super::progress::Progress;
use crate::config::{Journal, StoreLocation};
use crate::effects::Writes;
use crate::exit::Exit;

#[derive(Debug, Error, Diagnostic)]
pub enum StoreError {
    #[error("cannot {action} `{path}`: {source}")]
    #[diagnostic(code(stagegate::store::io), help("check that the store directory exists and is writable"))]
    Io { action: &'static str, path: String, source: std::io::Error },

    #[error("S3 {op} of `{key}` failed: {message}")]
    #[diagnostic(
        code(stagegate::store::s3),
        help(
            "check the credentials (AWS_ACCESS_KEY_ID/AWS_PROFILE/OIDC role), the bucket, the region and AWS_ENDPOINT_URL or journal.s3.endpoint"
        )
    )]
    S3 { op: &'static str, key: String, message: String },

    /// S3 refused the request in a way another attempt does not change:
    /// credentials, permissions, a bucket that does not exist. Not retried.
    #[error("{failed}")]
    #[diagnostic(code(stagegate::store::s3_refused), help("{help}"))]
    Refused { failed: String, help: &'static str },

    #[error("the download of `{key}` failed its integrity check: {detail}")]
    #[diagnostic(
        code(stagegate::store::integrity),
        help("the stored object is damaged or was replaced; upload the journal again")
    )]
    Integrity { key: String, detail: String },

    #[error("`{key}` in the store is damaged: {detail}")]
    #[diagnostic(
        code(stagegate::store::corrupt),
        help("restore it from a backup or remove it; stagegate never overwrites it")
    )]
    Corrupt { key: String, detail: String },
}

impl StoreError {
    pub fn exit(&self) -> Exit {
        Exit::Failed
    }

    /// Whether another attempt may succeed: S3 failures (network, 5xx,
    /// throttling) and damaged transfers are; local I/O errors, refusals and
    /// damaged documents are not.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::S3 { .. } | StoreError::Integrity { .. })
    }

    pub fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
        let path = path.display().to_string();
        move |source| StoreError::Io { action, path, source }
    }
}

impl crate::retry::Transient for StoreError {
    fn is_transient(&self) -> bool {
        StoreError::is_transient(self)
    }
}

/// Reads a file once to learn its sha256 and size (dry runs, change detection).
pub async fn hash_file(path: &Path, progress: &Progress) -> Result<Transferred, StoreError> {
    let f = tokio::fs::File::open(path).await.map_err(StoreError::io("open", path))?;
    copy_hashing(f, tokio::io::sink(), progress).await.map_err(StoreError::io("read", path))
}

/// The precondition of a small write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    /// Create only: fails if the key exists (S3 `If-None-Match: *`).
    Absent,
    /// Replace only this exact revision (S3 `If-Match: <etag>`).
    Match(String),
}

/// A small document and the revision it was read at.
#[derive(Debug, Clone)]
pub struct Object {
    pub bytes: Vec<u8>,
    pub etag: String,
}

/// A transferred file: its sha256 (hex) and size, computed while streaming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transferred {
    pub sha256: String,
    pub size: u64,
}

#[async_trait]
pub trait Store: Send + Sync {
    /// "s3://bucket/prefix", "file://dir", for messages.
    fn describe(&self) -> String;

    /// Streams a local file to `key`. The object becomes visible whole or not at
    /// all; `meta` goes into the object's metadata where the store has any.
    async fn upload(
        &self,
        key: &str,
        file: &Path,
        meta: &[(String, String)],
        progress: &Progress,
    ) -> Result<Transferred, StoreError>;

    /// Streams `key` into `dest` (created or truncated).
    async fn download(&self, key: &str, dest: &Path, progress: &Progress) -> Result<Transferred, StoreError>;

    /// Reads a small document; `None` when it does not exist.
    async fn get(&self, key: &str) -> Result<Option<Object>, StoreError>;

    /// Writes a small document under a precondition; `Ok(false)` when it did not hold.
    async fn put(&self, key: &str, bytes: Vec<u8>, cond: Cond) -> Result<bool, StoreError>;

    /// Removes `key` (absent is fine): only for an object nothing points at
    /// yet, such as a journal whose upload turned out inconsistent.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;

    /// Every key starting with `prefix`, in no particular order.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError>;
}

/// Opens `journal.store`, wrapped for `--dry-run`.
pub async fn open(cfg: &Journal, writes: &Writes) -> Result<Arc<dyn Store>, StoreError> {
    let inner: Arc<dyn Store> = match &cfg.store {
        StoreLocation::File(dir) => Arc::new(file::FileStore::new(dir)),
        StoreLocation::S3 { bucket, prefix } => Arc::new(s3::S3Store::connect(bucket, prefix, cfg.s3.as_ref()).await?),
    };
    Ok(match writes.dry_run() {
        Some(log) => Arc::new(dry_run::DryRun::new(inner, log.clone())),
        None => inner,
    })
}

/// Copies `reader` to `writer` in 1 MiB chunks, hashing on the way: one pass,
/// memory flat in the file's size.
pub async fn copy_hashing<R, W>(mut reader: R, mut writer: W, progress: &Progress) -> std::io::Result<Transferred>
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    use sha2::{Digest, Sha256};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        writer.write_all(&buf[..n]).await?;
        size += n as u64;
        progress.inc(n as u64);
    }
    writer.flush().await?;
    Ok(Transferred { sha256: hex::encode(hasher.finalize()), size })
}
