//! The forge: where tags, releases, deployments and approvals live.
//!
//! Every side effect on a forge goes through [`Forge`]. `--forge local` swaps in
//! [`local::LocalForge`] (state under `.stagegate/`), and `--dry-run` wraps any
//! forge in [`dry_run::DryRun`], which reads but only *describes* writes.

mod deployment;
pub mod dry_run;
pub mod history;
pub mod hold;
pub mod instances;
pub mod local;
pub mod verdict;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use miette::Diagnostic;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::config::Reviewer;
use crate::exit::Exit;
use crate::policy::environments::RefPolicy;

pub use deployment::{Deployment, DeploymentId, DeploymentState, DeploymentStatus, NewDeployment};
pub use hold::{Cleared, Hold, NewHold};

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
    /// The local forge's state directory.
    #[error(transparent)]
    #[diagnostic(transparent)]
    State(#[from] crate::state::StateError),

    #[error("{what} is only possible on the local forge")]
    #[diagnostic(code(stagegate::forge::local_only), help("{help}"))]
    LocalOnly { what: String, help: String },

    #[error("{what} not found")]
    #[diagnostic(code(stagegate::forge::not_found), help("{help}"))]
    NotFound { what: String, help: String },

    #[error("GitHub answered {status} to {action}: {message}")]
    #[diagnostic(code(stagegate::forge::github), help("{help}"))]
    GitHub { action: String, status: u16, message: String, help: String },

    #[error("cannot reach GitHub to {action}: {detail}")]
    #[diagnostic(
        code(stagegate::forge::network),
        help("check GITHUB_API_URL and the network; transient failures were already retried")
    )]
    Network { action: String, detail: String },

    #[error("{0}")]
    #[diagnostic(code(stagegate::forge::setup), help("{1}"))]
    Setup(String, String),

    #[error("gave up after {attempts} attempts to {what}")]
    #[diagnostic(code(stagegate::forge::contended), help("{help}"))]
    Contended { what: String, attempts: u32, help: String },
    /// GitHub accepted a GraphQL query and answered with `errors` (a 200).
    #[error("GitHub refused to {action}: {message}")]
    #[diagnostic(code(stagegate::forge::graphql), help("{help}"))]
    GraphQl { action: String, kind: String, message: String, help: String },

    #[error("no deployment {id} on {forge}")]
    #[diagnostic(code(stagegate::forge::no_deployment), help("list deployments with `stagegate status`"))]
    NoDeployment { id: DeploymentId, forge: String },
}

impl ForgeError {
    pub fn exit(&self) -> Exit {
        match self {
            ForgeError::LocalOnly { .. } | ForgeError::NotFound { .. } | ForgeError::Setup(..) => Exit::Invalid,
            ForgeError::State(e) => e.exit(),
            ForgeError::GitHub { .. }
            | ForgeError::Network { .. }
            | ForgeError::Contended { .. }
            | ForgeError::GraphQl { .. }
            | ForgeError::NoDeployment { .. } => Exit::Failed,
        }
    }
}

/// A git tag as the forge lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub name: String,
    /// The object the ref points at: a tag object (annotated) or a commit.
    pub sha: String,
}

/// What creating a tag came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagOutcome {
    /// The tag is ours: created now, or by an earlier attempt of this same run.
    Created(Tag),
    /// Someone else holds the name (a race): take the next one.
    Taken,
}

/// A tag to create. `nonce` makes the tag recognisably ours, so a retried
/// create that meets "already exists" can tell its own tag from a racer's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTag {
    pub name: String,
    pub commit: String,
    pub message: String,
    pub nonce: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub id: u64,
    pub tag: String,
    pub name: String,
    pub draft: bool,
    /// Where people look at it.
    pub html_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRelease {
    pub tag: String,
    pub name: String,
    pub body: Option<String>,
    pub draft: bool,
    pub generate_notes: bool,
    pub target: Option<String>,
}

/// A user or team as GitHub identifies an environment reviewer. Two refer to
/// the same reviewer when kind and id agree; the name is for people.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReviewerRef {
    /// `User` or `Team`, as GitHub spells it.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: u64,
    pub name: String,
}

impl PartialEq for ReviewerRef {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.id == other.id
    }
}
impl Eq for ReviewerRef {}

/// The protection of one environment: what `environments sync` sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Protection {
    /// Minutes.
    pub wait_timer: u32,
    pub prevent_self_review: bool,
    pub reviewers: Vec<ReviewerRef>,
    /// `None`: any ref may deploy; `Some`: only these patterns.
    pub policies: Option<Vec<RefPolicy>>,
    /// The stagegate App's custom deployment protection rule is enabled.
    #[serde(default)]
    pub app_rule: bool,
}

/// One difference between an environment on the forge and the config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub setting: &'static str,
    pub forge: String,
    pub config: String,
}

