//! The forge: where tags, releases, deployments and approvals live.
//!
//! Every side effect on a forge goes through [`Forge`]. `--forge local` swaps in
//! [`local::LocalForge`] (state under `.stagegate/`), and `--dry-run` wraps any
//! forge in [`dry_run::DryRun`], which reads but only *describes* writes.

pub mod dry_run;
pub mod local;
pub mod state;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use miette::Diagnostic;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::error::Exit;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ForgeKind {
    Github,
    Local,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalState {
    Approved,
    Rejected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserType {
    User,
    Bot,
}

/// One review of one environment in one workflow run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub run_id: String,
    pub environment: String,
    pub user: String,
    pub user_type: UserType,
    pub state: ApprovalState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Error, Diagnostic)]
pub enum ForgeError {
    #[error("cannot {action} `{path}`: {source}")]
    #[diagnostic(code(stagegate::forge::io), help("check that the state directory is writable (--state-dir)"))]
    Io { action: &'static str, path: String, source: std::io::Error },

    #[error("the local state file `{path}` is damaged: {detail}")]
    #[diagnostic(
        code(stagegate::forge::corrupt),
        help("stagegate never overwrites it; move it aside to start from empty state, or restore it from a backup")
    )]
    Corrupt { path: String, detail: String },

    #[error("{what} is only possible on the local forge")]
    #[diagnostic(code(stagegate::forge::local_only), help("{help}"))]
    LocalOnly { what: String, help: String },

    #[error("the GitHub forge is not available in this build of stagegate")]
    #[diagnostic(code(stagegate::forge::unavailable), help("run with --forge local"))]
    Unavailable,
}

impl ForgeError {
    pub fn exit(&self) -> Exit {
        match self {
            ForgeError::LocalOnly { .. } | ForgeError::Unavailable => Exit::Invalid,
            ForgeError::Io { .. } | ForgeError::Corrupt { .. } => Exit::Failed,
        }
    }
}

/// The side effects stagegate has on a forge.
#[async_trait]
pub trait Forge: Send + Sync {
    /// "local forge (.stagegate)", "github.com/acme/app", for messages.
    fn describe(&self) -> String;

    fn kind(&self) -> ForgeKind;

    /// Records a review (local forge: `stagegate approve`).
    async fn record_approval(&self, approval: &Approval) -> Result<(), ForgeError>;

    /// Every review recorded for a run, oldest first.
    async fn approvals(&self, run_id: &str) -> Result<Vec<Approval>, ForgeError>;
}
