//! What the journal commands can refuse or fail with, and the exit code of each.

use miette::Diagnostic;
use thiserror::Error;

use super::kv::KvError;
use super::store::StoreError;
use crate::exit::Exit;

#[derive(Debug, Error, Diagnostic)]
pub enum JournalError {
    #[error("cluster `{cluster}` may not upload journals")]
    #[diagnostic(code(stagegate::journal::not_writer), help("{help}"))]
    NotWriter { cluster: String, help: String },

    #[error("cluster `{cluster}` may not upload journals of mandator `{mandator}`")]
    #[diagnostic(code(stagegate::journal::mandator), help("`{cluster}` may write: {allowed}"))]
    Mandator { cluster: String, mandator: String, allowed: String },

    #[error("uploading `{file}` failed after {attempts} attempt(s); the local file is untouched: {source}")]
    #[diagnostic(code(stagegate::journal::upload_failed), help("the journal stays on disk; {fix}"))]
    UploadFailed {
        file: String,
        attempts: u32,
        #[source]
        source: StoreError,
        /// What to fix: the store's own help when it refused.
        fix: &'static str,
    },

    #[error("`{file}` is stored as {version}, but the version endpoint latest.json could not be updated: {source}")]
    #[diagnostic(
        code(stagegate::journal::endpoint_failed),
        help("the journal is safe and listed by `journal versions`; latest.json catches up with the next upload")
    )]
    EndpointFailed {
        file: String,
        version: String,
        #[source]
        source: StoreError,
    },

    #[error("no such file: `{0}`")]
    #[diagnostic(
        code(stagegate::journal::no_such_file),
        help("check the path (relative to the directory stagegate runs in); nothing was uploaded")
    )]
    NoSuchFile(String),

    #[error("`{0}` is not a journal file that can be read")]
    #[diagnostic(code(stagegate::journal::bad_file), help("give the path of a regular, readable file"))]
    BadFile(String),

    #[error("`{0}` is not a valid {1}")]
    #[diagnostic(
        code(stagegate::journal::bad_name),
        help("use letters, digits, `-` and `_` (versions look like 20261121.3.dev-modelling)")
    )]
    BadName(String, &'static str),

    #[error("unknown journal lane `{lane}`")]
    #[diagnostic(code(stagegate::journal::unknown_lane), help("the lanes are: {lanes}"))]
    UnknownLane { lane: String, lanes: String },

    #[error("the store has no journal versions yet")]
    #[diagnostic(
        code(stagegate::journal::no_versions),
        help("upload one first: stagegate journal upload FILE --cluster C")
    )]
    NoVersions,

    #[error("version `{0}` has no manifest in the store")]
    #[diagnostic(
        code(stagegate::journal::unknown_version),
        help("`stagegate journal versions` lists what the store holds")
    )]
    UnknownVersion(String),

    #[error("{message}")]
    #[diagnostic(code(stagegate::journal::refused), help("{help}"))]
    Refused { message: String, help: String },

    #[error("the download of {version} does not match its manifest ({detail}); it was not imported")]
    #[diagnostic(
        code(stagegate::journal::checksum),
        help("the stored object is damaged or was replaced; upload the journal again and re-seed or promote")
    )]
    Checksum { version: String, detail: String },

    #[error("the import of {version} into lane `{lane}` failed: {detail}")]
    #[diagnostic(
        code(stagegate::journal::import_failed),
        help("the lane's state is `failed`; fix the cause and re-run with --retry-failed")
    )]
    ImportFailed { version: String, lane: String, detail: String },

    #[error("`{file}` changed while it was uploaded ({detail}); nothing was published")]
    #[diagnostic(
        code(stagegate::journal::changed),
        help(
            "the local file is untouched and the store holds nothing of it; upload it again once it is complete (`journal watch-dir` waits until a file is stable)"
        )
    )]
    Changed { file: String, detail: String },

    #[error("cannot {action} `{path}`: {source}")]
    #[diagnostic(code(stagegate::journal::io), help("check the path and its permissions"))]
    Io { action: &'static str, path: String, source: std::io::Error },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Store(#[from] StoreError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Kv(#[from] KvError),
}

impl JournalError {
    pub fn exit(&self) -> Exit {
        match self {
            JournalError::NotWriter { .. } | JournalError::Mandator { .. } | JournalError::Refused { .. } => {
                Exit::Refused
            }
            JournalError::BadFile(_)
            | JournalError::NoSuchFile(_)
            | JournalError::BadName(..)
            | JournalError::UnknownLane { .. }
            | JournalError::NoVersions => Exit::Invalid,
            JournalError::UploadFailed { .. }
            | JournalError::EndpointFailed { .. }
            | JournalError::UnknownVersion(_)
            | JournalError::Checksum { .. }
            | JournalError::ImportFailed { .. }
            | JournalError::Changed { .. }
            | JournalError::Io { .. } => Exit::Failed,
            JournalError::Store(e) => e.exit(),
            JournalError::Kv(e) => e.exit(),
        }
    }

    /// An upload that failed: what to check is the store's own help when it
    /// refused (credentials, permissions, bucket).
    pub fn upload_failed(file: String, attempts: u32, source: StoreError) -> JournalError {
        let fix = match &source {
            StoreError::Refused { help, .. } => help,
            _ => "fix the cause (credentials, network, bucket) and run the upload again",
        };
        JournalError::UploadFailed { file, attempts, source, fix }
    }

    /// The store refused (credentials, permissions, no such bucket): a
    /// daemon stops instead of trying again.
    pub fn is_permanent(&self) -> bool {
        matches!(self, JournalError::Store(StoreError::Refused { .. }))
    }

    pub fn refused(message: impl Into<String>, help: impl Into<String>) -> JournalError {
        JournalError::Refused { message: message.into(), help: help.into() }
    }

    pub fn io(action: &'static str, path: &std::path::Path) -> impl FnOnce(std::io::Error) -> JournalError {
        let path = path.display().to_string();
        move |source| JournalError::Io { action, path, source }
    }
}
