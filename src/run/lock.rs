//! One promotion per environment at a time: an exclusive, non-blocking lock
//! on `<state>/locks/<env>.lock`, held for the whole run and released by the
//! kernel when the process ends, however it ends (so a crash never leaves a
//! stale lock). The file names who holds it, for the refusal message.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};

use crate::forge::state::StateDir;

pub struct EnvLock {
    _file: File,
}

pub enum Acquire {
    Held(EnvLock),
    /// Someone else holds it; what they wrote about themselves.
    Busy(String),
}

/// Tries to take `env`'s lock, recording `holder` in it.
pub fn acquire(state: &StateDir, env: &str, holder: &str) -> std::io::Result<Acquire> {
    let dir = state.root().join("locks");
    fs::create_dir_all(&dir)?;
    let mut file =
        OpenOptions::new().create(true).truncate(false).read(true).write(true).open(dir.join(format!("{env}.lock")))?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0)?;
            file.rewind()?;
            writeln!(file, "{holder} (pid {})", std::process::id())?;
            Ok(Acquire::Held(EnvLock { _file: file }))
        }
        Err(TryLockError::WouldBlock) => {
            let mut who = String::new();
            let _ = file.read_to_string(&mut who);
            Ok(Acquire::Busy(who.trim().to_string()))
        }
        Err(TryLockError::Error(e)) => Err(e),
    }
}
