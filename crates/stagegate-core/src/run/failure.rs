//! Why a step of a run failed. The run records it on the step, on the
//! deployment and in the report's message, in these words; it is not a
//! command error (the run goes on to roll back and reports how it ended).

use miette::Diagnostic;
use thiserror::Error;

use super::RunError;

#[derive(Debug, Error, Diagnostic)]
pub enum StepError {
    #[error("{step} hook `{command}` was not started: stagegate received {signal}")]
    #[diagnostic(code(stagegate::run::interrupted), help("run it again when nothing needs to stop it"))]
    NotStarted { step: &'static str, command: String, signal: &'static str },

    #[error("the {step} hook was not run: {source}")]
    #[diagnostic(code(stagegate::run::unsafe_context), help("check the ref and release ids in the deployment history"))]
    UnsafeContext {
        step: &'static str,
        #[source]
        source: RunError,
    },

    #[error("{step} hook `{command}` {ended}")]
    #[diagnostic(code(stagegate::run::hook_failed), help("the hook's output above says why"))]
    HookFailed { step: &'static str, command: String, ended: String },

    #[error("cannot start the {step} hook `{command}`: {source}")]
    #[diagnostic(
        code(stagegate::run::hook_start),
        help("hooks run with `sh -c`: check that the shell and the command exist")
    )]
    CannotStart {
        step: &'static str,
        command: String,
        #[source]
        source: std::io::Error,
    },

    #[error("health check of {url} stopped: stagegate received {signal}")]
    #[diagnostic(code(stagegate::run::interrupted), help("run it again when nothing needs to stop it"))]
    HealthStopped { url: String, signal: &'static str },

    #[error("health check failed: {0}")]
    #[diagnostic(
        code(stagegate::run::unhealthy),
        help("the environment's `health:` checks in the config say what is expected")
    )]
    Unhealthy(String),

    #[error("{env} has no health check #{number}")]
    #[diagnostic(
        code(stagegate::run::no_health_check),
        help("the plan names a check the config no longer has: run again")
    )]
    NoHealthCheck { env: String, number: usize },
}