impl Protection {
    /// What must change to turn `current` (None: the environment is missing)
    /// into `self`.
    pub fn changes_from(&self, current: Option<&Protection>) -> Vec<Change> {
        let names = |r: &[ReviewerRef]| {
            let mut v: Vec<String> = r.iter().map(|r| r.name.clone()).collect();
            v.sort();
            if v.is_empty() { "none".to_string() } else { v.join(", ") }
        };
        let pols = |p: &Option<Vec<RefPolicy>>| match p {
            None => "any ref".to_string(),
            Some(v) if v.is_empty() => "no ref".to_string(),
            Some(v) => v
                .iter()
                .map(|p| if p.kind == "tag" { format!("tag:{}", p.name) } else { p.name.clone() })
                .collect::<Vec<_>>()
                .join(", "),
        };
        let empty = Protection {
            wait_timer: 0,
            prevent_self_review: false,
            reviewers: Vec::new(),
            policies: None,
            app_rule: false,
        };
        let mut out = Vec::new();
        if current.is_none() {
            out.push(Change { setting: "environment", forge: "missing".into(), config: "present".into() });
        }
        let cur = current.unwrap_or(&empty);
        if cur.wait_timer != self.wait_timer {
            out.push(Change {
                setting: "wait timer",
                forge: format!("{}m", cur.wait_timer),
                config: format!("{}m", self.wait_timer),
            });
        }
        let same_reviewers =
            cur.reviewers.len() == self.reviewers.len() && self.reviewers.iter().all(|r| cur.reviewers.contains(r));
        if !same_reviewers {
            out.push(Change { setting: "reviewers", forge: names(&cur.reviewers), config: names(&self.reviewers) });
        }
        if !self.reviewers.is_empty() && cur.prevent_self_review != self.prevent_self_review {
            out.push(Change {
                setting: "prevent self-review",
                forge: cur.prevent_self_review.to_string(),
                config: self.prevent_self_review.to_string(),
            });
        }
        let sorted = |p: &Option<Vec<RefPolicy>>| {
            p.clone().map(|mut v| {
                v.sort();
                v
            })
        };
        if sorted(&cur.policies) != sorted(&self.policies) {
            out.push(Change { setting: "deployment refs", forge: pols(&cur.policies), config: pols(&self.policies) });
        }
        if cur.app_rule != self.app_rule {
            let rule = |on: bool| if on { "stagegate App" } else { "none" }.to_string();
            out.push(Change { setting: "protection rule", forge: rule(cur.app_rule), config: rule(self.app_rule) });
        }
        out
    }
}

/// What deleting an environment came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvDeleted {
    Deleted,
    /// There was none (the local forge keeps no environment for an instance).
    Absent,
    /// The token may not (GitHub: 403 or 404 "Resource not accessible by
    /// integration" for a workflow's `GITHUB_TOKEN`): it takes an admin
    /// token or the App's (`administration: write`).
    NotAllowed {
        status: u16,
        message: String,
    },
}

/// One commit of a comparison, for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitSummary {
    pub sha: String,
    /// The first line of the message.
    pub title: String,
}

/// The most deployments one read brings back of one environment, whatever it
/// asks: on GitHub 100 pages of 100.
pub const MAX_WINDOW: usize = 10_000;

/// Which deployments of an environment a read brings back: newest first, at
/// most `at_most` (never more than [`MAX_WINDOW`]), none created before `since`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub since: Option<DateTime<Utc>>,
    pub at_most: usize,
}

impl Window {
    /// The newest `n`.
    pub fn newest(n: usize) -> Window {
        Window { since: None, at_most: n.min(MAX_WINDOW) }
    }

    /// Every one created at or after `since` (up to [`MAX_WINDOW`]).
    pub fn since(since: DateTime<Utc>) -> Window {
        Window { since: Some(since), at_most: MAX_WINDOW }
    }

