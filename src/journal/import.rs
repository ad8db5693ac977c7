//! One lane's importer: claim the assigned version, download it, verify its
//! sha256 against the manifest, and only then run the import command.
//!
//! Exactly once per version per lane: the claim is a check-and-set on
//! `<status_prefix>/<lane>`, a version already `imported` (or `failed`) is never
//! run again, and a claim whose owner crashed is taken over.

use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde::Serialize;

use super::JournalError;
use super::lanes::{ImportState, Lanes, State, is_stale, owner};
use super::progress::Progress;
use super::store::{Store, StoreError};
use super::upload::manifest;
use crate::effects::EffectLog;

pub struct Importer {
    pub lanes: Lanes,
    pub store: Arc<dyn Store>,
    pub lane: String,
    /// Run as `sh -c COMMAND`; the journal reaches it only through env vars.
    pub command: String,
    /// Where downloads land while they are verified and imported.
    pub work_dir: PathBuf,
    pub stale_after: Duration,
    pub retry_failed: bool,
    pub dry_run: bool,
    pub log: EffectLog,
    pub quiet: bool,
}

/// What happened to the lane's assigned version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// No version is assigned to the lane yet.
    Unassigned,
    Imported {
        version: String,
    },
    AlreadyImported {
        version: String,
    },
    /// It failed before and is not retried without --retry-failed.
    PreviouslyFailed {
        version: String,
    },
    /// Another live importer holds the claim.
    Busy {
        version: String,
        owner: String,
    },
    Failed {
        version: String,
        detail: String,
    },
}

impl Importer {
    pub async fn handle(&self, version: Option<String>) -> Result<Outcome, JournalError> {
        let Some(version) = version else { return Ok(Outcome::Unassigned) };
        let me = owner();
        let claimed = loop {
            let (state, index) = self.lanes.state(&self.lane).await?;
            if let Some(s) = state.as_ref().filter(|s| s.version == version) {
                match s.state {
                    State::Imported => return Ok(Outcome::AlreadyImported { version }),
                    State::Failed if !self.retry_failed && !s.retry => {
                        return Ok(Outcome::PreviouslyFailed { version });
                    }
                    State::Importing if s.owner != me && !is_stale(s, self.stale_after) => {
                        return Ok(Outcome::Busy { version, owner: s.owner.clone() });
                    }
                    _ => {
                        if s.state == State::Importing {
                            eprintln!("lane {}: taking over the stale claim of {} on {version}", self.lane, s.owner);
                        }
                    }
                }
            }
            let claim = ImportState {
                version: version.clone(),
                state: State::Importing,
                owner: me.clone(),
                at: Utc::now(),
                detail: None,
                retry: false,
            };
            if self.lanes.set_state(&self.lane, &claim, index).await? {
                break claim;
            }
            // Someone else changed the state between our read and write: look again.
        };
        // While the import runs, the claim is refreshed so no one takes it over.
        let result = tokio::select! {
            r = self.import(&version) => r,
            never = self.heartbeat(&claimed) => match never {},
        };
        match result {
            Ok(()) => {
                self.finish(&claimed, State::Imported, None, false).await?;
                Ok(Outcome::Imported { version })
            }
            // The command ran and failed: recorded for good (--retry-failed to run it again).
            Err(JournalError::ImportFailed { detail, .. }) => {
                self.finish(&claimed, State::Failed, Some(detail.clone()), false).await?;
                Ok(Outcome::Failed { version, detail })
            }
            // A damaged object does not heal by downloading it again.
            Err(e @ JournalError::Checksum { .. }) => {
                self.finish(&claimed, State::Failed, Some(e.to_string()), false).await?;
                Err(e)
            }
            // The command never ran (store unreachable, disk full): try again later.
            Err(e) => {
                self.finish(&claimed, State::Failed, Some(e.to_string()), true).await?;
                Err(e)
            }
        }
    }

    /// Records the result, but only over our own claim.
    async fn finish(
        &self,
        claim: &ImportState,
        state: State,
        detail: Option<String>,
        retry: bool,
    ) -> Result<(), JournalError> {
        let done = ImportState { state, at: Utc::now(), detail, retry, ..claim.clone() };
        if self.dry_run {
            return Ok(self.lanes.set_state(&self.lane, &done, 0).await.map(|_| ())?);
        }
        let (current, index) = self.lanes.state(&self.lane).await?;
        if current.as_ref().is_some_and(|c| c.owner == claim.owner && c.version == claim.version) {
            self.lanes.set_state(&self.lane, &done, index).await?;
        } else {
            eprintln!(
                "lane {}: our claim on {} was taken over; not recording {}",
                self.lane,
                claim.version,
                state.as_str()
            );
        }
        Ok(())
    }

