//! One lane's importer: claim the assigned version, download it, verify its
//! sha256 against the manifest, and only then run the import command.
//!
//! At most once per version per lane: the claim is a check-and-set on
//! `<status_prefix>/<lane>`, a version already `imported` (or `failed`) is
//! never run again. The claim is marked `launched` before the import command
//! starts and records the command's process group: a claim whose watcher
//! crashed before that is taken over; one whose command still runs blocks;
//! one whose command ran and whose watcher died without reporting becomes
//! `interrupted` — whether it completed is unknown, so it is never imported
//! again without `--retry-failed`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::JournalError;
use super::lanes::{ImportState, Lanes, State};
use super::progress::Progress;
use super::store::{Store, StoreError};
use super::upload::manifest;
use crate::effects::Writes;
use crate::notes::Notes;
use crate::run::child_env::{self, Child};
use crate::run::hooks::{Sink, gated_sh, open_gate, pump};
use crate::run::liveness::{Alive, Process};

pub struct Importer {
    pub lanes: Lanes,
    pub store: Arc<dyn Store>,
    pub lane: String,
    /// Run as `sh -c COMMAND`; the journal reaches it only through env vars.
    pub command: String,
    /// Where downloads land while they are verified and imported.
    pub work_dir: PathBuf,
    pub stale_after: Duration,
    /// Import again a version whose import failed or was interrupted.
    pub retry_failed: bool,
    /// `journal.pass_env`: withheld credentials the command gets anyway.
    pub pass_env: Vec<String>,
    /// `--dry-run`: describe the import, change nothing.
    pub writes: Writes,
    pub quiet: bool,
    /// Where progress and warnings are told.
    pub notes: Arc<dyn Notes>,
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
    /// Its import command ran, but the watcher running it died before it
    /// reported: not imported again without --retry-failed.
    Interrupted {
        version: String,
        detail: String,
    },
}

/// What to do about a claim found on the lane.
enum Found {
    /// Return this outcome.
    Done(Outcome),
    /// Mark it interrupted (its import command ran, its importer is gone).
    Interrupted(String),
    /// Claim the version (nothing claimed it, or nothing of the claim ran).
    Claim,
}

impl Importer {
    /// Decides about the lane's current state for `version`.
    fn judge(&self, s: &ImportState, version: &str) -> Found {
        let version = version.to_owned();
        match s.state {
            State::Imported => Found::Done(Outcome::AlreadyImported { version }),
            State::Failed if !self.retry_failed && !s.retry => Found::Done(Outcome::PreviouslyFailed { version }),
            State::Interrupted if !self.retry_failed => {
                Found::Done(Outcome::Interrupted { version, detail: s.detail.clone().unwrap_or_default() })
            }
            State::Importing if s.process.as_ref().is_some_and(Process::is_me) => Found::Claim,
            State::Importing => {
                if s.owner_alive(self.stale_after) != Alive::No {
                    return Found::Done(Outcome::Busy { version, owner: s.owner.clone() });
                }
                let Some(launched) = s.launched else {
                    // It died before running the import command: nothing was imported.
                    self.notes
                        .warn(&format!("lane {}: taking over the stale claim of {} on {version}", self.lane, s.owner));
                    return Found::Claim;
                };
                match s.group.as_ref().map(|g| (g, g.group_alive())) {
                    Some((g, Alive::Yes)) => Found::Done(Outcome::Busy {
                        version,
                        owner: format!("the import command of {} (its watcher died; process group {})", s.owner, g.pid),
                    }),
                    _ => Found::Interrupted(format!(
                        "the watcher {} died while the import command it started at {} ran; whether the import completed is unknown",
                        s.owner,
                        launched.format("%Y-%m-%d %H:%M:%S UTC")
                    )),
                }
            }
            _ => Found::Claim,
        }
    }

