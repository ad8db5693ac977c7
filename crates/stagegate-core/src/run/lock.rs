//! One run per environment at a time: an exclusive, non-blocking `flock` on
//! `<state>/locks/<env>.lock`, held for the whole run. The kernel releases it
//! when stagegate ends, however it ends; the descriptor is close-on-exec, so
//! no hook inherits it and keeps it held.
//!
//! The file records who holds it (what run, which process, since when) and,
//! while a hook runs, the hook's process group. A lock the kernel has released
//! is free only once that group is gone too: after `kill -9` of stagegate its
//! deploy hook may still be running, and a second run must not deploy beside
//! it. The file is opened without following symlinks.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::liveness::{Alive, Process};
use crate::state::StateDir;

/// What a lock file says about its holder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Holder {
    /// The run, in words: `promote dev → staging of R by alice in run 42`.
    pub what: String,
    pub process: Process,
    pub since: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook: Option<HookGroup>,
}

/// The hook running under the lock, in its own process group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HookGroup {
    pub step: String,
    pub command: String,
    /// The group's leader (its pid is the process group id).
    pub group: Process,
    pub since: DateTime<Utc>,
}

impl Holder {
    /// `promote … (pid 42 on host h, since 2026-11-21 08:00:00 UTC)`.
    pub fn describe(&self) -> String {
        format!("{} ({}, since {})", self.what, self.process.describe(), self.since.format("%Y-%m-%d %H:%M:%S UTC"))
    }

    fn hook_alive(&self) -> Option<(&HookGroup, Alive)> {
        let h = self.hook.as_ref()?;
        Some((h, h.group.group_alive()))
    }
}

impl HookGroup {
    pub fn describe(&self) -> String {
        format!(
            "its {} hook `{}` (process group {}, started {}) is still running",
            self.step,
            self.command,
            self.group.pid,
            self.since.format("%Y-%m-%d %H:%M:%S UTC")
        )
    }
}

pub struct EnvLock {
    path: PathBuf,
}

impl Drop for EnvLock {
    fn drop(&mut self) {
        // Closing the descriptor releases the lock. The record stays: it names
        // the last holder, and no hook of it runs any more.
        held(|h| h.retain(|(p, _, _)| *p != self.path));
    }
}

/// Why an environment is not free.
pub enum Busy {
    /// Another live stagegate run holds the lock.
    Held { holder: Option<Holder>, raw: String },
    /// The run that held it died, but a hook it started still runs (or, on
    /// another host, cannot be checked).
    HookRunning { holder: Holder, hook: HookGroup, unknown: bool },
}

impl Busy {
    pub fn describe(&self, env: &str, path: &Path) -> String {
        match self {
            Busy::Held { holder: Some(h), .. } if h.process.alive() == Alive::No => format!(
                "the run that took the lock of {env} is gone ({}), but a process it started still holds {} open: find it with `fuser {}`",
                h.describe(),
                path.display(),
                path.display()
            ),
            Busy::Held { holder: Some(h), .. } => format!("another run is deploying to {env}: {}", h.describe()),
            Busy::Held { raw, .. } if raw.is_empty() => format!("another run is deploying to {env}"),
            Busy::Held { raw, .. } => format!("another run is deploying to {env}: {}", raw.escape_debug()),
            Busy::HookRunning { holder, hook, unknown: false } => format!(
                "the run that last deployed to {env} died, but {}: {}; wait for it to end (or stop it), then run again",
                hook.describe(),
                holder.describe()
            ),
            Busy::HookRunning { holder, hook, unknown: true } => format!(
                "the run holding {env} ran on another host and cannot be checked from here ({}; its {} hook `{}`, process group {}); once it has ended, remove {}",
                holder.describe(),
                hook.step,
                hook.command,
                hook.group.pid,
                path.display()
            ),
        }
    }
}

pub enum Acquire {
    Held(EnvLock),
    Busy(Box<Busy>),
}

/// The lock files this process holds, with their descriptors (closing one releases its lock).
static HELD: Mutex<Vec<(PathBuf, File, Holder)>> = Mutex::new(Vec::new());

fn held<R>(f: impl FnOnce(&mut Vec<(PathBuf, File, Holder)>) -> R) -> Option<R> {
    HELD.lock().ok().map(|mut h| f(&mut h))
}

