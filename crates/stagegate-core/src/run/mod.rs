//! Promotion runs: pre-flight checks, backup, deploy, verification
//! (health checks and the verify hook), record — and on any failure after the
//! deploy started, the rollback hook, a redeploy of the previous good release
//! and a second verification.
//!
//! [`Runner`] carries what every step needs (forge, hooks, clock, output) and
//! records each step with its timing; `promote`, `deploy` and `rollback` are
//! sequences of those steps (`flow`, `preflight`), and every run ends in one
//! [`report::Report`]: printed, appended to the audit trail, summarised under
//! Actions.

pub mod audit;
pub mod child_env;
pub mod destroy;
pub mod direct;
pub mod effects;
pub mod failure;
pub mod flow;
pub mod health;
pub mod hooks;
pub mod interrupt;
pub mod liveness;
pub mod lock;
pub mod preflight;
pub mod promote;
pub mod readiness;
pub mod record;
pub mod render;
pub mod report;
pub mod waiting;

#[cfg(test)]
mod flow_tests;

use std::time::Instant;

use chrono::{DateTime, Utc};
use miette::Diagnostic;
use serde::Serialize;
use thiserror::Error;

use crate::config::Config;
use crate::exit::Exit;
use crate::forge::ForgeError;
use crate::output::Out;
use crate::plan::{Hook, StepName};
use effects::Effects;
use failure::StepError;

#[derive(Debug, Error, Diagnostic)]
pub enum RunError {
    #[error("{what} `{value}` contains characters a shell would interpret")]
    #[diagnostic(
        code(stagegate::run::unsafe_value),
        help(
            "release ids, refs and logins reach hooks as environment variables; stagegate refuses shell metacharacters (`$`, backticks, `;`, `|`, `&`, quotes, spaces…) in them anyway"
        )
    )]
    UnsafeValue { what: &'static str, value: String },

    #[error("{0}")]
    #[diagnostic(
        code(stagegate::run::bad_ref),
        help("refs reach hooks as STAGEGATE_REF: give a valid branch or tag name")
    )]
    BadRef(String),

    #[error("`{0}` is not a commit sha")]
    #[diagnostic(code(stagegate::run::bad_sha), help("give 7 to 64 hexadecimal digits, e.g. --sha 3f2c1a9"))]
    BadSha(String),

    #[error("cannot {action}: {source}")]
    #[diagnostic(code(stagegate::run::io), help("check that the state directory is writable (--state-dir)"))]
    Io { action: String, source: std::io::Error },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Forge(#[from] ForgeError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    State(#[from] crate::state::StateError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    ServiceNow(#[from] crate::gates::servicenow::ServiceNowError),
}

impl RunError {
    pub fn exit(&self) -> Exit {
        match self {
            RunError::UnsafeValue { .. } | RunError::BadRef(_) | RunError::BadSha(_) => Exit::Invalid,
            RunError::Io { .. } => Exit::Failed,
            RunError::Forge(e) => e.exit(),
            RunError::State(e) => e.exit(),
            RunError::ServiceNow(e) => e.exit(),
        }
    }
}

/// Refuses values that a shell would interpret, before anything runs. Hooks
/// never see values in their command string, but a hook may well pass
/// `$STAGEGATE_REF` on unquoted; this keeps that mistake harmless.
pub fn check_hook_safe(what: &'static str, value: &str) -> Result<(), RunError> {
    let bad = |c: char| c.is_whitespace() || c.is_control() || "$`;|&<>()'\"\\!*?[]{}~#".contains(c);
    if value.chars().any(bad) {
        return Err(RunError::UnsafeValue { what, value: value.escape_debug().to_string() });
    }
    Ok(())
}

