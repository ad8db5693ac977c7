//! The local state directory (`.stagegate/`): JSON documents, each written
//! atomically (temp file + rename) while holding an exclusive lock, so two
//! processes never interleave a read-modify-write or leave a torn file.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Serialize, de::DeserializeOwned};

use super::ForgeError;

#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

/// Held while a read-modify-write runs; the lock is released on drop.
pub struct Lock {
    _file: File,
}

impl StateDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        StateDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ForgeError {
        let path = path.display().to_string();
        move |source| ForgeError::Io { action, path, source }
    }

    /// Takes the directory's exclusive lock, blocking until it is free.
    pub fn lock(&self) -> Result<Lock, ForgeError> {
        fs::create_dir_all(&self.root).map_err(Self::io("create", &self.root))?;
        let path = self.root.join(".lock");
        let file =
            OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(Self::io("open", &path))?;
        file.lock().map_err(Self::io("lock", &path))?;
        Ok(Lock { _file: file })
    }

    /// Reads a document; a missing one is the default (empty) state.
    pub fn read<T: DeserializeOwned + Default>(&self, name: &str) -> Result<T, ForgeError> {
        let path = self.root.join(name);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| ForgeError::Corrupt { path: path.display().to_string(), detail: e.to_string() }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
            Err(e) => Err(Self::io("read", &path)(e)),
        }
    }

    /// Writes a document atomically. Call with the lock held.
    pub fn write<T: Serialize>(&self, _lock: &Lock, name: &str, value: &T) -> Result<(), ForgeError> {
        let path = self.root.join(name);
        let mut tmp = tempfile::NamedTempFile::new_in(&self.root).map_err(Self::io("create a file in", &self.root))?;
        let bytes = serde_json::to_vec_pretty(value).expect("state serializes");
        tmp.write_all(&bytes).map_err(Self::io("write", tmp.path()))?;
        tmp.write_all(b"\n").map_err(Self::io("write", tmp.path()))?;
        tmp.as_file().sync_all().map_err(Self::io("sync", tmp.path()))?;
        tmp.persist(&path).map_err(|e| Self::io("replace", &path)(e.error))?;
        Ok(())
    }

    /// Read-modify-write under the lock.
    pub fn update<T, R>(&self, name: &str, f: impl FnOnce(&mut T) -> R) -> Result<R, ForgeError>
    where
        T: Serialize + DeserializeOwned + Default,
    {
        let lock = self.lock()?;
        let mut value: T = self.read(name)?;
        let out = f(&mut value);
        self.write(&lock, name, &value)?;
        Ok(out)
    }
}