    pub async fn handle(&self, version: Option<String>) -> Result<Outcome, JournalError> {
        let Some(version) = version else { return Ok(Outcome::Unassigned) };
        let claimed = loop {
            let (state, index) = self.lanes.state(&self.lane).await?;
            if let Some(s) = state.as_ref().filter(|s| s.version == version) {
                match self.judge(s, &version) {
                    Found::Done(o) => return Ok(o),
                    Found::Interrupted(detail) => {
                        let marked =
                            ImportState { state: State::Interrupted, detail: Some(detail.clone()), ..s.clone() };
                        if self.lanes.set_state(&self.lane, &marked, index).await? {
                            return Ok(Outcome::Interrupted { version, detail });
                        }
                        continue;
                    }
                    Found::Claim => {}
                }
            }
            let claim = ImportState::claim(&version);
            if self.lanes.set_state(&self.lane, &claim, index).await? {
                break claim;
            }
            // Someone else changed the state between our read and write: look again.
        };
        // While the import runs, the claim is refreshed so no one takes it over.
        let result = tokio::select! {
            r = self.import(&claimed) => r,
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
        let done = ImportState { state, at: crate::clock::now(), detail, retry, ..claim.clone() };
        if self.writes.is_dry_run() {
            return Ok(self.lanes.set_state(&self.lane, &done, 0).await.map(|_| ())?);
        }
        let (current, index) = self.lanes.state(&self.lane).await?;
        if let Some(c) = current.filter(|c| c.same_claim(claim)) {
            let done = ImportState { launched: c.launched, group: c.group, ..done };
            self.lanes.set_state(&self.lane, &done, index).await?;
        } else {
            self.notes.warn(&format!(
                "lane {}: our claim on {} was taken over; not recording {}",
                self.lane,
                claim.version,
                state.as_str()
            ));
        }
        Ok(())
    }

    /// Refreshes our claim's time every third of the stale timeout; runs until
    /// cancelled. A claim that is no longer ours is left alone.
    async fn heartbeat(&self, claim: &ImportState) -> std::convert::Infallible {
        let every = (self.stale_after / 3).max(Duration::from_secs(1));
        loop {
            tokio::time::sleep(every).await;
            if self.writes.is_dry_run() {
                continue;
            }
            match self.lanes.state(&self.lane).await {
                Ok((Some(current), index)) if current.same_claim(claim) => {
                    let fresh = ImportState { at: crate::clock::now(), ..current };
                    if let Err(e) = self.lanes.set_state(&self.lane, &fresh, index).await {
                        self.notes
                            .warn(&format!("lane {}: cannot refresh the claim on {}: {e}", self.lane, claim.version));
                    }
                }
                Ok(_) => {
                    self.notes.warn(&format!("lane {}: the claim on {} is no longer ours", self.lane, claim.version))
                }
                Err(e) => {
                    self.notes.warn(&format!("lane {}: cannot refresh the claim on {}: {e}", self.lane, claim.version))
                }
            }
        }
    }

    async fn import(&self, claim: &ImportState) -> Result<(), JournalError> {
        let version = claim.version.as_str();
        let m = manifest(self.store.as_ref(), version).await?;
        // The manifest names a file we create: it must not point elsewhere.
        super::layout::check_name(&m.file, "journal file name")?;
        let dir = self.work_dir.join(&self.lane).join(version);
        let dest = dir.join(&m.file);
        if !self.writes.is_dry_run() {
            // Real directories only, and no link or special file where the journal lands.
            let rel = std::path::Path::new(&self.lane).join(version);
            crate::statefs::create_dir_all(&self.work_dir, &rel).map_err(|(p, e)| JournalError::io("create", &p)(e))?;
            crate::statefs::absent_or_file(&dest).map_err(JournalError::io("download to", &dest))?;
        }
        let progress = Progress::new(format!("download {version}"), m.size, self.quiet, &self.notes);
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
        let outcome = self.run(claim, &dest).await;
        let _ = std::fs::remove_dir_all(&dir);
        outcome
    }

    /// Updates our claim (marks it launched, records the group), retrying
    /// over heartbeats; `false` when the claim is no longer ours.
    async fn note(&self, claim: &ImportState, update: impl Fn(&mut ImportState)) -> Result<bool, JournalError> {
        for _ in 0..10 {
            let (current, index) = self.lanes.state(&self.lane).await?;
            let Some(mut c) = current.filter(|c| c.same_claim(claim) && c.state == State::Importing) else {
                return Ok(false);
            };
            update(&mut c);
            if self.lanes.set_state(&self.lane, &c, index).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn run(&self, claim: &ImportState, file: &std::path::Path) -> Result<(), JournalError> {
        let version = claim.version.as_str();
        if let Some(log) = self.writes.dry_run() {
            log.push(format!(
                "run `{}` with STAGEGATE_JOURNAL_FILE={} STAGEGATE_JOURNAL_VERSION={version} STAGEGATE_LANE={}",
                self.command,
                file.display(),
                self.lane
            ));
            return Ok(());
        }
        let failed =
            |detail: String| JournalError::ImportFailed { version: version.into(), lane: self.lane.clone(), detail };
        let mut cmd = gated_sh(&self.command);
        cmd.env("STAGEGATE_JOURNAL_FILE", file)
            .env("STAGEGATE_JOURNAL_VERSION", version)
            .env("STAGEGATE_LANE", &self.lane);
        child_env::scrub(&mut cmd, Child::Import, &self.pass_env);
        let mut child = cmd.spawn().map_err(|e| failed(format!("cannot start `sh -c {}`: {e}", self.command)))?;
        // Its output goes to our stderr (stdout is for our one document), line by line.
        let sink = Sink::Stderr;
        let out = tokio::spawn(pump(child.stdout.take().expect("piped"), sink));
        let err = tokio::spawn(pump(child.stderr.take().expect("piped"), sink));
        // Durable before the command runs: the claim says it was launched, in
        // which process group. Should we die from here on, a watcher started
        // later leaves it alone while it runs, and never imports the version
        // again without an operator saying so.
        let group = child.id().map(Process::of);
        let (now, recorded) = (crate::clock::now(), group.clone());
        let noted = self
            .note(claim, |c| {
                c.launched = Some(now);
                c.group = recorded.clone();
            })
            .await;
        if !matches!(noted, Ok(true)) {
            // The gate stays shut: the command exits without running.
            drop(child.stdin.take());
            let _ = child.wait().await;
            return Err(noted.err().unwrap_or_else(|| {
                JournalError::refused(
                    format!(
                        "lane {}: the claim on {version} was taken over; the import command was not run",
                        self.lane
                    ),
                    "another watcher holds the lane: check `stagegate journal status`",
                )
            }));
        }
        // Under Actions its output is one collapsible group (the title escaped).
        let grouped = stagegate_core::actions::active();
        if grouped {
            let title = format!("import {version} into {}: {}", self.lane, self.command);
            sink.command("group", &title);
        }
        let status = match open_gate(&mut child).await {
            Ok(()) => child.wait().await.map_err(|e| failed(format!("cannot wait for the import command: {e}"))),
            Err(e) => Err(failed(format!("cannot start the import command: {e}"))),
        };
        let mut tail = Vec::new();
        for task in [out, err] {
            // A process it left running may hold the pipe: stop listening soon.
            if let Ok(Ok(lines)) = tokio::time::timeout(Duration::from_millis(500), task).await {
                tail.extend(lines);
            }
        }
        if grouped {
            sink.command("endgroup", "");
        }
        let status = status?;
        if status.success() { Ok(()) } else { Err(failed(failure(status, &tail))) }
    }
}

/// Why an import failed: its exit status and the last lines of its output
/// (stdout's, then stderr's: the error is usually last).
fn failure(status: std::process::ExitStatus, tail: &[String]) -> String {
    let mut detail = format!("the import command exited with {status}");
    if !tail.is_empty() {
        let last = &tail[tail.len().saturating_sub(crate::run::hooks::TAIL_LINES)..];
        detail.push_str(&format!("; its last lines:\n{}", last.join("\n")));
    }
    detail
}