/// The context a hook gets may come from deployment history (a promotion's
/// ref and release are the source environment's), which a hostile record could
/// fill: the ref passes the one ref validator, every value the same checks as
/// on the command line.
pub fn check_context(t: &Target) -> Result<(), RunError> {
    if let Some(r) = &t.git_ref {
        let name = r.strip_prefix("refs/heads/").or_else(|| r.strip_prefix("refs/tags/")).unwrap_or(r);
        crate::policy::refname::check(name).map_err(|e| RunError::BadRef(e.to_string()))?;
        check_hook_safe("ref", name)?;
    }
    let values = [
        ("release id", Some(&t.release)),
        ("previous release id", t.previous_release.as_ref()),
        ("sha", t.sha.as_ref()),
        ("actor", Some(&t.actor)),
        ("run id", Some(&t.run_id)),
    ];
    for (what, v) in values {
        if let Some(v) = v {
            check_hook_safe(what, v)?;
        }
    }
    Ok(())
}

pub fn check_sha(sha: &str) -> Result<(), RunError> {
    if (7..=64).contains(&sha.len()) && sha.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(RunError::BadSha(sha.escape_debug().to_string()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Ok,
    Failed,
    Refused,
    Skipped,
    /// `--dry-run`: would run.
    Planned,
}

/// One executed step, with its timing.
#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    pub name: StepName,
    pub status: StepStatus,
    pub seconds: f64,
    pub detail: String,
}

/// What a run deploys, and the context its hooks get.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    #[serde(rename = "environment")]
    pub env: String,
    pub from: Option<String>,
    pub release: String,
    pub sha: Option<String>,
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    pub actor: String,
    pub run_id: String,
    /// The release this run replaces (hooks get it as STAGEGATE_PREVIOUS_RELEASE).
    pub previous_release: Option<String>,
}

/// Carries what every step needs and records the steps as they run.
pub struct Runner<'c> {
    pub cfg: &'c Config,
    /// The forge, hooks and probes, state dir, clock and sink of the command.
    /// Under `--dry-run` the forge describes its writes, and hooks and health
    /// checks do not run.
    pub fx: Effects,
    pub out: Out,
    pub steps: Vec<StepRecord>,
    pub started: Instant,
    /// The gate's verdict once evaluated, passed or not, for the report.
    pub gate: Option<crate::gates::approvals::Verdict>,
    /// A freeze overridden with `--override-freeze --reason`, for the report and audit.
    pub freeze_override: Option<audit::FreezeOverride>,
    /// Why the run was asked for (`rollback --reason`): into the deployment
    /// record, the report and the audit trail.
    pub reason: Option<String>,
    /// The ServiceNow change `check-change` found approved (hooks get its
    /// number as STAGEGATE_CHANGE).
    pub change: Option<crate::gates::servicenow::Change>,
}

