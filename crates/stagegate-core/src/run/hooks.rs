//! Hooks: the commands of `steps:` (backup, deploy, verify, rollback).
//!
//! A hook runs as `sh -c <command>` exactly as written in the config; the
//! context (environment, release, sha, ref, actor) reaches it only through
//! `STAGEGATE_*` environment variables, so no value can ever be interpreted
//! by the shell. It runs in its own process group: on timeout (or Ctrl-C) the
//! whole group — the hook and everything it started — is terminated, then
//! killed. Its output is streamed line by line as it comes, each line cut
//! into pieces of at most [`MAX_LINE`] bytes, so output without newlines never
//! piles up in memory. Its environment is stagegate's minus the credentials
//! stagegate was handed ([`super::child_env`]).

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

use super::child_env::{self, Child};
use super::health::Probe;
use super::interrupt::{self, Signal};
use super::liveness::Process;
use crate::actions;
use crate::config::HealthCheck;

/// Longest line of hook or import output printed as one: longer ones are
/// printed in pieces of this size as they arrive.
pub const MAX_LINE: usize = 16 * 1024;

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
    /// SIGINT or SIGTERM: its process group was killed.
    Interrupted(Signal),
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
            Ended::Interrupted(s) => format!("was stopped by {} (with everything it started)", s.name()),
        }
    }
}

/// Where step lines and hook output go: stdout for people, stderr when
/// stdout carries JSON, nowhere in unit tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    Stdout,
    Stderr,
    Quiet,
}

impl Sink {
    /// Stderr when stdout carries JSON, else stdout.
    pub fn beside(out: crate::output::Out) -> Sink {
        if out.json() { Sink::Stderr } else { Sink::Stdout }
    }

    /// Prints one line through the one writer ([`crate::console`]). A closed
    /// stdout (`stagegate promote | head`) must not stop a run half-way, so
    /// write errors are ignored here.
    pub fn line(&self, s: &str) {
        match self {
            Sink::Stdout => crate::console::print(crate::console::Stream::Out, s),
            Sink::Stderr => crate::console::print(crate::console::Stream::Err, s),
            Sink::Quiet => {}
        }
    }

    /// One of stagegate's own workflow commands (`::group::…`), on this sink.
    pub fn command(&self, name: &str, data: &str) {
        match self {
            Sink::Stdout => actions::command_on(crate::console::Stream::Out, name, &[], data),
            Sink::Stderr => actions::command_on(crate::console::Stream::Err, name, &[], data),
            Sink::Quiet => {}
        }
    }
}

fn signal_group(pgid: i32, sig: i32) -> bool {
    // SAFETY: kill(2) with a negative pid signals a process group; it has no
    // memory-safety preconditions.
    unsafe { libc::kill(-pgid, sig) == 0 }
}

/// How many of its last lines [`pump`] returns, for the report of a failure.
pub const TAIL_LINES: usize = 10;

/// Prints `stream` line by line behind `    │ `, cutting lines longer than
/// [`MAX_LINE`] bytes (at a character boundary) so memory stays bounded.
/// Returns the last [`TAIL_LINES`] lines.
pub async fn pump(mut stream: impl AsyncRead + Unpin, sink: Sink) -> Vec<String> {
    let mut tail = std::collections::VecDeque::with_capacity(TAIL_LINES + 1);
    let mut buf: Vec<u8> = Vec::with_capacity(MAX_LINE);
    let mut chunk = vec![0u8; 8192];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for &b in &chunk[..n] {
            if b == b'\n' {
                keep(&mut tail, emit(&mut buf, sink));
            } else {
                buf.push(b);
                if buf.len() >= MAX_LINE {
                    keep(&mut tail, emit_piece(&mut buf, sink));
                }
            }
        }
    }
    if !buf.is_empty() {
        keep(&mut tail, emit(&mut buf, sink));
    }
    tail.into()
}

fn keep(tail: &mut std::collections::VecDeque<String>, line: String) {
    tail.push_back(line);
    if tail.len() > TAIL_LINES {
        tail.pop_front();
    }
}

/// Prints the buffer as one line and returns it.
fn emit(buf: &mut Vec<u8>, sink: Sink) -> String {
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    let line = String::from_utf8_lossy(buf).into_owned();
    sink.line(&format!("    │ {line}"));
    buf.clear();
    line
}

