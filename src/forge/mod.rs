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

/// GitHub's deployment states (`POST …/deployments/{id}/statuses`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentState {
    Pending,
    InProgress,
    Success,
    Failure,
    Error,
    /// Replaced by a later successful deployment to the same environment.
    Inactive,
}

impl DeploymentState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentState::Pending => "pending",
            DeploymentState::InProgress => "in_progress",
            DeploymentState::Success => "success",
            DeploymentState::Failure => "failure",
            DeploymentState::Error => "error",
            DeploymentState::Inactive => "inactive",
        }
    }

    /// Still running: another deployment to the environment must wait.
    pub fn is_active(self) -> bool {
        matches!(self, DeploymentState::Pending | DeploymentState::InProgress)
    }
}

impl std::fmt::Display for DeploymentState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What `create_deployment` sends (GitHub: `POST /repos/{o}/{r}/deployments`
/// with `ref`, `sha` check, `environment`, `payload: {release, run_id, …}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDeployment {
    pub environment: String,
    pub release: String,
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    pub sha: Option<String>,
    pub creator: String,
    pub description: String,
    /// The workflow run (or `local`) that made it: approvals are per run.
    pub run_id: String,
    /// The source environment of a promotion.
    pub from: Option<String>,
    /// For a rollback deployment: the id of the deployment it undoes.
    pub rollback_of: Option<u64>,
    /// When it starts. The local forge records it (so tests can inject time);
    /// GitHub stamps its own.
    pub at: DateTime<Utc>,
}

/// One status of a deployment, oldest first in [`Deployment::statuses`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentStatus {
    pub state: DeploymentState,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

/// A deployment with its statuses, as `deployments()` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub id: u64,
    #[serde(flatten)]
    pub request: NewDeployment,
    #[serde(default)]
    pub statuses: Vec<DeploymentStatus>,
}

impl Deployment {
    /// The latest status (a deployment without one is `pending`, as on GitHub).
    pub fn state(&self) -> DeploymentState {
        self.statuses.last().map_or(DeploymentState::Pending, |s| s.state)
    }

    /// When its latest status was set (its creation when it has none).
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.statuses.last().map_or(self.request.at, |s| s.created_at)
    }

    /// When it first became `success`, if it did.
    pub fn succeeded_at(&self) -> Option<DateTime<Utc>> {
        self.statuses.iter().find(|s| s.state == DeploymentState::Success).map(|s| s.created_at)
    }
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

    #[error("no deployment {id} on {forge}")]
    #[diagnostic(code(stagegate::forge::no_deployment), help("list deployments with `stagegate status`"))]
    NoDeployment { id: u64, forge: String },

    #[error("the GitHub forge is not available in this build of stagegate")]
    #[diagnostic(code(stagegate::forge::unavailable), help("run with --forge local"))]
    Unavailable,
}

impl ForgeError {
    pub fn exit(&self) -> Exit {
        match self {
            ForgeError::LocalOnly { .. } | ForgeError::Unavailable => Exit::Invalid,
            ForgeError::Io { .. } | ForgeError::Corrupt { .. } | ForgeError::NoDeployment { .. } => Exit::Failed,
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

    /// Logins in a team (`@org/slug`), lower-case. GitHub:
    /// `GET /orgs/{org}/teams/{slug}/members`; local forge: its `teams` map.
    async fn team_members(&self, org: &str, slug: &str) -> Result<Vec<String>, ForgeError>;

    /// Sets a team's members (local forge only: `stagegate team`; on GitHub
    /// teams are managed in the organisation).
    async fn set_team_members(&self, org: &str, slug: &str, members: &[String]) -> Result<(), ForgeError>;

    /// Creates a deployment with no status yet (GitHub: `POST …/deployments`).
    async fn create_deployment(&self, new: &NewDeployment) -> Result<Deployment, ForgeError>;

    /// Adds a status to a deployment (GitHub: `POST …/deployments/{id}/statuses`).
    /// `at` is honoured by the local forge only.
    async fn set_deployment_status(
        &self,
        id: u64,
        state: DeploymentState,
        description: &str,
        at: DateTime<Utc>,
    ) -> Result<(), ForgeError>;

    /// An environment's deployments with their statuses, newest first
    /// (GitHub: `GET …/deployments?environment=` then each one's statuses).
    async fn deployments(&self, environment: &str) -> Result<Vec<Deployment>, ForgeError>;
}