impl<'c> Runner<'c> {
    /// A runner with no steps yet, starting now.
    pub fn new(cfg: &'c Config, fx: Effects, out: Out) -> Runner<'c> {
        let (steps, started) = (Vec::new(), Instant::now());
        Runner { cfg, fx, out, steps, started, gate: None, freeze_override: None, reason: None, change: None }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.fx.clock.now()
    }

    pub fn sink(&self) -> hooks::Sink {
        self.fx.sink
    }

    /// Records a finished step and prints it as a progress line.
    pub fn record(&mut self, name: impl Into<StepName>, status: StepStatus, since: Instant, detail: impl Into<String>) {
        let rec = StepRecord {
            name: name.into(),
            status,
            seconds: (since.elapsed().as_secs_f64() * 10.0).round() / 10.0,
            detail: detail.into(),
        };
        let mark = match status {
            StepStatus::Ok => self.out.good("✓"),
            StepStatus::Failed | StepStatus::Refused => self.out.bad("✗"),
            StepStatus::Skipped => self.out.dim("–"),
            StepStatus::Planned => self.out.dim("•"),
        };
        let time = if status == StepStatus::Planned { "    ".to_string() } else { format!("{:>4.1}s", rec.seconds) };
        self.sink().line(&format!("{mark} {:<16} {} {}", rec.name.as_str(), self.out.dim(&time), rec.detail));
        self.steps.push(rec);
    }

    /// The STAGEGATE_* variables a hook gets: the only way context reaches it.
    pub fn hook_env(&self, t: &Target, step: Hook) -> Vec<(String, String)> {
        let state = std::path::absolute(self.fx.state.root()).unwrap_or_else(|_| self.fx.state.root().to_path_buf());
        [
            ("STAGEGATE_ENV", t.env.clone()),
            ("STAGEGATE_FROM", t.from.clone().unwrap_or_default()),
            ("STAGEGATE_RELEASE", t.release.clone()),
            ("STAGEGATE_SHA", t.sha.clone().unwrap_or_default()),
            ("STAGEGATE_REF", t.git_ref.clone().unwrap_or_default()),
            ("STAGEGATE_ACTOR", t.actor.clone()),
            ("STAGEGATE_RUN_ID", t.run_id.clone()),
            ("STAGEGATE_STEP", step.as_str().to_owned()),
            ("STAGEGATE_PREVIOUS_RELEASE", t.previous_release.clone().unwrap_or_default()),
            ("STAGEGATE_CHANGE", self.change.as_ref().map(|c| c.number.clone()).unwrap_or_default()),
            ("STAGEGATE_STATE_DIR", state.display().to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// The command configured for a hook, if any.
    fn hook_command(&self, hook: Hook) -> Option<String> {
        let s = &self.cfg.steps;
        match hook {
            Hook::Backup => s.backup.clone(),
            Hook::Deploy => s.deploy.clone(),
            Hook::Verify => s.verify.clone(),
            Hook::Rollback => s.rollback.clone(),
            Hook::Create => s.create.clone(),
            Hook::Destroy => s.destroy.clone(),
        }
    }

    /// Runs the hook of step `name` (if one is configured). `Err` says what failed.
    pub async fn hook(&mut self, name: StepName, t: &Target) -> Result<(), StepError> {
        let since = Instant::now();
        let Some(hook) = name.hook() else { return Ok(()) };
        let step = hook.as_str();
        let Some(command) = self.hook_command(hook) else {
            self.record(name, StepStatus::Skipped, since, format!("no {step} hook configured"));
            return Ok(());
        };
        if self.fx.writes.is_dry_run() {
            self.record(name, StepStatus::Planned, since, format!("would run `{command}`"));
            return Ok(());
        }
        // A signal that came between two steps stops the next one; after a
        // second signal nothing starts at all.
        let signal = interrupt::pending().or_else(|| interrupt::stopping().then_some(interrupt::Signal::Term));
        if let Some(signal) = signal {
            interrupt::handled();
            let why = StepError::NotStarted { step, command, signal: signal.name() };
            return Err(self.failed(name, since, why));
        }
        if let Err(source) = check_context(t) {
            return Err(self.failed(name, since, StepError::UnsafeContext { step, source }));
        }
        let env = self.hook_env(t, hook);
        let command = command.as_str();
        let hook = hooks::Hook {
            name: name.as_str(),
            command,
            env: &env,
            timeout: self.cfg.steps.hook_timeout,
            sink: self.sink(),
            pass_env: &self.cfg.steps.pass_env,
        };
        // The lock records the hook's process group while it runs: should
        // stagegate die, no other run deploys to the environment beside it.
        let started = |group: &liveness::Process| {
            let hook = lock::HookGroup {
                step: step.to_owned(),
                command: command.to_owned(),
                group: group.clone(),
                since: crate::clock::now(),
            };
            lock::note_hook(&self.fx.state, &t.env, Some(hook));
        };
        let ended = self.fx.hooks.run(&hook, &started).await;
        lock::note_hook(&self.fx.state, &t.env, None);
        match ended {
            Ok(ended) if ended.ok() => {
                self.record(name, StepStatus::Ok, since, format!("`{command}` exited 0"));
                Ok(())
            }
            Ok(ended) => {
                let why = StepError::HookFailed { step, command: command.to_owned(), ended: ended.describe() };
                Err(self.failed(name, since, why))
            }
            Err(source) => {
                let why = StepError::CannotStart { step, command: command.to_owned(), source };
                Err(self.failed(name, since, why))
            }
        }
    }

    /// Records step `name` as failed with `why`, and returns `why`.
    pub fn failed(&mut self, name: StepName, since: Instant, why: StepError) -> StepError {
        self.record(name, StepStatus::Failed, since, why.to_string());
        why
    }
}
