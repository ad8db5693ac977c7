//! `--dry-run` for the KV: reads are real, writes are described and skipped.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{Kv, KvError, Read, TxnOp};
use crate::effects::EffectLog;

pub struct DryRun {
    inner: Arc<dyn Kv>,
    log: EffectLog,
}

impl DryRun {
    pub fn new(inner: Arc<dyn Kv>, log: EffectLog) -> Self {
        DryRun { inner, log }
    }
}

#[async_trait]
impl Kv for DryRun {
    fn describe(&self) -> String {
        format!("{} (dry run)", self.inner.describe())
    }

    async fn read(&self, key: &str, index: u64, wait: Duration) -> Result<Read, KvError> {
        self.inner.read(key, index, wait).await
    }

    async fn cas(&self, key: &str, value: Vec<u8>, index: u64) -> Result<bool, KvError> {
        self.log.push(format!("set {key} = {} (if its index is {index})", String::from_utf8_lossy(&value)));
        Ok(true)
    }

    async fn txn(&self, ops: Vec<TxnOp>) -> Result<bool, KvError> {
        let sets: Vec<String> = ops
            .iter()
            .map(|TxnOp::Cas { key, value, index }| {
                format!("{key} = {} (if its index is {index})", String::from_utf8_lossy(value))
            })
            .collect();
        self.log.push(format!("in one transaction set {}", sets.join(", ")));
        Ok(true)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<(String, super::Entry)>, KvError> {
        self.inner.list(prefix).await
    }

    async fn delete(&self, key: &str, index: u64) -> Result<bool, KvError> {
        self.log.push(format!("delete {key} (if its index is {index})"));
        Ok(true)
    }
}
