//! `file://DIR`: the store as a directory with the same layout as the bucket.
//! Every write lands in a temporary file in the target's directory and is then
//! renamed into place, so a reader sees a whole object or none; conditional
//! writes compare a content hash (the "ETag") under the directory's lock.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use super::{Cond, Object, Store, StoreError, Transferred, copy_hashing};
use crate::journal::progress::Progress;

pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FileStore { root: root.into() }
    }

    /// Keys are `/`-separated relative paths; anything that could escape the
    /// root is refused rather than trusted.
    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        let ok = !key.is_empty() && key.split('/').all(|c| !c.is_empty() && c != "." && c != "..");
        if !ok {
            return Err(StoreError::Corrupt { key: key.into(), detail: "not a valid key".into() });
        }
        Ok(self.root.join(key))
    }

    fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile, StoreError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(StoreError::io("create", dir))?;
        tempfile::Builder::new().prefix(".tmp").tempfile_in(dir).map_err(StoreError::io("create a file in", dir))
    }

    fn lock(&self) -> Result<File, StoreError> {
        fs::create_dir_all(&self.root).map_err(StoreError::io("create", &self.root))?;
        let path = self.root.join(".lock");
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(StoreError::io("open", &path))?;
        f.lock().map_err(StoreError::io("lock", &path))?;
        Ok(f)
    }

    fn etag(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    fn put_sync(&self, key: &str, bytes: &[u8], cond: &Cond) -> Result<bool, StoreError> {
        use std::io::Write;
        let path = self.path(key)?;
        let mut tmp = Self::temp_beside(&path)?;
        tmp.write_all(bytes).map_err(StoreError::io("write", tmp.path()))?;
        tmp.as_file().sync_all().map_err(StoreError::io("sync", tmp.path()))?;
        match cond {
            Cond::Absent => match tmp.persist_noclobber(&path) {
                Ok(_) => Ok(true),
                Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(StoreError::io("create", &path)(e.error)),
            },
            Cond::Match(etag) => {
                let _lock = self.lock()?;
                match fs::read(&path) {
                    Ok(current) if &Self::etag(&current) == etag => {}
                    Ok(_) => return Ok(false),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
                    Err(e) => return Err(StoreError::io("read", &path)(e)),
                }
                tmp.persist(&path).map_err(|e| StoreError::io("replace", &path)(e.error))?;
                Ok(true)
            }
        }
    }

    fn list_sync(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        let mut stack = vec![(self.root.clone(), String::new())];
        while let Some((dir, rel)) = stack.pop() {
            let entries = match fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(StoreError::io("list", &dir)(e)),
            };
            for entry in entries {
                let entry = entry.map_err(StoreError::io("list", &dir))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue; // the lock and files still being written
                }
                let key = format!("{rel}{name}");
                let kind = entry.file_type().map_err(StoreError::io("list", &dir))?;
                if kind.is_dir() {
                    // Only descend where the prefix can still match.
                    let sub = format!("{key}/");
                    if sub.starts_with(prefix) || prefix.starts_with(&sub) {
                        stack.push((entry.path(), sub));
                    }
                } else if key.starts_with(prefix) {
                    out.push(key);
                }
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl Store for FileStore {
    fn describe(&self) -> String {
        format!("file://{}", self.root.display())
    }

    async fn upload(
        &self,
        key: &str,
        file: &Path,
        _meta: &[(String, String)],
        progress: &Progress,
    ) -> Result<Transferred, StoreError> {
        let path = self.path(key)?;
        let tmp = Self::temp_beside(&path)?;
        let src = tokio::fs::File::open(file).await.map_err(StoreError::io("open", file))?;
        let dst = tokio::fs::File::from_std(tmp.reopen().map_err(StoreError::io("open", tmp.path()))?);
        let t = copy_hashing(src, dst, progress).await.map_err(StoreError::io("copy to", &path))?;
        tmp.as_file().sync_all().map_err(StoreError::io("sync", tmp.path()))?;
        tmp.persist(&path).map_err(|e| StoreError::io("store", &path)(e.error))?;
        Ok(t)
    }

    async fn download(&self, key: &str, dest: &Path, progress: &Progress) -> Result<Transferred, StoreError> {
        let path = self.path(key)?;
        let src = tokio::fs::File::open(&path).await.map_err(StoreError::io("open", &path))?;
        progress.set_total(src.metadata().await.map(|m| m.len()).unwrap_or(0));
        let dst = tokio::fs::File::create(dest).await.map_err(StoreError::io("create", dest))?;
        copy_hashing(src, dst, progress).await.map_err(StoreError::io("download to", dest))
    }

    async fn get(&self, key: &str) -> Result<Option<Object>, StoreError> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(Object { etag: Self::etag(&bytes), bytes })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::io("read", &path)(e)),
        }
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, cond: Cond) -> Result<bool, StoreError> {
        let this = FileStore::new(self.root.clone());
        let key = key.to_string();
        tokio::task::spawn_blocking(move || this.put_sync(&key, &bytes, &cond)).await.map_err(|e| StoreError::Io {
            action: "write",
            path: e.to_string(),
            source: std::io::Error::other(e),
        })?
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.list_sync(prefix)
    }
}
