//! `file://DIR`: the KV as one JSON document (`DIR/kv.json`), changed only by a
//! read-modify-write under the directory's lock and replaced atomically, so a
//! transaction is all-or-nothing even across a crash. Each key has a modify
//! index taken from one store-wide counter, as in Consul; a blocking read polls
//! that index.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use super::{Entry, Kv, KvError, MAX_TXN_OPS, Read, TxnOp};
use crate::state::{Document, StateDir};

const DOC: &str = "kv.json";
/// How often a blocking read looks for a change: short enough for a prompt
/// import, long enough to cost nothing.
const POLL: Duration = Duration::from_millis(10);

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    index: u64,
    keys: BTreeMap<String, Stored>,
}

/// A key whose modify index was not taken from the store-wide counter.
#[derive(Debug, thiserror::Error)]
#[error("key {key} has modify index {index}, outside 1..={max}")]
pub struct IndexOutOfRange {
    key: String,
    index: u64,
    max: u64,
}

impl Document for Doc {
    type Damage = IndexOutOfRange;
    /// Every key's modify index was taken from the store-wide counter.
    fn check(&self) -> Result<(), IndexOutOfRange> {
        match self.keys.iter().find(|(_, s)| s.modify_index == 0 || s.modify_index > self.index) {
            Some((k, s)) => Err(IndexOutOfRange { key: k.clone(), index: s.modify_index, max: self.index }),
            None => Ok(()),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    /// Base64, as Consul returns values.
    value: String,
    modify_index: u64,
}

pub struct FileKv {
    dir: StateDir,
}

impl FileKv {
    pub fn new(dir: impl Into<std::path::PathBuf>) -> Self {
        FileKv { dir: StateDir::named(dir, "the KV directory (a `file://` kv URL)") }
    }

    fn read_now(&self, key: &str) -> Result<Read, KvError> {
        let doc: Doc = self.dir.read(DOC)?;
        let entry = match doc.keys.get(key) {
            Some(s) => Some(Entry {
                value: B64.decode(&s.value).map_err(|e| KvError::Corrupt { key: key.into(), detail: e.to_string() })?,
                modify_index: s.modify_index,
            }),
            None => None,
        };
        // Like Consul: a key's index is its own, a missing key's the store's.
        let index = entry.as_ref().map_or(doc.index, |e| e.modify_index);
        Ok(Read { entry, index })
    }

    fn apply(&self, ops: &[TxnOp]) -> Result<bool, KvError> {
        let lock = self.dir.lock()?;
        let mut doc: Doc = self.dir.read(DOC)?;
        let holds =
            ops.iter().all(|TxnOp::Cas { key, index, .. }| doc.keys.get(key).map_or(0, |s| s.modify_index) == *index);
        if !holds {
            return Ok(false);
        }
        // The counter is read from a file anyone with access can edit.
        doc.index = doc.index.checked_add(1).ok_or_else(|| KvError::Corrupt {
            key: DOC.into(),
            detail: format!("its index is {}, the largest there is: no write can take the next one", doc.index),
        })?;
        for TxnOp::Cas { key, value, .. } in ops {
            doc.keys.insert(key.clone(), Stored { value: B64.encode(value), modify_index: doc.index });
        }
        self.dir.write(&lock, DOC, &doc)?;
        Ok(true)
    }
}

#[async_trait]
impl Kv for FileKv {
    fn describe(&self) -> String {
        format!("file://{}", self.dir.root().display())
    }

    async fn read(&self, key: &str, index: u64, wait: Duration) -> Result<Read, KvError> {
        let deadline = Instant::now() + wait;
        loop {
            let read = self.read_now(key)?;
            if index == 0 || read.index != index || Instant::now() >= deadline {
                return Ok(read);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn cas(&self, key: &str, value: Vec<u8>, index: u64) -> Result<bool, KvError> {
        self.apply(&[TxnOp::Cas { key: key.into(), value, index }])
    }

    async fn txn(&self, ops: Vec<TxnOp>) -> Result<bool, KvError> {
        if ops.len() > MAX_TXN_OPS {
            return Err(KvError::TooManyOps(ops.len()));
        }
        self.apply(&ops)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<(String, Entry)>, KvError> {
        let doc: Doc = self.dir.read(DOC)?;
        doc.keys
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, s)| {
                let value =
                    B64.decode(&s.value).map_err(|e| KvError::Corrupt { key: k.clone(), detail: e.to_string() })?;
                Ok((k.clone(), Entry { value, modify_index: s.modify_index }))
            })
            .collect()
    }

    async fn delete(&self, key: &str, index: u64) -> Result<bool, KvError> {
        let lock = self.dir.lock()?;
        let mut doc: Doc = self.dir.read(DOC)?;
        match doc.keys.get(key) {
            None => return Ok(true),
            Some(s) if s.modify_index != index => return Ok(false),
            Some(_) => {}
        }
        doc.keys.remove(key);
        doc.index += 1;
        self.dir.write(&lock, DOC, &doc)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_from_outside_the_counter_is_damage() {
        let stored = |modify_index| Stored { value: String::new(), modify_index };
        let mut doc = Doc { index: 2, keys: BTreeMap::from([("a".to_string(), stored(2))]) };
        assert!(doc.check().is_ok());
        doc.keys.insert("b".into(), stored(3));
        assert_eq!(doc.check().unwrap_err().to_string(), "key b has modify index 3, outside 1..=2");
    }
}
