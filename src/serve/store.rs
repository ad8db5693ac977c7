//! The service's state in the KV stagegate already speaks (`file://DIR` by
//! default, Consul when several replicas run): the deployment protection
//! requests not yet answered and the webhook deliveries already seen. Every
//! change is a check-and-set on one key, so replicas never lose each other's
//! writes and a request is claimed for its answer exactly once.
//!
//! Each pending request is a key of its own under `PREFIX/requests/` (named by
//! the sha256 of the request's key), listed with one prefix read: no value
//! grows with the number of requests, so Consul's 512 KiB value limit never
//! stops the App (10,000 pending requests are ~10 MB over 10,000 keys). The
//! single `PREFIX/pending` document of earlier versions is moved into keys of
//! their own at start ([`Store::migrate`]).
//!
//! This is the only module of `serve` that talks to the KV.

use std::collections::{BTreeMap, VecDeque};

use sha2::{Digest, Sha256};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::github::app::RuleState;
use crate::journal::kv::{self, Kv, KvError};

/// How many delivery ids are remembered (GitHub redelivers within days; a
/// replay older than this many deliveries is decided again, which is harmless:
/// an answered request is no longer pending).
const DELIVERIES: usize = 5000;
/// Check-and-set attempts before giving up on a contended key.
const CAS_ATTEMPTS: u32 = 50;

/// One `deployment_protection_rule` request, as the webhook gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub installation: u64,
    pub owner: String,
    pub repo: String,
    pub default_branch: String,
    pub run_id: u64,
    pub environment: String,
    pub sha: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub received_at: DateTime<Utc>,
}

impl Request {
    /// Unique per run and environment: GitHub asks once per job that enters it.
    pub fn key(&self) -> String {
        format!("{}/{}#{}#{}", self.owner, self.repo, self.run_id, self.environment)
    }
}

/// The answer, once decided: kept until GitHub has taken it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub state: RuleState,
    pub comment: String,
    /// Failed attempts to deliver it so far.
    #[serde(default)]
    pub attempts: u32,
    /// When the timer tries again.
    #[serde(default)]
    pub retry_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub request: Request,
    /// When to decide again without an event (soak or freeze ending, or the
    /// periodic re-check).
    pub next_check: Option<DateTime<Utc>>,
    /// Why it is still pending, for `/healthz` and the logs.
    #[serde(default)]
    pub waiting_for: String,
    /// Set once decided: the request is no longer pending, only undelivered.
    #[serde(default)]
    pub answer: Option<Answer>,
}

/// The single document earlier versions kept every request in.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Pending {
    requests: BTreeMap<String, Entry>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Deliveries {
    seen: VecDeque<String>,
}

#[derive(Clone)]
pub struct Store {
    kv: Arc<dyn Kv>,
    /// Earlier versions' single document of pending requests.
    legacy_key: String,
    /// `PREFIX/requests/`: one key per request below it.
    requests: String,
    deliveries_key: String,
}

impl Store {
    pub fn open(url: &crate::config::KvLocation, prefix: &str) -> Result<Store, KvError> {
        let cfg = crate::config::Journal { kv: url.clone(), ..crate::config::Journal::default() };
        let kv = kv::open(&cfg, &crate::effects::Writes::Apply)?;
        Ok(Store::over(kv, prefix))
    }

    pub fn over(kv: Arc<dyn Kv>, prefix: &str) -> Store {
        let prefix = prefix.trim_end_matches('/');
        Store {
            kv,
            legacy_key: format!("{prefix}/pending"),
            requests: format!("{prefix}/requests/"),
            deliveries_key: format!("{prefix}/deliveries"),
        }
    }

    pub fn describe(&self) -> String {
        self.kv.describe()
    }

    /// The KV key of the request whose [`Request::key`] is `key`.
    fn key_of(&self, key: &str) -> String {
        format!("{}{}", self.requests, hex::encode(Sha256::digest(key.as_bytes())))
    }

    /// Reads `key`, applies `f`, writes the result back with check-and-set;
    /// again from the read when another writer came first.
    async fn update<T, R>(&self, key: &str, mut f: impl FnMut(&mut T) -> (bool, R)) -> Result<R, KvError>
    where
        T: Serialize + DeserializeOwned + Default,
    {
        for _ in 0..CAS_ATTEMPTS {
            let read = self.kv.read(key, 0, std::time::Duration::ZERO).await?;
            let (mut doc, index) = match &read.entry {
                Some(e) => (decode::<T>(key, &e.value)?, e.modify_index),
                None => (T::default(), 0),
            };
            let (changed, out) = f(&mut doc);
            if !changed {
                return Ok(out);
            }
            let bytes = serde_json::to_vec(&doc).expect("serializes");
            if self.kv.cas(key, bytes, index).await? {
                return Ok(out);
            }
        }
        Err(contended(key))
    }

