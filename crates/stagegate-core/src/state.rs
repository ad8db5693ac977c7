//! A state directory (`.stagegate/`, or a `file://` journal KV): JSON documents, each written
//! atomically (temp file + rename) while holding an exclusive lock, so two
//! processes never interleave a read-modify-write or leave a torn file.
//!
//! Every file and directory is opened through [`crate::statefs`]: a symbolic
//! link or special file anywhere under the state dir is refused, never
//! followed. A document that parses as JSON but is not what stagegate wrote
//! (`[]`, unknown fields, broken invariants) is damaged state: refused, never
//! overwritten.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Serialize, de::DeserializeOwned};

use miette::Diagnostic;
use thiserror::Error;

use crate::exit::Exit;
use crate::statefs;

/// A state directory that cannot be used; the help names which directory
/// it is and how it is configured.
#[derive(Debug, Error, Diagnostic)]
pub enum StateError {
    #[error("cannot {action} `{path}`: {source}")]
    #[diagnostic(
        code(stagegate::state::io),
        help("check that {what} is writable and holds only regular files and directories, no symbolic links")
    )]
    Io { action: &'static str, path: String, source: std::io::Error, what: &'static str },

    #[error("the state file `{path}` is damaged: {detail}")]
    #[diagnostic(
        code(stagegate::state::corrupt),
        help("stagegate never overwrites it; move it aside to start from empty state, or restore it from a backup")
    )]
    Corrupt { path: String, detail: Damage },
}

/// What is wrong with a document that is not what stagegate wrote.
#[derive(Debug, Error)]
pub enum Damage {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("expected a JSON object, found {0}")]
    NotObject(&'static str),
    /// The document's own invariant ([`Document::check`]) does not hold.
    #[error("{0}")]
    Broken(Box<dyn std::error::Error + Send + Sync>),
}

impl StateError {
    pub fn exit(&self) -> Exit {
        Exit::Failed
    }
}

/// A document kept in a state directory.
pub trait Document: Serialize + DeserializeOwned + Default {
    /// Why [`Document::check`] refuses a document (`Infallible` if it never does).
    type Damage: std::error::Error + Send + Sync + 'static;
    /// What must hold of a document stagegate wrote; `Err` says what does not.
    fn check(&self) -> Result<(), Self::Damage>;
}

#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
    /// What the directory is, for messages: "the state directory (--state-dir)".
    what: &'static str,
}

/// Held while a read-modify-write runs; the lock is released on drop.
pub struct Lock {
    _file: File,
}

impl StateDir {
    /// The local state directory (`--state-dir`): local forge, locks, audit trail.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        StateDir::named(root, "the state directory (--state-dir)")
    }

    /// Another directory of documents; `what` names it in messages.
    pub fn named(root: impl Into<PathBuf>, what: &'static str) -> Self {
        StateDir { root: root.into(), what }
    }

    /// The error of `action` on a path under this directory.
    pub fn io_err(&self, action: &'static str) -> impl FnOnce((PathBuf, std::io::Error)) -> StateError + use<> {
        let what = self.what;
        move |(path, source)| StateError::Io { action, path: path.display().to_string(), source, what }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Refuses a state dir that is a link or not a directory (a missing one is fine).
    pub fn check(&self) -> Result<(), StateError> {
        statefs::dirs(&self.root, Path::new(""), false).map(|_| ()).map_err(self.io_err("use"))
    }

    /// Takes the directory's exclusive lock, blocking until it is free.
    pub fn lock(&self) -> Result<Lock, StateError> {
        let file = statefs::open_rw(&self.root, Path::new(".lock")).map_err(self.io_err("open"))?;
        file.lock().map_err(|source| StateError::Io {
            action: "lock",
            what: self.what,
            path: self.root.join(".lock").display().to_string(),
            source,
        })?;
        Ok(Lock { _file: file })
    }

    /// Reads a document; a missing one is the default (empty) state.
    pub fn read<T: Document>(&self, name: &str) -> Result<T, StateError> {
        let path = self.root.join(name);
        let Some(bytes) = statefs::read(&self.root, Path::new(name)).map_err(self.io_err("read"))? else {
            return Ok(T::default());
        };
        parse(&bytes).map_err(|detail| StateError::Corrupt { path: path.display().to_string(), detail })
    }

    /// Writes a document atomically. Call with the lock held.
    pub fn write<T: Document>(&self, _lock: &Lock, name: &str, value: &T) -> Result<(), StateError> {
        let mut bytes = serde_json::to_vec_pretty(value).expect("state serializes");
        bytes.push(b'\n');
        statefs::write_atomic(&self.root, Path::new(name), &bytes, statefs::Replace::Any)
            .map_err(self.io_err("write"))?;
        Ok(())
    }

    /// Read-modify-write under the lock.
    pub fn update<T: Document, R>(&self, name: &str, f: impl FnOnce(&mut T) -> R) -> Result<R, StateError> {
        let lock = self.lock()?;
        let mut value: T = self.read(name)?;
        let out = f(&mut value);
        self.write(&lock, name, &value)?;
        Ok(out)
    }
}

/// A document as stagegate writes it: one JSON object (never an array, a
/// number or an empty file), of the document's shape, its invariants holding.
pub fn parse<T: Document>(bytes: &[u8]) -> Result<T, Damage> {
    let value: serde_json::Value = serde_json::from_slice(bytes)?;
    if !value.is_object() {
        return Err(Damage::NotObject(json_kind(&value)));
    }
    let doc: T = serde_json::from_value(value)?;
    doc.check().map_err(|e| Damage::Broken(Box::new(e)))?;
    Ok(doc)
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Counter {
        n: u64,
    }

    #[derive(Debug, Error)]
    #[error("n is {0}, above 9")]
    struct TooHigh(u64);

    impl Document for Counter {
        type Damage = TooHigh;
        fn check(&self) -> Result<(), TooHigh> {
            if self.n > 9 { Err(TooHigh(self.n)) } else { Ok(()) }
        }
    }

    #[test]
    fn damage_says_what_is_wrong() {
        let damage = |json: &str| parse::<Counter>(json.as_bytes()).unwrap_err();
        assert_eq!(parse::<Counter>(br#"{"n": 3}"#).unwrap().n, 3);
        assert!(matches!(damage("[]"), Damage::NotObject("an array")));
        assert_eq!(damage("[]").to_string(), "expected a JSON object, found an array");
        assert!(matches!(damage(r#"{"m": 1}"#), Damage::Json(_)));
        assert!(matches!(damage(r#"{"n": 10}"#), Damage::Broken(_)));
        assert_eq!(damage(r#"{"n": 10}"#).to_string(), "n is 10, above 9");
    }
}
