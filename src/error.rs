//! The top-level error: every area's error, with its exit code.

pub use crate::exit::{EXIT_CODES_HELP, Exit};

use miette::Diagnostic;

use thiserror::Error;

/// Errors of the command line itself: what the user typed.
#[derive(Debug, Error, Diagnostic)]
pub enum InputError {
    #[error("{message}")]
    #[diagnostic(code(stagegate::input::unknown_environment), help("{help}"))]
    UnknownEnvironment { message: String, help: String },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Resolve(#[from] crate::config::ResolveError),

    #[error("{0}")]
    #[diagnostic(
        code(stagegate::input::bad_ref),
        help("give a branch (`main`, `refs/heads/main`) or a tag (`refs/tags/26.11.21.1`)")
    )]
    BadRef(crate::policy::refs::RefParseError),

    #[error("`{0}` is not a valid release id")]
    #[diagnostic(
        code(stagegate::input::bad_release),
        help("a release id is a tag or version: letters, digits and `.`, `-`, `_`, `+`, at most 128 characters")
    )]
    BadRelease(String),

    #[error("{what} `{value}` contains a control or invisible character (U+{code:04X})")]
    #[diagnostic(
        code(stagegate::input::unsafe_text),
        help(
            "free text reaches logs, step summaries and workflow commands; write it on one line, without control, bidirectional or zero-width characters"
        )
    )]
    UnsafeText { what: String, value: String, code: u32 },

    #[error("{message}")]
    #[diagnostic(code(stagegate::input::invalid))]
    Invalid {
        message: String,
        #[help]
        help: Option<String>,
    },
}

/// Everything a command can fail with; each area has its own enum.
#[derive(Debug, Error, Diagnostic)]
pub enum Error {
    #[error("cannot read config `{path}`: {source}")]
    #[diagnostic(
        code(stagegate::config::read),
        help("pass the file with -c/--config or STAGEGATE_CONFIG; `stagegate init` writes a starter one")
    )]
    ConfigRead { path: String, source: std::io::Error },

    /// The diagnostics were already printed; this only carries the exit code.
    #[error("{file} has {errors} error(s)")]
    #[diagnostic(code(stagegate::config::invalid), help("fix the problems above; `stagegate check` lists them all"))]
    ConfigInvalid { file: String, errors: usize },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Input(#[from] InputError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Forge(#[from] crate::forge::ForgeError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Run(#[from] crate::run::RunError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    State(#[from] crate::state::StateError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Gate(#[from] crate::gates::GateError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Journal(#[from] crate::journal::JournalError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    ServiceNow(#[from] crate::gates::servicenow::ServiceNowError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Serve(#[from] crate::serve::ServeError),
}

impl From<crate::journal::store::StoreError> for Error {
    fn from(e: crate::journal::store::StoreError) -> Self {
        Error::Journal(e.into())
    }
}

impl From<crate::journal::kv::KvError> for Error {
    fn from(e: crate::journal::kv::KvError) -> Self {
        Error::Journal(e.into())
    }
}

impl Error {
    pub fn exit(&self) -> Exit {
        match self {
            Error::ConfigRead { .. } | Error::ConfigInvalid { .. } | Error::Input(_) => Exit::Invalid,
            Error::Forge(e) => e.exit(),
            Error::Run(e) => e.exit(),
            Error::State(e) => e.exit(),
            Error::Gate(e) => e.exit(),
            Error::Journal(e) => e.exit(),
            Error::ServiceNow(e) => e.exit(),
            Error::Serve(e) => e.exit(),
        }
    }

    pub fn invalid(message: impl Into<String>, help: impl Into<String>) -> Error {
        Error::Input(InputError::Invalid { message: message.into(), help: Some(help.into()) })
    }
}

/// Release ids travel into env vars, file names and API paths: keep them tame.
pub fn check_release_id(id: &str) -> Result<(), InputError> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && !id.starts_with(['-', '.'])
        && !id.contains("..")
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'));
    if ok && crate::policy::refname::check(id).is_ok() {
        Ok(())
    } else {
        Err(InputError::BadRelease(id.escape_debug().to_string()))
    }
}

/// Free text (`--reason`, a comment, a name) may be printed to logs and step
/// summaries: refuse control and invisible characters instead of escaping
/// them everywhere it goes.
pub fn check_text(what: &str, value: &str) -> Result<(), InputError> {
    match crate::policy::refname::unsafe_char(value) {
        None => Ok(()),
        Some(c) => Err(InputError::UnsafeText {
            what: what.to_string(),
            value: value.escape_debug().to_string(),
            code: c as u32,
        }),
    }
}

/// With `--output json`, a failed command still prints one JSON document.
pub fn print_json(e: &Error) {
    let doc = serde_json::json!({
        "error": {
            "code": e.code().map(|c| c.to_string()),
            "message": e.to_string(),
            "help": e.help().map(|h| h.to_string()),
            "exit": e.exit() as u8,
        }
    });
    crate::console::json(crate::console::Stream::Out, &serde_json::to_string_pretty(&doc).expect("serializes"));
}