/// The lock file of environment `env`: an instance's name (`feature/login`)
/// is one encoded segment (`feature%2Flogin.lock`), never a directory.
pub fn path(state: &StateDir, env: &str) -> PathBuf {
    state.root().join("locks").join(format!("{}.lock", crate::values::segment::encode(env)))
}

fn open(path: &Path) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => std::io::Error::other(format!("{} is a symbolic link", path.display())),
            _ => e,
        })?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other(format!("{} is not a regular file", path.display())));
    }
    Ok(file)
}

/// The first JSON document of a lock file: a record cut short by a crash
/// mid-write (new text over a longer old one) still reads.
fn parse(raw: &str) -> Option<Holder> {
    serde_json::Deserializer::from_str(raw).into_iter::<Holder>().next()?.ok()
}

/// A lock file's text: a record is a few hundred bytes, so a lock file
/// grown past [`crate::bounded::LOCK_FILE`] is read as no record at all.
fn read_lock(file: &mut File) -> String {
    crate::bounded::read(file, crate::bounded::LOCK_FILE)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

fn write(file: &mut File, holder: &Holder) -> std::io::Result<()> {
    let text = serde_json::to_string(holder).map_err(std::io::Error::other)? + "\n";
    file.rewind()?;
    file.write_all(text.as_bytes())?;
    file.set_len(text.len() as u64)?;
    Ok(())
}

/// Tries to take `env`'s lock, recording `what` (the run, in words) in it.
pub fn acquire(state: &StateDir, env: &str, what: &str) -> std::io::Result<Acquire> {
    let path = path(state, env);
    let dir = &state.root().join("locks");
    if fs::symlink_metadata(dir).is_ok_and(|m| !m.is_dir()) {
        return Err(std::io::Error::other(format!("{} is not a directory", dir.display())));
    }
    fs::create_dir_all(dir)?;
    let mut file = open(&path)?;
    match file.try_lock() {
        Ok(()) => {
            let raw = read_lock(&mut file);
            if let Some(previous) = parse(&raw)
                && let Some((hook, alive)) = previous.hook_alive()
                && alive != Alive::No
            {
                let hook = hook.clone();
                let busy = Busy::HookRunning { holder: previous, hook, unknown: alive == Alive::Unknown };
                return Ok(Acquire::Busy(Box::new(busy)));
            }
            let holder =
                Holder { what: what.to_owned(), process: Process::me(), since: crate::clock::now(), hook: None };
            write(&mut file, &holder)?;
            held(|h| h.push((path.clone(), file, holder)));
            Ok(Acquire::Held(EnvLock { path }))
        }
        Err(TryLockError::WouldBlock) => {
            let raw = read_lock(&mut file).trim().to_string();
            Ok(Acquire::Busy(Box::new(Busy::Held { holder: parse(&raw), raw })))
        }
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// Records in `env`'s lock (if this process holds it) that a hook now runs
/// as `group`, or with `None` that it has ended.
pub fn note_hook(state: &StateDir, env: &str, hook: Option<HookGroup>) {
    let path = path(state, env);
    held(|h| {
        if let Some((_, file, holder)) = h.iter_mut().find(|(p, _, _)| *p == path) {
            holder.hook = hook;
            if let Err(e) = write(file, holder) {
                tracing::warn!("cannot update {}: {e}", path.display());
            }
        }
    });
}

/// What `env`'s lock says now, without taking it: `Some` while a run holds it
/// or a hook of a run that died still runs.
pub fn inspect(state: &StateDir, env: &str) -> Option<Busy> {
    let path = path(state, env);
    let mut file = File::options().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC).open(&path).ok()?;
    let raw = read_lock(&mut file);
    let holder = parse(&raw)?;
    // Ask the recorded process, not the lock: taking it, even briefly, could
    // turn a run starting right now away.
    if holder.process.alive() != Alive::No {
        return Some(Busy::Held { holder: Some(holder), raw });
    }
    let (hook, alive) = holder.hook_alive()?;
    (alive != Alive::No).then(|| {
        let hook = hook.clone();
        Busy::HookRunning { holder: holder.clone(), hook, unknown: alive == Alive::Unknown }
    })
}
