//! Lanes in the KV: `<key_prefix>/<lane>` holds the version a lane should run,
//! `<status_prefix>/<lane>` what its importer did with it. Every change is a
//! check-and-set against the index it was decided on, so of two racing
//! writers exactly one wins.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::JournalError;
use super::kv::{Kv, KvError};
use super::layout;
use crate::config::Journal;
use crate::run::liveness::{Alive, Process, hostname};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Importing,
    Imported,
    Failed,
    /// The import command started, but its watcher died before it reported:
    /// whether it completed is unknown. Never imported again without
    /// `--retry-failed`.
    Interrupted,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Importing => "importing",
            State::Imported => "imported",
            State::Failed => "failed",
            State::Interrupted => "interrupted",
        }
    }
}

/// `<status_prefix>/<lane>`: the last version a lane's importer claimed and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportState {
    pub version: String,
    pub state: State,
    /// `host:pid` of the importer, for people.
    pub owner: String,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// A failure before the import command ran (the download could not be
    /// had): the next watcher pass tries again, as nothing was imported.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retry: bool,
    /// The importer (host, pid, start time, boot), to tell a live claim from
    /// a crashed one even when its pid has been reused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<Process>,
    /// Written just before the import command starts: from then on, a claim
    /// whose importer died is never silently imported again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launched: Option<DateTime<Utc>>,
    /// The import command's process group, once it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Process>,
}

impl ImportState {
    /// A new claim of `version` by this process.
    pub fn claim(version: &str) -> ImportState {
        ImportState {
            version: version.to_owned(),
            state: State::Importing,
            owner: owner(),
            at: crate::clock::now(),
            detail: None,
            retry: false,
            process: Some(Process::me()),
            launched: None,
            group: None,
        }
    }

    /// The same claim (same version, same importer), whatever its state now.
    pub fn same_claim(&self, other: &ImportState) -> bool {
        self.version == other.version && self.owner == other.owner && self.process == other.process
    }

    /// Whether the importer holding the claim still runs.
    pub fn owner_alive(&self, timeout: Duration) -> Alive {
        match self.process.as_ref().map(Process::alive) {
            Some(Alive::Unknown) | None if !is_stale(self, timeout) => Alive::Unknown,
            Some(Alive::Unknown) | None => Alive::No,
            Some(a) => a,
        }
    }
}

/// This process, as an importer: `host:pid`.
pub fn owner() -> String {
    format!("{}:{}", hostname(), std::process::id())
}

/// A claim is stale when its owner is a process of this host that is gone, or
/// when it is older than `timeout` (an importer elsewhere that crashed).
pub fn is_stale(s: &ImportState, timeout: Duration) -> bool {
    if let Some((host, pid)) = s.owner.rsplit_once(':')
        && host == hostname()
        && let Ok(pid) = pid.parse::<u32>()
        && std::path::Path::new("/proc/self").exists()
    {
        return pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists();
    }
    let age = crate::clock::now().signed_duration_since(s.at);
    age.to_std().is_ok_and(|a| a > timeout)
}

pub struct Lanes {
    pub kv: Arc<dyn Kv>,
    cfg: Journal,
}

impl Lanes {
    pub fn new(kv: Arc<dyn Kv>, cfg: &Journal) -> Lanes {
        Lanes { kv, cfg: cfg.clone() }
    }

    pub fn names(&self) -> &[String] {
        &self.cfg.lanes
    }

    /// Exit 2 for a lane the config does not list.
    pub fn check(&self, lane: &str) -> Result<usize, JournalError> {
        self.cfg
            .lanes
            .iter()
            .position(|l| l == lane)
            .ok_or_else(|| JournalError::UnknownLane { lane: lane.into(), lanes: self.cfg.lanes.join(", ") })
    }

    pub fn key(&self, lane: &str) -> String {
        format!("{}/{lane}", self.cfg.key_prefix)
    }

    pub fn status_key(&self, lane: &str) -> String {
        format!("{}/{lane}", self.cfg.status_prefix)
    }

    /// The version a lane should run, and the modify index it was read at (0: unset).
    pub async fn assigned(&self, lane: &str) -> Result<(Option<String>, u64), KvError> {
        let r = self.kv.read(&self.key(lane), 0, Duration::ZERO).await?;
        Ok(match r.entry {
            Some(e) => {
                let v = String::from_utf8_lossy(&e.value).trim().to_string();
                ((!v.is_empty()).then_some(v), e.modify_index)
            }
            None => (None, 0),
        })
    }

