//! Deployments, their statuses and team membership on GitHub.
//!
//! stagegate keeps its own record of a deployment (release, source environment,
//! run, rollback link) in the deployment's `payload.stagegate`, so reading the
//! history back needs no other store. History is the newest
//! [`HISTORY`] deployments of an environment, their statuses fetched in
//! parallel: enough for "what runs there now" and "the previous good release",
//! at a bounded number of requests. A promotion needs only the history down to
//! the newest successful deployment, which is usually the newest one.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::GitHubForge;
use super::api::{error, seg};
use crate::forge::{
    CommitSummary, Deployment, DeploymentId, DeploymentState, DeploymentStatus, Forge, ForgeError, NewDeployment,
    Window,
};

const HISTORY: usize = 20;
/// History over GraphQL: one request however many of them (GitHub's page).
const GRAPHQL_HISTORY: usize = 100;
/// Status lists read at once when looking for the newest successful deployment.
const BATCH: usize = 4;
/// Status requests in flight at most, however many deployments a page holds.
const IN_FLIGHT: usize = 8;
const PERM: &str = "deployments: write";

#[derive(Deserialize)]
pub(super) struct GhDeployment {
    pub(super) id: u64,
    #[serde(rename = "ref")]
    pub(super) git_ref: String,
    pub(super) sha: String,
    pub(super) environment: String,
    #[serde(default)]
    pub(super) payload: Value,
    pub(super) description: Option<String>,
    pub(super) creator: Option<Login>,
    pub(super) created_at: DateTime<Utc>,
}

#[derive(Deserialize)]
pub(super) struct Login {
    login: String,
}

#[derive(Deserialize)]
struct GhStatus {
    state: String,
    #[serde(default)]
    description: String,
    created_at: DateTime<Utc>,
}

pub(super) fn state_of(s: &str) -> DeploymentState {
    match s {
        "success" => DeploymentState::Success,
        "failure" => DeploymentState::Failure,
        "error" => DeploymentState::Error,
        "inactive" => DeploymentState::Inactive,
        "in_progress" => DeploymentState::InProgress,
        _ => DeploymentState::Pending,
    }
}

impl GhDeployment {
    /// stagegate's own record from the payload, else what GitHub knows. The
    /// verdict is read on its own: one out of bounds is not read (unknown),
    /// and leaves the rest of the record as it is.
    pub(super) fn request(&self) -> NewDeployment {
        let mut record = self.payload["stagegate"].clone();
        let verdict = record.as_object_mut().and_then(|o| o.remove("verdict"));
        if let Ok(mut r) = serde_json::from_value::<NewDeployment>(record) {
            r.at = self.created_at;
            r.verdict = verdict.and_then(|v| serde_json::from_value(v).ok());
            return r;
        }
        NewDeployment {
            environment: self.environment.clone(),
            release: self.git_ref.clone(),
            git_ref: Some(self.git_ref.clone()),
            sha: Some(self.sha.clone()),
            creator: self.creator.as_ref().map_or_else(|| "unknown".into(), |c| c.login.clone()),
            description: self.description.clone().unwrap_or_default(),
            run_id: String::new(),
            from: None,
            rollback_of: None,
            reason: None,
            at: self.created_at,
            environment_url: None,
            log_url: None,
            verdict: None,
        }
    }
}

