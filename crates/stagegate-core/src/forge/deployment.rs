//! Deployments as the forge records them: what is asked for, its id (or the
//! planned one of a dry run), its statuses over time.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
    /// Why it was asked for (`rollback --reason`): shown by `history`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When it starts. The local forge records it (so tests can inject time);
    /// GitHub stamps its own.
    pub at: DateTime<Utc>,
    /// Where the environment is reached (the config's `url:`): GitHub's
    /// deployments view links it from each status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_url: Option<String>,
    /// The page of the Actions run that made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_url: Option<String>,
    /// What the checks counted when it was made; `None` in records written
    /// before stagegate kept it (or whose verdict could not be read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<super::verdict::Verdict>,
}

/// One status of a deployment, oldest first in [`Deployment::statuses`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentStatus {
    pub state: DeploymentState,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

/// Which deployment a record is: one the forge keeps under its number, or the
/// one a dry run plans and never creates. In JSON a planned one is `null`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(from = "Option<u64>", into = "Option<u64>")]
pub enum DeploymentId {
    Recorded(u64),
    /// `--dry-run`: the deployment that would be created.
    Planned,
}

impl DeploymentId {
    /// The forge's number, unless the deployment is only planned.
    pub fn recorded(self) -> Option<u64> {
        match self {
            DeploymentId::Recorded(id) => Some(id),
            DeploymentId::Planned => None,
        }
    }
}

impl From<Option<u64>> for DeploymentId {
    fn from(id: Option<u64>) -> Self {
        id.map_or(DeploymentId::Planned, DeploymentId::Recorded)
    }
}

impl From<DeploymentId> for Option<u64> {
    fn from(id: DeploymentId) -> Self {
        id.recorded()
    }
}

impl PartialEq<u64> for DeploymentId {
    fn eq(&self, other: &u64) -> bool {
        self.recorded() == Some(*other)
    }
}

/// `7`, or `planned` for a dry run's.
impl std::fmt::Display for DeploymentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeploymentId::Recorded(id) => write!(f, "{id}"),
            DeploymentId::Planned => f.write_str("planned"),
        }
    }
}

/// A deployment with its statuses, as `deployments()` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub id: DeploymentId,
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