    /// Changes the request `key` with `f` (nothing when it is not stored).
    async fn update_entry<R: Default>(
        &self,
        key: &str,
        mut f: impl FnMut(&mut Entry) -> (bool, R),
    ) -> Result<R, KvError> {
        self.update(&self.key_of(key), |e: &mut Option<Entry>| match e {
            Some(e) => f(e),
            None => (false, R::default()),
        })
        .await
    }

    /// Records a delivery id; `false` when it was seen before (a replay).
    /// The ids are GitHub's GUIDs (checked by the caller: at most 100 of
    /// `[A-Za-z0-9-]`), so [`DELIVERIES`] of them stay under Consul's 512 KiB.
    pub async fn first_delivery(&self, id: &str) -> Result<bool, KvError> {
        self.update(&self.deliveries_key, |d: &mut Deliveries| {
            if d.seen.iter().any(|s| s == id) {
                return (false, false);
            }
            d.seen.push_back(id.to_owned());
            while d.seen.len() > DELIVERIES {
                d.seen.pop_front();
            }
            (true, true)
        })
        .await
    }

    /// Adds a request unless it is already known (pending or answered).
    pub async fn add(&self, request: Request) -> Result<bool, KvError> {
        let entry = Entry { request, next_check: None, waiting_for: "a first decision".into(), answer: None };
        let bytes = serde_json::to_vec(&entry).expect("serializes");
        self.kv.cas(&self.key_of(&entry.request.key()), bytes, 0).await
    }

    /// Every request stored, pending or answered but not yet delivered.
    pub async fn all(&self) -> Result<Vec<Entry>, KvError> {
        let listed = self.kv.list(&self.requests).await?;
        listed.into_iter().map(|(k, e)| decode(&k, &e.value)).collect()
    }

    /// The request `key`, if stored.
    pub async fn get(&self, key: &str) -> Result<Option<Entry>, KvError> {
        let k = self.key_of(key);
        let read = self.kv.read(&k, 0, std::time::Duration::ZERO).await?;
        read.entry.map(|e| decode(&k, &e.value)).transpose()
    }

    /// Still pending (not answered): the next check and what it waits for.
    pub async fn reschedule(&self, key: &str, next: Option<DateTime<Utc>>, why: &str) -> Result<(), KvError> {
        self.update_entry(key, |e| {
            if e.answer.is_none() && (e.next_check != next || e.waiting_for != why) {
                e.next_check = next;
                e.waiting_for = why.to_owned();
                return (true, ());
            }
            (false, ())
        })
        .await
    }

    /// Decides a pending request: `true` for the one caller that claimed it,
    /// who must then deliver the answer.
    pub async fn claim(&self, key: &str, answer: Answer) -> Result<bool, KvError> {
        self.update_entry(key, |e| {
            if e.answer.is_none() {
                e.answer = Some(answer.clone());
                return (true, true);
            }
            (false, false)
        })
        .await
    }

    /// A delivery attempt failed: when to try again.
    pub async fn delivery_failed(&self, key: &str, retry_at: DateTime<Utc>) -> Result<(), KvError> {
        self.update_entry(key, |e| match e.answer.as_mut() {
            Some(a) => {
                a.attempts = a.attempts.saturating_add(1);
                a.retry_at = Some(retry_at);
                (true, ())
            }
            None => (false, ()),
        })
        .await
    }

    /// GitHub took the answer (or refused it for good): forget the request.
    pub async fn done(&self, key: &str) -> Result<(), KvError> {
        let k = self.key_of(key);
        for _ in 0..CAS_ATTEMPTS {
            let read = self.kv.read(&k, 0, std::time::Duration::ZERO).await?;
            let Some(e) = read.entry else { return Ok(()) };
            if self.kv.delete(&k, e.modify_index).await? {
                return Ok(());
            }
        }
        Err(contended(&k))
    }

    /// Moves the requests of an earlier version's single document into keys of
    /// their own, then removes the document; the number moved. A request
    /// already in its own key is left as it is. Safe to run by several
    /// replicas at once: each key is created only if absent, and the document
    /// is removed only if nobody changed it meanwhile.
    pub async fn migrate(&self) -> Result<usize, KvError> {
        let read = self.kv.read(&self.legacy_key, 0, std::time::Duration::ZERO).await?;
        let Some(doc) = read.entry else { return Ok(0) };
        let pending: Pending = decode(&self.legacy_key, &doc.value)?;
        let mut moved = 0;
        for (key, entry) in pending.requests {
            let bytes = serde_json::to_vec(&entry).expect("serializes");
            if self.kv.cas(&self.key_of(&key), bytes, 0).await? {
                moved += 1;
            }
        }
        self.kv.delete(&self.legacy_key, doc.modify_index).await?;
        Ok(moved)
    }
}

fn contended(key: &str) -> KvError {
    KvError::Status {
        what: format!("updating {key}"),
        status: 409,
        body: format!("still contended after {CAS_ATTEMPTS} attempts"),
    }
}

fn decode<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, KvError> {
    serde_json::from_slice(bytes).map_err(|e| KvError::Corrupt { key: key.to_owned(), detail: e.to_string() })
}