impl GitHubForge {
    pub(super) async fn gh_team_members(&self, org: &str, slug: &str) -> Result<Vec<String>, ForgeError> {
        let path = format!("/orgs/{}/teams/{}/members", seg(org), seg(slug));
        let members: Vec<Login> =
            match self.get_all(&path, &format!("list the members of @{org}/{slug}"), "members: read").await {
                Ok(m) => m,
                Err(ForgeError::GitHub { status: 404, .. }) => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
        Ok(members.into_iter().map(|m| m.login.to_lowercase()).collect())
    }

    pub(super) async fn gh_create_deployment(&self, new: &NewDeployment) -> Result<Deployment, ForgeError> {
        let git_ref = new.sha.clone().or_else(|| new.git_ref.clone()).unwrap_or_else(|| new.release.clone());
        let body = json!({
            "ref": git_ref,
            "environment": new.environment,
            "description": truncate(&new.description, 140),
            "auto_merge": false,
            "required_contexts": [],
            "payload": {"stagegate": new},
        });
        let created: GhDeployment = self
            .octo
            .post(self.repo_path("deployments"), Some(&body))
            .await
            .map_err(|e| error(&format!("create a deployment to {}", new.environment), PERM, e))?;
        Ok(Deployment { id: DeploymentId::Recorded(created.id), request: new.clone(), statuses: Vec::new() })
    }

    pub(super) async fn gh_set_status(
        &self,
        d: &Deployment,
        state: DeploymentState,
        description: &str,
    ) -> Result<(), ForgeError> {
        let Some(id) = d.id.recorded() else {
            return Err(ForgeError::NoDeployment { id: d.id, forge: Forge::describe(self) });
        };
        let mut body = json!({
            "state": state.as_str(),
            "description": truncate(description, 140),
            "auto_inactive": false,
        });
        if let Some(url) = self.run_url() {
            body["log_url"] = json!(url);
        }
        if let Some(url) = &d.request.environment_url {
            body["environment_url"] = json!(url);
        }
        let _: Value = self
            .octo
            .post(self.repo_path(&format!("deployments/{id}/statuses")), Some(&body))
            .await
            .map_err(|e| error(&format!("set deployment {id} to {state}"), PERM, e))?;
        Ok(())
    }

    pub(super) async fn gh_deployments(&self, environment: &str) -> Result<Vec<Deployment>, ForgeError> {
        if self.graphql {
            let mut all = self.gql_deployments(&[environment], Window::newest(GRAPHQL_HISTORY)).await?;
            return Ok(all.pop().unwrap_or_default());
        }
        let list = self.gh_list_deployments(environment).await?;
        self.with_statuses(list).await
    }

    /// The history down to the newest successful deployment (all of it when
    /// none succeeded): statuses are read newest first, the newest alone, then
    /// [`BATCH`] at a time, and reading stops there. After a successful run the
    /// newest deployment is the successful one, so a promotion reads one status
    /// list per environment instead of [`HISTORY`].
    pub(super) async fn gh_recent_deployments(&self, environment: &str) -> Result<Vec<Deployment>, ForgeError> {
        if self.graphql {
            // One request: the newest HISTORY with their statuses.
            let mut out =
                self.gql_deployments(&[environment], Window::newest(HISTORY)).await?.pop().unwrap_or_default();
            if let Some(i) = out.iter().position(|d| d.state() == DeploymentState::Success) {
                out.truncate(i + 1);
            }
            return Ok(out);
        }
        let mut left = self.gh_list_deployments(environment).await?.into_iter();
        let mut out: Vec<Deployment> = Vec::new();
        let mut batch = 1;
        loop {
            let chunk: Vec<GhDeployment> = left.by_ref().take(batch).collect();
            if chunk.is_empty() {
                return Ok(out);
            }
            out.extend(self.with_statuses(chunk).await?);
            if let Some(i) = out.iter().position(|d| d.state() == DeploymentState::Success) {
                out.truncate(i + 1);
                return Ok(out);
            }
            batch = BATCH;
        }
    }

    async fn gh_list_deployments(&self, environment: &str) -> Result<Vec<GhDeployment>, ForgeError> {
        // Task `deploy` only: holds (task `stagegate:hold`) are not deployments.
        let path =
            self.repo_path(&format!("deployments?environment={}&task=deploy&per_page={HISTORY}", seg(environment)));
        let mut page: Vec<GhDeployment> =
            self.get(&path, &format!("list deployments to {environment}"), "deployments: read").await?;
        // A page is asked for HISTORY items; a server that sends more gets
        // only HISTORY of them read further.
        page.truncate(HISTORY);
        Ok(page)
    }

    /// Reads the statuses of `list`, [`IN_FLIGHT`] at a time, keeping its order.
    async fn with_statuses(&self, list: Vec<GhDeployment>) -> Result<Vec<Deployment>, ForgeError> {
        let mut tasks = tokio::task::JoinSet::new();
        let mut statuses: Vec<Vec<DeploymentStatus>> = vec![Vec::new(); list.len()];
        let mut next = list.iter().enumerate();
        loop {
            while tasks.len() < IN_FLIGHT {
                let Some((i, d)) = next.next() else { break };
                let octo = self.octo.clone();
                let path = self.repo_path(&format!("deployments/{}/statuses?per_page=100", d.id));
                tasks.spawn(async move { (i, octo.get::<Vec<GhStatus>, _, ()>(path, None).await) });
            }
            let Some(joined) = tasks.join_next().await else { break };
            let Ok((i, result)) = joined else { continue };
            let mut s: Vec<DeploymentStatus> = result
                .map_err(|e| error("read deployment statuses", "deployments: read", e))?
                .into_iter()
                .take(100)
                .map(|s| DeploymentStatus {
                    state: state_of(&s.state),
                    description: s.description,
                    created_at: s.created_at,
                })
                .collect();
            s.reverse(); // GitHub lists newest first; the record keeps oldest first.
            statuses[i] = s;
        }
        Ok(list
            .into_iter()
            .zip(statuses)
            .map(|(d, statuses)| Deployment { id: DeploymentId::Recorded(d.id), request: d.request(), statuses })
            .collect())
    }

    /// `GET …/compare/{base}...{head}`: the commits `head` has that `base` lacks
    /// (GitHub lists up to 250; enough to say what a promotion brings).
    pub(super) async fn gh_compare(&self, base: &str, head: &str) -> Result<Vec<CommitSummary>, ForgeError> {
        #[derive(Deserialize)]
        struct Comparison {
            commits: Vec<C>,
        }
        #[derive(Deserialize)]
        struct C {
            sha: String,
            commit: M,
        }
        #[derive(Deserialize)]
        struct M {
            message: String,
        }
        let path = self.repo_path(&format!("compare/{}...{}", seg(base), seg(head)));
        let c: Comparison = self.get(&path, &format!("compare {base}...{head}"), "contents: read").await?;
        Ok(c.commits
            .into_iter()
            .map(|c| CommitSummary {
                sha: c.sha,
                title: super::redact::server_text(c.commit.message.lines().next().unwrap_or("")),
            })
            .collect())
    }

    /// The Actions run's page, for deployment statuses' `log_url`.
    fn run_url(&self) -> Option<String> {
        crate::actions::run_url(&format!("{}/{}", self.ctx.owner, self.ctx.repo), self.ctx.run_id.as_deref()?)
    }
}

/// One item of GitHub's deployment list (`GET …/deployments`), read as the
/// forge reads it, with `statuses` oldest first; `None` when it is not a
/// deployment. The same path a page from GitHub takes (the fuzz target's way in).
pub fn from_api(item: &Value, statuses: Vec<DeploymentStatus>) -> Option<Deployment> {
    let d = GhDeployment::deserialize(item).ok()?;
    Some(Deployment { id: DeploymentId::Recorded(d.id), request: d.request(), statuses })
}

/// GitHub limits deployment and status descriptions to 140 characters.
pub(super) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}
