//! `file://DIR`: the store as a directory with the same layout as the bucket.
//! Every write lands in a temporary file in the target's directory and is then
//! renamed into place, so a reader sees a whole object or none; conditional
//! writes compare a content hash (the "ETag") under the directory's lock.
//! Nothing under the root is followed through a symbolic link or opened as a
//! special file ([`crate::statefs`]).

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use super::{Cond, Object, Store, StoreError, Transferred, copy_hashing};
use crate::progress::Progress;
use crate::statefs;

fn io(action: &'static str) -> impl FnOnce((PathBuf, std::io::Error)) -> StoreError {
    move |(path, source)| StoreError::Io { action, path: path.display().to_string(), source }
}

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

    /// A temporary file beside `key`'s path (its directories real, created
    /// as needed); removed again unless persisted.
    fn temp_beside(&self, key: &str) -> Result<tempfile::NamedTempFile, StoreError> {
        let rel = Path::new(key).parent().unwrap_or(Path::new(""));
        statefs::create_dir_all(&self.root, rel).map_err(io("create"))?;
        let dir = self.root.join(rel);
        tempfile::Builder::new().prefix(".tmp").tempfile_in(&dir).map_err(StoreError::io("create a file in", &dir))
    }

    fn lock(&self) -> Result<File, StoreError> {
        let f = statefs::open_rw(&self.root, Path::new(".lock")).map_err(io("open"))?;
        f.lock().map_err(StoreError::io("lock", &self.root.join(".lock")))?;
        Ok(f)
    }

    fn etag(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    fn read_sync(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.path(key)?;
        statefs::read(&self.root, Path::new(key)).map_err(io("read"))
    }

    fn put_sync(&self, key: &str, bytes: &[u8], cond: &Cond) -> Result<bool, StoreError> {
        self.path(key)?;
        let rel = Path::new(key);
        match cond {
            Cond::Absent => {
                statefs::write_atomic(&self.root, rel, bytes, statefs::Replace::Never).map_err(io("create"))
            }
            Cond::Match(etag) => {
                let _lock = self.lock()?;
                match self.read_sync(key)? {
                    Some(current) if &Self::etag(&current) == etag => {}
                    _ => return Ok(false),
                }
                statefs::write_atomic(&self.root, rel, bytes, statefs::Replace::Any).map_err(io("replace"))
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
                if kind.is_symlink() {
                    let e = std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "it is a symbolic link; stagegate never follows links in its own directories",
                    );
                    return Err(StoreError::io("list", &entry.path())(e));
                }
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
        let tmp = self.temp_beside(key)?;
        let src = tokio::fs::File::open(file).await.map_err(StoreError::io("open", file))?;
        let dst = tokio::fs::File::from_std(tmp.reopen().map_err(StoreError::io("open", tmp.path()))?);
        let t = copy_hashing(src, dst, progress).await.map_err(StoreError::io("copy to", &path))?;
        tmp.as_file().sync_all().map_err(StoreError::io("sync", tmp.path()))?;
        statefs::absent_or_file(&path).map_err(StoreError::io("store", &path))?;
        tmp.persist(&path).map_err(|e| StoreError::io("store", &path)(e.error))?;
        Ok(t)
    }

    async fn download(&self, key: &str, dest: &Path, progress: &Progress) -> Result<Transferred, StoreError> {
        self.path(key)?;
        let src = statefs::open_read(&self.root, Path::new(key))
            .map_err(io("open"))?
            .ok_or_else(|| StoreError::io("open", &self.root.join(key))(std::io::ErrorKind::NotFound.into()))?;
        let src = tokio::fs::File::from_std(src);
        progress.set_total(src.metadata().await.map(|m| m.len()).unwrap_or(0));
        let dst = tokio::fs::File::from_std(statefs::create_file(dest).map_err(StoreError::io("create", dest))?);
        copy_hashing(src, dst, progress).await.map_err(StoreError::io("download to", dest))
    }

    async fn get(&self, key: &str) -> Result<Option<Object>, StoreError> {
        Ok(self.read_sync(key)?.map(|bytes| Object { etag: Self::etag(&bytes), bytes }))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path(key)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::io("delete", &path)(e)),
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