    /// `list` (newest first) cut to the window.
    pub fn apply(&self, mut list: Vec<Deployment>) -> Vec<Deployment> {
        if let Some(since) = self.since {
            list.retain(|d| d.request.at >= since);
        }
        list.truncate(self.at_most.min(MAX_WINDOW));
        list
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

    /// Tags whose names start with `prefix`.
    async fn tags(&self, prefix: &str) -> Result<Vec<Tag>, ForgeError>;

    /// Creates a tag unless the name is taken.
    async fn create_tag(&self, tag: &NewTag) -> Result<TagOutcome, ForgeError>;

    /// The commit a ref (`main`, a tag, a sha) points at.
    async fn resolve_commit(&self, git_ref: &str) -> Result<String, ForgeError>;

    /// Every release, drafts included, newest first.
    async fn releases(&self) -> Result<Vec<Release>, ForgeError>;

    async fn create_release(&self, release: &NewRelease) -> Result<Release, ForgeError>;

    /// Removes a release (used only to undo a duplicate draft this run made).
    async fn delete_release(&self, id: u64) -> Result<(), ForgeError>;

    /// Turns a draft into a published release marked latest.
    async fn publish_release(&self, id: u64) -> Result<Release, ForgeError>;

    /// An environment's protection, or `None` when it does not exist.
    async fn environment(&self, name: &str) -> Result<Option<Protection>, ForgeError>;

    /// Creates or updates an environment to `desired` (branch policies created
    /// and deleted to match). `current` is what `environment` returned.
    async fn apply_environment(
        &self,
        name: &str,
        current: Option<&Protection>,
        desired: &Protection,
    ) -> Result<(), ForgeError>;

    /// Deletes an environment: an ephemeral instance's, once destroyed
    /// (GitHub: `DELETE …/environments/{name}`).
    async fn delete_environment(&self, name: &str) -> Result<EnvDeleted, ForgeError>;

    /// The names of the environments there are: GitHub's environments (a
    /// deployment to a new name creates one), the local forge's deployed ones.
    async fn environment_names(&self) -> Result<Vec<String>, ForgeError>;

    /// The id GitHub knows a configured reviewer by.
    async fn reviewer(&self, reviewer: &Reviewer) -> Result<ReviewerRef, ForgeError>;
    /// Logins in a team (`@org/slug`), lower-case. GitHub:
    /// `GET /orgs/{org}/teams/{slug}/members`; local forge: its `teams` map.
    async fn team_members(&self, org: &str, slug: &str) -> Result<Vec<String>, ForgeError>;

    /// Sets a team's members (local forge only: `stagegate team`; on GitHub
    /// teams are managed in the organisation).
    async fn set_team_members(&self, org: &str, slug: &str, members: &[String]) -> Result<(), ForgeError>;

    /// Creates a deployment with no status yet (GitHub: `POST …/deployments`).
    async fn create_deployment(&self, new: &NewDeployment) -> Result<Deployment, ForgeError>;

    /// Adds a status to a deployment (GitHub: `POST …/deployments/{id}/statuses`,
    /// with the deployment's environment URL and the run's page as `log_url`).
    /// `at` is honoured by the local forge only.
    async fn set_deployment_status(
        &self,
        d: &Deployment,
        state: DeploymentState,
        description: &str,
        at: DateTime<Utc>,
    ) -> Result<(), ForgeError>;

    /// Commits in `head` that `base` lacks (GitHub's compare API), or `None`
    /// where the forge knows no commits (the local forge).
    async fn commits_between(&self, base: &str, head: &str) -> Result<Option<Vec<CommitSummary>>, ForgeError>;

    /// An environment's deployments with their statuses, newest first
    /// (GitHub: `GET …/deployments?environment=` then each one's statuses).
    async fn deployments(&self, environment: &str) -> Result<Vec<Deployment>, ForgeError>;

    /// The history down to and including the newest successful deployment
    /// (all of it when none succeeded), newest first: what a promotion needs —
    /// what runs now, what is still running after it, this run's own
    /// deployments — at fewer requests where reading history costs some
    /// (GitHub: one status list per deployment). Deployments older than the
    /// newest success are left out, also ones left `in_progress` by a dead run.
    async fn recent_deployments(&self, environment: &str) -> Result<Vec<Deployment>, ForgeError> {
        self.deployments(environment).await
    }

    /// Several environments' deployments in one read, in the order asked, each
    /// newest first and cut to `window`: what `status` and `history` read.
    /// GitHub: one GraphQL query returns up to 100 deployments of each of up to
    /// ten environments, statuses and payloads included; further pages are
    /// asked only for environments that need more. (Before, every deployment's
    /// statuses cost a request of their own.)
    async fn deployments_in(&self, environments: &[&str], window: Window) -> Result<Vec<Vec<Deployment>>, ForgeError> {
        let mut out = Vec::with_capacity(environments.len());
        for env in environments {
            out.push(window.apply(self.deployments(env).await?));
        }
        Ok(out)
    }

    /// An environment's deployments created at or after `since`, newest first
    /// (at most [`MAX_WINDOW`]): for questions over a period, such as
    /// `metrics --since 90d`. GitHub: one request per 100 deployments, statuses
    /// and payloads included — 500 deployments cost 5 requests.
    async fn deployments_since(&self, environment: &str, since: DateTime<Utc>) -> Result<Vec<Deployment>, ForgeError> {
        let mut all = self.deployments_in(&[environment], Window::since(since)).await?;
        Ok(all.pop().unwrap_or_default())
    }

    /// An environment's holds, newest first, at most `limit` (GitHub: its
    /// deployments of task `stagegate:hold` with their statuses).
    async fn holds(&self, environment: &str, limit: usize) -> Result<Vec<Hold>, ForgeError>;

    /// Records a hold (GitHub: `POST …/deployments` with the hold's task and
    /// payload, no status).
    async fn set_hold(&self, new: &NewHold) -> Result<Hold, ForgeError>;

    /// Ends a hold (GitHub: its deployment set `inactive`, `description`
    /// saying who and why). `at` is honoured by the local forge only.
    async fn clear_hold(&self, hold: &Hold, description: &str, at: DateTime<Utc>) -> Result<(), ForgeError>;

    /// When a commit was made (its committer's date; GitHub:
    /// `GET …/commits/{sha}`), or `None` where the forge knows no commits
    /// (the local forge): the start of a change's lead time.
    async fn commit_time(&self, _sha: &str) -> Result<Option<DateTime<Utc>>, ForgeError> {
        Ok(None)
    }
}
