//! The lanes' key/value store: Consul over its HTTP API, or a directory with
//! the same semantics (modify indexes, check-and-set, all-or-nothing
//! transactions, blocking reads), so the pipeline runs offline too.

pub mod consul;
pub mod dry_run;
pub mod file;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use miette::Diagnostic;
use thiserror::Error;

use crate::config::{Journal, KvLocation};
use crate::effects::Writes;
use crate::exit::Exit;
use crate::state::StateError;

/// Consul refuses transactions with more operations than this.
pub const MAX_TXN_OPS: usize = 128;

#[derive(Debug, Error, Diagnostic)]
pub enum KvError {
    #[error("cannot reach the KV store at {url}: {message}")]
    #[diagnostic(code(stagegate::kv::http), help("check CONSUL_HTTP_ADDR (or journal.kv) and that Consul is running"))]
    Http { url: String, message: String },

    #[error("the KV store answered {status} to {what}: {body}")]
    #[diagnostic(code(stagegate::kv::status), help("see the KV store's logs; the request was not applied"))]
    Status { what: String, status: u16, body: String },

    #[error("the KV store denied {what}: permission denied")]
    #[diagnostic(
        code(stagegate::kv::denied),
        help("set CONSUL_HTTP_TOKEN to a token whose ACL policy allows reading and writing the journal keys")
    )]
    Denied { what: String },

    #[error("`{key}` in the KV store is not what stagegate wrote: {detail}")]
    #[diagnostic(
        code(stagegate::kv::corrupt),
        help("inspect the key; stagegate does not overwrite what it cannot read")
    )]
    Corrupt { key: String, detail: String },

    #[error("the KV store's answer to {what} is larger than {limit}; not read")]
    #[diagnostic(
        code(stagegate::kv::too_large),
        help("check that CONSUL_HTTP_ADDR (or journal.kv) points at Consul: no journal key holds that much")
    )]
    TooLarge { what: String, limit: String },

    #[error("a transaction of {0} operations is more than the KV store accepts ({MAX_TXN_OPS})")]
    #[diagnostic(code(stagegate::kv::txn_size), help("configure fewer journal lanes"))]
    TooManyOps(usize),

    #[error("unsupported journal kv `{0}`")]
    #[diagnostic(code(stagegate::kv::url), help("use consul://HOST:PORT or file://DIR"))]
    Url(String),

    #[error(transparent)]
    #[diagnostic(transparent)]
    State(#[from] StateError),
}

impl KvError {
    pub fn exit(&self) -> Exit {
        match self {
            KvError::Url(_) | KvError::TooManyOps(_) => Exit::Invalid,
            _ => Exit::Failed,
        }
    }
}

/// One key as read, with the index of its last change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub value: Vec<u8>,
    pub modify_index: u64,
}

/// The answer of a (blocking) read: the key, if present, and the index to
/// block on next (Consul's `X-Consul-Index`, also set when the key is missing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub entry: Option<Entry>,
    pub index: u64,
}

/// One operation of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnOp {
    /// Set `key` only if its modify index is `index` (0: only if absent).
    Cas { key: String, value: Vec<u8>, index: u64 },
}

#[async_trait]
pub trait Kv: Send + Sync {
    fn describe(&self) -> String;

    /// Reads `key`. With `index > 0`, blocks until the index exceeds it or
    /// `wait` passes — and may return with nothing changed.
    async fn read(&self, key: &str, index: u64, wait: Duration) -> Result<Read, KvError>;

    /// Check-and-set: writes only if the key's modify index is `index`
    /// (0: only if absent). `Ok(false)` when it was not.
    async fn cas(&self, key: &str, value: Vec<u8>, index: u64) -> Result<bool, KvError>;

    /// Applies every operation or none; `Ok(false)` when a check failed.
    async fn txn(&self, ops: Vec<TxnOp>) -> Result<bool, KvError>;

    /// Every key under `prefix` with its value, in key order.
    async fn list(&self, prefix: &str) -> Result<Vec<(String, Entry)>, KvError>;

    /// Deletes `key` only if its modify index is `index`; `Ok(false)` when it
    /// was not (a missing key counts as deleted).
    async fn delete(&self, key: &str, index: u64) -> Result<bool, KvError>;
}

/// Opens `journal.kv` (`CONSUL_HTTP_ADDR` wins for Consul), wrapped for `--dry-run`.
pub fn open(cfg: &Journal, writes: &Writes) -> Result<Arc<dyn Kv>, KvError> {
    let inner: Arc<dyn Kv> = match &cfg.kv {
        KvLocation::File(dir) => Arc::new(file::FileKv::new(dir)),
        KvLocation::Consul(addr) => Arc::new(consul::Consul::from_env(addr)?),
    };
    Ok(match writes.dry_run() {
        Some(log) => Arc::new(dry_run::DryRun::new(inner, log.clone())),
        None => inner,
    })
}

/// A blocking-query loop over one key, as HashiCorp prescribes: block on the
/// last index, reset it when it goes backwards (a snapshot restore) or is below
/// 1, and never issue requests faster than `min_interval`.
pub struct Watch {
    kv: Arc<dyn Kv>,
    key: String,
    index: u64,
    wait: Duration,
    min_interval: Duration,
    last: Option<Instant>,
}

impl Watch {
    pub fn new(kv: Arc<dyn Kv>, key: impl Into<String>, wait: Duration) -> Watch {
        Watch { kv, key: key.into(), index: 0, wait, min_interval: Duration::from_millis(50), last: None }
    }

    /// The next read returns at once instead of blocking: for looking again
    /// when something other than the key (a claim, an outage) has changed.
    pub fn refresh(&mut self) {
        self.index = 0;
    }

    /// The next answer; the first is immediate, later ones block.
    pub async fn next(&mut self) -> Result<Read, KvError> {
        if let Some(last) = self.last {
            let elapsed = last.elapsed();
            if elapsed < self.min_interval {
                tokio::time::sleep(self.min_interval - elapsed).await;
            }
        }
        self.last = Some(Instant::now());
        let read = self.kv.read(&self.key, self.index, self.wait).await?;
        self.index = next_index(self.index, read.index);
        Ok(read)
    }
}

/// The index to block on next, given the last one and the one just returned.
pub fn next_index(last: u64, returned: u64) -> u64 {
    if returned < last || returned < 1 { 0 } else { returned }
}

#[cfg(test)]
mod tests {
    #[test]
    fn index_resets_when_it_goes_backwards() {
        assert_eq!(super::next_index(0, 7), 7);
        assert_eq!(super::next_index(7, 9), 9);
        assert_eq!(super::next_index(9, 3), 0);
        assert_eq!(super::next_index(9, 0), 0);
    }
}