    /// A lane's import state, and its modify index (0: none yet).
    pub async fn state(&self, lane: &str) -> Result<(Option<ImportState>, u64), KvError> {
        let key = self.status_key(lane);
        let r = self.kv.read(&key, 0, Duration::ZERO).await?;
        match r.entry {
            Some(e) => {
                let s = serde_json::from_slice(&e.value)
                    .map_err(|err| KvError::Corrupt { key: key.clone(), detail: err.to_string() })?;
                Ok((Some(s), e.modify_index))
            }
            None => Ok((None, 0)),
        }
    }

    /// Check-and-set of a lane's import state.
    pub async fn set_state(&self, lane: &str, s: &ImportState, index: u64) -> Result<bool, KvError> {
        self.kv.cas(&self.status_key(lane), serde_json::to_vec(s).expect("serializes"), index).await
    }

    /// What promoting `from` to `to` would move: the version `from` imported
    /// successfully, and what `to` holds (read at the index the move is
    /// checked against). Refused when `to` is not the lane after `from`, or
    /// `from` has no successful import.
    pub async fn candidate(&self, from: &str, to: &str) -> Result<Candidate, JournalError> {
        let (i, j) = (self.check(from)?, self.check(to)?);
        if j != i + 1 {
            let next = self.cfg.lanes.get(i + 1).map_or("none: it is the last lane".to_string(), |n| format!("`{n}`"));
            return Err(JournalError::refused(
                format!("lane `{from}` does not promote to `{to}`"),
                format!(
                    "versions move one lane at a time, in the order {}; `{from}` promotes to {next}",
                    self.cfg.lanes.join(" → ")
                ),
            ));
        }
        let (state, _) = self.state(from).await?;
        let Some(s) = state.filter(|s| s.state == State::Imported) else {
            return Err(JournalError::refused(
                format!("lane `{from}` has no successfully imported version to promote"),
                format!("wait until `{from}` shows `imported` in `stagegate journal status`"),
            ));
        };
        layout::check_name(&s.version, "journal version")?;
        let (current, index) = self.assigned(to).await?;
        Ok(Candidate { version: s.version, from: from.into(), to: to.into(), current, index })
    }

    /// Moves `c` by check-and-set: of two racing promotions, one wins.
    pub async fn promote(&self, c: Candidate) -> Result<Promotion, JournalError> {
        let moves = c.moves();
        let Candidate { version, from, to, current, index } = c;
        if !moves {
            return Ok(Promotion { version, from, to, previous: current, changed: false });
        }
        if !self.kv.cas(&self.key(&to), version.clone().into_bytes(), index).await? {
            return Err(JournalError::refused(
                format!("lane `{to}` changed while promoting; {version} was not promoted"),
                "another promotion or seed won the race: check `stagegate journal status`",
            ));
        }
        Ok(Promotion { version, from, to, previous: current, changed: true })
    }
}

/// A promotion as read, before it is made.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub version: String,
    pub from: String,
    pub to: String,
    /// What `to` holds now.
    pub current: Option<String>,
    index: u64,
}

impl Candidate {
    /// Whether `to` would change: it does not hold the version already.
    pub fn moves(&self) -> bool {
        self.current.as_deref() != Some(self.version.as_str())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Promotion {
    pub version: String,
    pub from: String,
    pub to: String,
    pub previous: Option<String>,
    pub changed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(owner: &str, minutes_ago: i64) -> ImportState {
        ImportState {
            version: "20261121.1.dev-modelling".into(),
            state: State::Importing,
            owner: owner.into(),
            at: crate::clock::now() - chrono::Duration::minutes(minutes_ago),
            detail: None,
            retry: false,
            process: None,
            launched: None,
            group: None,
        }
    }

    #[test]
    fn claims_elsewhere_go_stale_by_age_and_here_by_a_dead_owner() {
        let timeout = Duration::from_secs(30 * 60);
        assert!(!is_stale(&claim("other-host:1", 5), timeout));
        assert!(is_stale(&claim("other-host:1", 45), timeout));
        if std::path::Path::new("/proc/self").exists() {
            assert!(!is_stale(&claim(&format!("{}:1", hostname()), 45), timeout), "pid 1 is alive");
            assert!(is_stale(&claim(&format!("{}:{}", hostname(), u32::MAX - 1), 0), timeout));
        }
    }
}
