//! The service's state in the KV stagegate already speaks (`file://DIR` by
//! default, Consul when several replicas run): the deployment protection
//! requests not yet answered and the webhook deliveries already seen. Every
//! change is a check-and-set on one key, so replicas never lose each other's
//! writes and a request is claimed for its answer exactly once.
//!
//! This is the only module of `serve` that talks to the KV.

use std::collections::{BTreeMap, VecDeque};
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
    pending_key: String,
    deliveries_key: String,
}

impl Store {
    pub fn open(url: &crate::config::KvLocation, prefix: &str) -> Result<Store, KvError> {
        let cfg = crate::config::Journal { kv: url.clone(), ..crate::config::Journal::default() };
        let kv = kv::open(&cfg, &crate::effects::Writes::Apply)?;
        let prefix = prefix.trim_end_matches('/');
        Ok(Store { kv, pending_key: format!("{prefix}/pending"), deliveries_key: format!("{prefix}/deliveries") })
    }

    pub fn describe(&self) -> String {
        self.kv.describe()
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
        Err(KvError::Status {
            what: format!("updating {key}"),
            status: 409,
            body: format!("still contended after {CAS_ATTEMPTS} attempts"),
        })
    }

    /// Records a delivery id; `false` when it was seen before (a replay).
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
        self.update(&self.pending_key, |p: &mut Pending| {
            let key = request.key();
            if p.requests.contains_key(&key) {
                return (false, false);
            }
            let entry = Entry {
                request: request.clone(),
                next_check: None,
                waiting_for: "a first decision".into(),
                answer: None,
            };
            p.requests.insert(key, entry);
            (true, true)
        })
        .await
    }

    pub async fn all(&self) -> Result<Vec<Entry>, KvError> {
        let read = self.kv.read(&self.pending_key, 0, std::time::Duration::ZERO).await?;
        let doc: Pending = match read.entry {
            Some(e) => decode(&self.pending_key, &e.value)?,
            None => Pending::default(),
        };
        Ok(doc.requests.into_values().collect())
    }

    /// Still pending (not answered): the next check and what it waits for.
    pub async fn reschedule(&self, key: &str, next: Option<DateTime<Utc>>, why: &str) -> Result<(), KvError> {
        self.update(&self.pending_key, |p: &mut Pending| match p.requests.get_mut(key) {
            Some(e) if e.answer.is_none() && (e.next_check != next || e.waiting_for != why) => {
                e.next_check = next;
                e.waiting_for = why.to_owned();
                (true, ())
            }
            _ => (false, ()),
        })
        .await
    }

    /// Decides a pending request: `true` for the one caller that claimed it,
    /// who must then deliver the answer.
    pub async fn claim(&self, key: &str, answer: Answer) -> Result<bool, KvError> {
        self.update(&self.pending_key, |p: &mut Pending| match p.requests.get_mut(key) {
            Some(e) if e.answer.is_none() => {
                e.answer = Some(answer.clone());
                (true, true)
            }
            _ => (false, false),
        })
        .await
    }

    /// A delivery attempt failed: when to try again.
    pub async fn delivery_failed(&self, key: &str, retry_at: DateTime<Utc>) -> Result<(), KvError> {
        self.update(&self.pending_key, |p: &mut Pending| {
            match p.requests.get_mut(key).and_then(|e| e.answer.as_mut()) {
                Some(a) => {
                    a.attempts = a.attempts.saturating_add(1);
                    a.retry_at = Some(retry_at);
                    (true, ())
                }
                None => (false, ()),
            }
        })
        .await
    }

    /// GitHub took the answer (or refused it for good): forget the request.
    pub async fn done(&self, key: &str) -> Result<(), KvError> {
        self.update(&self.pending_key, |p: &mut Pending| (p.requests.remove(key).is_some(), ())).await
    }
}

fn decode<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, KvError> {
    serde_json::from_slice(bytes).map_err(|e| KvError::Corrupt { key: key.to_owned(), detail: e.to_string() })
}
