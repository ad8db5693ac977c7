//! `--dry-run` for the store: reads are real, writes are described and skipped.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;

use super::{Cond, Object, Store, StoreError, Transferred};
use crate::effects::EffectLog;
use crate::progress::Progress;

pub struct DryRun {
    inner: Arc<dyn Store>,
    log: EffectLog,
}

impl DryRun {
    pub fn new(inner: Arc<dyn Store>, log: EffectLog) -> Self {
        DryRun { inner, log }
    }
}

#[async_trait]
impl Store for DryRun {
    fn describe(&self) -> String {
        format!("{} (dry run)", self.inner.describe())
    }

    async fn upload(
        &self,
        key: &str,
        file: &Path,
        _meta: &[(String, String)],
        progress: &Progress,
    ) -> Result<Transferred, StoreError> {
        // Hash the file for real, so the plan shows what would be stored.
        let t = super::hash_file(file, progress).await?;
        self.log.push(format!("upload {} ({} bytes) to {}/{key}", file.display(), t.size, self.inner.describe()));
        Ok(t)
    }

    /// Downloads into a temporary file outside every state directory (the
    /// download is a read: the plan checks it for real), removed at once;
    /// `dest` is never created.
    async fn download(&self, key: &str, dest: &Path, progress: &Progress) -> Result<Transferred, StoreError> {
        let tmp = tempfile::NamedTempFile::new().map_err(StoreError::io("create a temporary file for", dest))?;
        let t = self.inner.download(key, tmp.path(), progress).await?;
        self.log.push(format!("download {}/{key} to {}", self.inner.describe(), dest.display()));
        Ok(t)
    }

    async fn get(&self, key: &str) -> Result<Option<Object>, StoreError> {
        self.inner.get(key).await
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, cond: Cond) -> Result<bool, StoreError> {
        let how = match cond {
            Cond::Absent => "create",
            Cond::Match(_) => "update",
        };
        self.log.push(format!("{how} {}/{key} ({} bytes)", self.inner.describe(), bytes.len()));
        Ok(true)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.log.push(format!("delete {}/{key}", self.inner.describe()));
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.inner.list(prefix).await
    }
}