/// Prints the longest prefix of a full buffer that ends on a character
/// boundary, keeping the rest (at most 3 bytes) for the next piece.
fn emit_piece(buf: &mut Vec<u8>, sink: Sink) -> String {
    let cut = match std::str::from_utf8(buf) {
        Ok(_) => buf.len(),
        Err(e) if e.error_len().is_none() && e.valid_up_to() > 0 => e.valid_up_to(),
        Err(_) => buf.len(),
    };
    let rest = buf.split_off(cut);
    let line = emit(buf, sink);
    *buf = rest;
    line
}

/// `sh -c COMMAND` behind a gate, in a process group of its own: the shell
/// first reads a line from its stdin, and only then runs the command (with
/// stdin from /dev/null); at end of file it exits without running it. So the
/// caller records the group durably before anything of the command runs, and
/// a caller killed before [`open_gate`] leaves nothing running.
pub fn gated_sh(command: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(r#"IFS= read -r _ || exit 125; exec sh -c "$1" </dev/null"#)
        .arg("sh")
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    c
}

/// Lets a [`gated_sh`] command run.
pub async fn open_gate(child: &mut tokio::process::Child) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut stdin = child.stdin.take().ok_or_else(|| std::io::Error::other("no gate"))?;
    stdin.write_all(b"go\n").await?;
    stdin.shutdown().await
}

/// What to run, and how.
pub struct Hook<'a> {
    pub name: &'a str,
    pub command: &'a str,
    /// The `STAGEGATE_*` context.
    pub env: &'a [(String, String)],
    pub timeout: Duration,
    pub sink: Sink,
    /// `steps.pass_env`: withheld credentials to pass anyway.
    pub pass_env: &'a [String],
}

/// What a run's steps do outside stagegate: run hooks and probe health
/// checks. [`Shell`] runs `sh` and sends HTTP requests; tests script both.
/// Their futures are not `Send`: a hook watches for signals as it runs.
#[async_trait::async_trait(?Send)]
pub trait Hooks: Send + Sync {
    /// Runs `hook` to its end, telling `started` its process group (see [`run`]).
    async fn run(&self, hook: &Hook<'_>, started: &dyn for<'p> Fn(&'p Process)) -> std::io::Result<Ended>;

    /// Tries `check` until it passes or `deadline` (see [`super::health::wait_for`]).
    /// `progress` hears of each miss and the time left.
    async fn probe(
        &self,
        check: &HealthCheck,
        timeout: Duration,
        deadline: tokio::time::Instant,
        progress: &mut dyn for<'p> FnMut(&'p Probe, Duration),
    ) -> Probe;
}

/// The real hooks: `sh -c`, and health checks over HTTP.
pub struct Shell;

#[async_trait::async_trait(?Send)]
impl Hooks for Shell {
    async fn run(&self, hook: &Hook<'_>, started: &dyn for<'p> Fn(&'p Process)) -> std::io::Result<Ended> {
        run(hook, started).await
    }

    async fn probe(
        &self,
        check: &HealthCheck,
        timeout: Duration,
        deadline: tokio::time::Instant,
        progress: &mut dyn for<'p> FnMut(&'p Probe, Duration),
    ) -> Probe {
        super::health::wait_for(check, timeout, deadline, progress).await
    }
}

/// Runs one hook to its end; `started` is told its process group as soon as
/// it runs. `Err` only when `sh` cannot be started at all.
pub async fn run(hook: &Hook<'_>, started: impl FnOnce(&Process)) -> std::io::Result<Ended> {
    let Hook { name, command, env, timeout, sink, pass_env } = *hook;
    let grouped = actions::active();
    if grouped {
        // The command is config text, possibly several lines: escaped, it stays the group's title.
        sink.command("group", &format!("{name} hook: {command}"));
    }
    let mut cmd = gated_sh(command);
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    child_env::scrub(&mut cmd, Child::Hook, pass_env);
    let mut child = cmd.spawn()?;
    let pgid = child.id().map(|p| p as i32);
    if let Some(pid) = child.id() {
        started(&Process::of(pid));
    }
    open_gate(&mut child).await?;
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
        s = interrupt::wait() => Ended::Interrupted(s),
    };
    if matches!(ended, Ended::TimedOut(_) | Ended::Interrupted(_))
        && let Some(pgid) = pgid
    {
        signal_group(pgid, libc::SIGTERM);
        // After a second signal the job is about to be killed: be quick.
        let grace = if interrupt::stopping() { GRACE / 4 } else { GRACE };
        let deadline = tokio::time::Instant::now() + grace;
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
        sink.command("endgroup", "");
    }
    Ok(ended)
}