    /// Refreshes our claim's time every third of the stale timeout; runs until
    /// cancelled. A claim that is no longer ours is left alone.
    async fn heartbeat(&self, claim: &ImportState) -> std::convert::Infallible {
        let every = (self.stale_after / 3).max(Duration::from_secs(1));
        loop {
            tokio::time::sleep(every).await;
            if self.dry_run {
                continue;
            }
            match self.lanes.state(&self.lane).await {
                Ok((Some(current), index)) if current.owner == claim.owner && current.version == claim.version => {
                    let fresh = ImportState { at: Utc::now(), ..current };
                    if let Err(e) = self.lanes.set_state(&self.lane, &fresh, index).await {
                        eprintln!("lane {}: cannot refresh the claim on {}: {e}", self.lane, claim.version);
                    }
                }
                Ok(_) => eprintln!("lane {}: the claim on {} is no longer ours", self.lane, claim.version),
                Err(e) => eprintln!("lane {}: cannot refresh the claim on {}: {e}", self.lane, claim.version),
            }
        }
    }

    async fn import(&self, version: &str) -> Result<(), JournalError> {
        let m = manifest(self.store.as_ref(), version).await?;
        // The manifest names a file we create: it must not point elsewhere.
        super::layout::check_name(&m.file, "journal file name")?;
        let dir = self.work_dir.join(&self.lane).join(version);
        let dest = dir.join(&m.file);
        if !self.dry_run {
            // Real directories only, and no link or special file where the journal lands.
            let rel = std::path::Path::new(&self.lane).join(version);
            crate::statefs::create_dir_all(&self.work_dir, &rel).map_err(|(p, e)| JournalError::io("create", &p)(e))?;
            crate::statefs::absent_or_file(&dest).map_err(JournalError::io("download to", &dest))?;
        }
        let progress = Progress::new(format!("download {version}"), m.size, self.quiet);
        let got = self
            .store
            .download(
                &super::layout::object_key(&super::VersionId::parse(version).expect("checked"), &m.file),
                &dest,
                &progress,
            )
            .await;
        progress.finish();
        let detail = match got {
            Ok(got) if got.sha256 == m.sha256 && got.size == m.size => None,
            Ok(got) => Some(format!("sha256 {}, expected {}", got.sha256, m.sha256)),
            Err(StoreError::Integrity { detail, .. }) => Some(detail),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e.into());
            }
        };
        if let Some(detail) = detail {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(JournalError::Checksum { version: version.into(), detail });
        }
        let outcome = self.run(version, &dest).await;
        let _ = std::fs::remove_dir_all(&dir);
        outcome
    }

    async fn run(&self, version: &str, file: &std::path::Path) -> Result<(), JournalError> {
        if self.dry_run {
            self.log.push(format!(
                "run `{}` with STAGEGATE_JOURNAL_FILE={} STAGEGATE_JOURNAL_VERSION={version} STAGEGATE_LANE={}",
                self.command,
                file.display(),
                self.lane
            ));
            return Ok(());
        }
        // The command's output goes to our stderr: stdout is for our one document.
        let stdout = std::io::stderr().as_fd().try_clone_to_owned().map(Stdio::from).unwrap_or_else(|_| Stdio::null());
        let status = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .env("STAGEGATE_JOURNAL_FILE", file)
            .env("STAGEGATE_JOURNAL_VERSION", version)
            .env("STAGEGATE_LANE", &self.lane)
            .stdin(Stdio::null())
            .stdout(stdout)
            .status()
            .await
            .map_err(|e| JournalError::ImportFailed {
                version: version.into(),
                lane: self.lane.clone(),
                detail: format!("cannot start `sh -c {}`: {e}", self.command),
            })?;
        if status.success() {
            Ok(())
        } else {
            Err(JournalError::ImportFailed {
                version: version.into(),
                lane: self.lane.clone(),
                detail: format!("the import command exited with {status}"),
            })
        }
    }
}
