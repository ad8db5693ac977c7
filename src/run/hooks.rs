//! Hooks: the commands of `steps:` (backup, deploy, verify, rollback).
//!
//! A hook runs as `sh -c <command>` exactly as written in the config; the
//! context (environment, release, sha, ref, actor) reaches it only through
//! `STAGEGATE_*` environment variables, so no value can ever be interpreted
//! by the shell. It runs in its own process group: on timeout (or Ctrl-C) the
//! whole group — the hook and everything it started — is terminated, then
//! killed. Its output is streamed line by line as it comes.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;

use crate::actions;

/// How long a timed-out hook's group gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(2);
/// How long to keep reading output after the hook exited: a process it left
/// running in the background may hold the pipe open for ever.
const DRAIN: Duration = Duration::from_millis(500);

/// How a hook ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// Exit status 0.
    Ok,
    /// Exited with this non-zero code.
    Exit(i32),
    /// Killed by this signal (not by us).
    Signal(i32),
    /// Ran longer than its timeout; its process group was killed.
    TimedOut(Duration),
    /// Ctrl-C: its process group was killed.
    Interrupted,
}

impl Ended {
    pub fn ok(&self) -> bool {
        *self == Ended::Ok
    }

    /// "exited 0", "exited 3", "was killed after its 5s timeout", for messages.
    pub fn describe(&self) -> String {
        match self {
            Ended::Ok => "exited 0".into(),
            Ended::Exit(c) => format!("exited {c}"),
            Ended::Signal(s) => format!("was killed by signal {s}"),
            Ended::TimedOut(t) => {
                format!(
                    "was killed after its {} timeout (with everything it started)",
                    crate::config::duration::format(*t)
                )
            }
            Ended::Interrupted => "was interrupted (Ctrl-C) and killed".into(),
        }
    }
}

/// Where hook output goes: stdout for people, stderr when stdout carries JSON.
#[derive(Debug, Clone, Copy)]
pub struct Sink {
    pub to_stderr: bool,
}

impl Sink {
    /// Prints one line. A closed stdout (`stagegate promote | head`) must not
    /// stop a run half-way, so write errors are ignored here.
    pub fn line(&self, s: &str) {
        use std::io::Write;
        let _ = if self.to_stderr {
            writeln!(std::io::stderr().lock(), "{s}")
        } else {
            writeln!(std::io::stdout().lock(), "{s}")
        };
    }
}

fn signal_group(pgid: i32, sig: i32) -> bool {
    // SAFETY: kill(2) with a negative pid signals a process group; it has no
    // memory-safety preconditions.
    unsafe { libc::kill(-pgid, sig) == 0 }
}

async fn pump(stream: impl AsyncRead + Unpin, sink: Sink) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        sink.line(&format!("    │ {line}"));
    }
}

/// Runs one hook to its end. `Err` only when `sh` cannot be started at all.
pub async fn run(
    name: &str,
    command: &str,
    env: &[(String, String)],
    timeout: Duration,
    sink: Sink,
) -> std::io::Result<Ended> {
    let grouped = actions::active();
    if grouped {
        // The command is config text, possibly several lines: escaped, it stays the group's title.
        sink.line(&actions::format_command("group", &[], &format!("{name} hook: {command}")));
    }
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let pgid = child.id().map(|p| p as i32);
    let out = tokio::spawn(pump(child.stdout.take().expect("piped"), sink));
    let err = tokio::spawn(pump(child.stderr.take().expect("piped"), sink));

    let ended = tokio::select! {
        status = child.wait() => {
            let status = status?;
            match (status.code(), status.signal()) {
                (Some(0), _) => Ended::Ok,
                (Some(c), _) => Ended::Exit(c),
                (None, Some(s)) => Ended::Signal(s),
                (None, None) => Ended::Exit(-1),
            }
        }
        _ = tokio::time::sleep(timeout) => Ended::TimedOut(timeout),
        _ = tokio::signal::ctrl_c() => Ended::Interrupted,
    };
    if matches!(ended, Ended::TimedOut(_) | Ended::Interrupted)
        && let Some(pgid) = pgid
    {
        signal_group(pgid, libc::SIGTERM);
        let deadline = tokio::time::Instant::now() + GRACE;
        // Reap the shell as it goes, so a zombie does not keep the group alive.
        while tokio::time::Instant::now() < deadline {
            let _ = child.try_wait();
            if !signal_group(pgid, 0) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        signal_group(pgid, libc::SIGKILL);
        let _ = child.wait().await;
    }
    for task in [out, err] {
        // A background process may still hold the pipe: stop listening after DRAIN.
        let _ = tokio::time::timeout(DRAIN, task).await;
    }
    if grouped {
        sink.line("::endgroup::");
    }
    Ok(ended)
}
