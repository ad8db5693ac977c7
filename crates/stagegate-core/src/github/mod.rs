//! The GitHub forge: the [`Forge`] interface over GitHub's REST API, with
//! `octocrab` for transport, auth and retries.
//!
//! Retries: octocrab's `HandleRateLimits` policy honours `Retry-After` and the
//! secondary rate limits, and retries 5xx, with a bound. Mutations are
//! idempotent on top of that: tags carry a per-run nonce so a retried create
//! recognises its own tag, and releases are looked up before they are created.

pub mod api;
pub mod app;
pub mod context;
pub mod deployments;
mod environments;
mod graphql;
pub mod holds;
pub use crate::redact;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use octocrab::Octocrab;
use octocrab::service::middleware::retry::{RateLimitMetrics, RetryConfig};
use secrecy::SecretString;

use crate::config::Reviewer;
use crate::forge::{
    Approval, ApprovalState, CommitSummary, Deployment, DeploymentState, EnvDeleted, Forge, ForgeError, ForgeKind,
    Hold, NewDeployment, NewHold, NewRelease, NewTag, Protection, Release, ReviewerRef, Tag, TagOutcome, UserType,
    Window,
};
use api::{error, seg};
pub use context::Context;

/// How many times one request is retried (5xx, 429, secondary rate limits).
const MAX_RETRIES: usize = 4;
/// Wait before retrying a rate-limited request that gave no `Retry-After`.
const MIN_RATE_LIMIT_WAIT_SECS: u64 = 10;

struct LogRetries;

impl RateLimitMetrics for LogRetries {
    fn retry_after_error(&self, req: &http::Request<octocrab::OctoBody>, status: http::StatusCode, left: usize) {
        tracing::warn!(
            "GitHub answered {status} to {} {}; retrying ({left} retries left)",
            req.method(),
            req.uri().path()
        );
    }
    fn rate_limited(&self, req: &http::Request<octocrab::OctoBody>, status: http::StatusCode, left: usize, secs: u64) {
        tracing::warn!(
            "GitHub rate limit ({status}) on {} {}; waiting {secs} s ({left} retries left)",
            req.method(),
            req.uri().path()
        );
    }
}

pub struct GitHubForge {
    octo: Octocrab,
    ctx: Context,
    /// Reads go over GraphQL (`{api}/graphql`): GitHub.com and GHE.com, whose
    /// API has no path. A GitHub Enterprise Server (`…/api/v3`) serves GraphQL
    /// at `/api/graphql`, beside the REST base, so there reads stay on REST.
    graphql: bool,
}

/// Whether GraphQL is at `{api_url}/graphql`: an API at the root of its host.
fn graphql_beside(api_url: &str) -> bool {
    let rest = api_url.split_once("://").map_or(api_url, |(_, r)| r);
    rest.split_once('/').is_none_or(|(_, path)| path.trim_matches('/').is_empty())
}

impl GitHubForge {
    pub fn new(ctx: Context, token: Option<SecretString>) -> Result<GitHubForge, ForgeError> {
        crate::tls::install();
        let token = token.ok_or_else(|| {
            ForgeError::Setup(
                "no GitHub token: GITHUB_TOKEN is not set".into(),
                "pass `github-token: ${{ github.token }}` to the action (or set GITHUB_TOKEN / --github-token); \
                 offline, use --forge local"
                    .into(),
            )
        })?;
        context::mask(&token);
        redact::register(secrecy::ExposeSecret::expose_secret(&token));
        let octo = Octocrab::builder()
            .base_uri(ctx.api_url.as_str())
            .map_err(|e| {
                ForgeError::Setup(
                    format!("invalid GITHUB_API_URL `{}`: {e}", ctx.api_url),
                    "use e.g. https://api.github.com or https://ghe.example.com/api/v3".into(),
                )
            })?
            .personal_token(token)
            .add_retry_config(RetryConfig::HandleRateLimits {
                metrics: Arc::new(LogRetries),
                max_retries: MAX_RETRIES,
                min_wait_seconds: MIN_RATE_LIMIT_WAIT_SECS,
                retry_on_forbidden: false,
            })
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(Duration::from_secs(60)))
            .build()
            .map_err(|e| {
                ForgeError::Setup(format!("cannot set up the GitHub client: {e}"), "report this as a bug".into())
            })?;
        Ok(GitHubForge { graphql: graphql_beside(&ctx.api_url), octo, ctx })
    }

    /// The forge over a client someone else authenticated (`stagegate serve`:
    /// an App installation, whose tokens octocrab mints and refreshes).
    pub fn from_client(octo: Octocrab, ctx: Context) -> GitHubForge {
        GitHubForge { graphql: graphql_beside(&ctx.api_url), octo, ctx }
    }

    pub fn context(&self) -> &Context {
        &self.ctx
    }

    fn repo_path(&self, rest: &str) -> String {
        format!("/repos/{}/{}/{rest}", seg(&self.ctx.owner), seg(&self.ctx.repo))
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str, action: &str, perm: &str) -> Result<T, ForgeError> {
        self.octo.get(path, None::<&()>).await.map_err(|e| error(action, perm, e))
    }

    /// Every page of a list endpoint (100 per page, bounded at 100 pages).
    async fn get_all<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        action: &str,
        perm: &str,
    ) -> Result<Vec<T>, ForgeError> {
        let mut out = Vec::new();
        for page in 1..=100u32 {
            let sep = if path.contains('?') { '&' } else { '?' };
            let batch: Vec<T> = self.get(&format!("{path}{sep}per_page=100&page={page}"), action, perm).await?;
            let done = batch.len() < 100;
            out.extend(batch);
            if done {
                break;
            }
        }
        Ok(out)
    }

    async fn release_by_id(&self, id: u64) -> Result<Release, ForgeError> {
        let r: api::GhRelease =
            self.get(&self.repo_path(&format!("releases/{id}")), "read a release", "contents: read").await?;
        Ok(r.into())
    }
}

#[async_trait]
impl Forge for GitHubForge {
    fn describe(&self) -> String {
        format!("GitHub {}/{}", self.ctx.owner, self.ctx.repo)
    }

    fn kind(&self) -> ForgeKind {
        ForgeKind::Github
    }

    async fn record_approval(&self, _approval: &Approval) -> Result<(), ForgeError> {
        Err(ForgeError::LocalOnly {
            what: "recording an approval".into(),
            help: "on GitHub, reviewers approve the deployment in the Actions UI".into(),
        })
    }

    async fn approvals(&self, run_id: &str) -> Result<Vec<Approval>, ForgeError> {
        #[derive(serde::Deserialize)]
        struct Review {
            environments: Vec<Env>,
            state: String,
            user: User,
            comment: Option<String>,
        }
        #[derive(serde::Deserialize)]
        struct Env {
            name: Option<String>,
        }
        #[derive(serde::Deserialize)]
        struct User {
            login: String,
            #[serde(rename = "type")]
            kind: String,
        }
        let path = self.repo_path(&format!("actions/runs/{}/approvals", seg(run_id)));
        let reviews: Vec<Review> = self.get(&path, "read the run's approvals", "actions: read").await?;
        let mut out = Vec::new();
        for r in reviews {
            let state = match r.state.as_str() {
                "approved" => ApprovalState::Approved,
                "rejected" => ApprovalState::Rejected,
                _ => continue,
            };
            let user_type =
                if r.user.kind == "Bot" || r.user.login.ends_with("[bot]") { UserType::Bot } else { UserType::User };
            for env in r.environments.into_iter().filter_map(|e| e.name) {
                out.push(Approval {
                    run_id: run_id.to_owned(),
                    environment: env,
                    user: r.user.login.clone(),
                    user_type,
                    state,
                    comment: r.comment.clone().filter(|c| !c.is_empty()),
                    at: crate::clock::now(),
                });
            }
        }
        Ok(out)
    }

    async fn tags(&self, prefix: &str) -> Result<Vec<Tag>, ForgeError> {
        let path = self.repo_path(&format!("git/matching-refs/{}", seg(&format!("tags/{prefix}"))));
        let refs: Vec<api::GitRef> = self.get_all(&path, "list tags", "contents: read").await?;
        Ok(refs
            .into_iter()
            .filter_map(|r| r.name.strip_prefix("refs/tags/").map(|n| Tag { name: n.to_owned(), sha: r.object.sha }))
            .collect())
    }

    async fn create_tag(&self, tag: &NewTag) -> Result<TagOutcome, ForgeError> {
        let message = format!("{}\n\nstagegate-nonce: {}", tag.message, tag.nonce);
        let object: api::TagObject = self
            .octo
            .post(
                self.repo_path("git/tags"),
                Some(&api::NewTagObject { tag: &tag.name, message: &message, object: &tag.commit, kind: "commit" }),
            )
            .await
            .map_err(|e| error("create a tag object", "contents: write", e))?;
        let full = format!("refs/tags/{}", tag.name);
        let created: Result<api::GitRef, _> =
            self.octo.post(self.repo_path("git/refs"), Some(&api::NewRef { name: &full, sha: &object.sha })).await;
        match created {
            Ok(r) => Ok(TagOutcome::Created(Tag { name: tag.name.clone(), sha: r.object.sha })),
            Err(e) if api::already_exists(&e) => {
                // Ours (an earlier attempt of this run) or a racer's?
                let path = self.repo_path(&format!("git/ref/{}", seg(&format!("tags/{}", tag.name))));
                let existing: api::GitRef = self.get(&path, "read a tag", "contents: read").await?;
                Ok(if existing.object.sha == object.sha {
                    TagOutcome::Created(Tag { name: tag.name.clone(), sha: object.sha })
                } else {
                    TagOutcome::Taken
                })
            }
            Err(e) => Err(error("create a tag", "contents: write", e)),
        }
    }

    async fn resolve_commit(&self, git_ref: &str) -> Result<String, ForgeError> {
        let c: api::Commit = self
            .get(
                &self.repo_path(&format!("commits/{}", seg(git_ref))),
                &format!("resolve `{git_ref}`"),
                "contents: read",
            )
            .await?;
        Ok(c.sha)
    }

    async fn releases(&self) -> Result<Vec<Release>, ForgeError> {
        let all: Vec<api::GhRelease> =
            self.get_all(&self.repo_path("releases"), "list releases", "contents: read").await?;
        Ok(all.into_iter().map(Release::from).collect())
    }

    async fn create_release(&self, r: &NewRelease) -> Result<Release, ForgeError> {
        let body = api::CreateRelease {
            tag_name: &r.tag,
            name: &r.name,
            body: r.body.as_deref(),
            draft: r.draft,
            generate_release_notes: r.generate_notes,
            target_commitish: r.target.as_deref(),
        };
        let created: api::GhRelease = self
            .octo
            .post(self.repo_path("releases"), Some(&body))
            .await
            .map_err(|e| error("create a release", "contents: write", e))?;
        Ok(created.into())
    }

    async fn delete_release(&self, id: u64) -> Result<(), ForgeError> {
        let url = format!("{}{}", self.ctx.api_url, self.repo_path(&format!("releases/{id}")));
        let resp =
            self.octo._delete(url, None::<&()>).await.map_err(|e| error("delete a release", "contents: write", e))?;
        octocrab::map_github_error(resp).await.map_err(|e| error("delete a release", "contents: write", e))?;
        Ok(())
    }

    async fn publish_release(&self, id: u64) -> Result<Release, ForgeError> {
        let current = self.release_by_id(id).await?;
        if !current.draft {
            return Ok(current);
        }
        let r: api::GhRelease = self
            .octo
            .patch(
                self.repo_path(&format!("releases/{id}")),
                Some(&api::PublishRelease { draft: false, make_latest: "true" }),
            )
            .await
            .map_err(|e| error("publish a release", "contents: write", e))?;
        Ok(r.into())
    }

    async fn environment(&self, name: &str) -> Result<Option<Protection>, ForgeError> {
        self.read_environment(name).await
    }

    async fn apply_environment(
        &self,
        name: &str,
        _current: Option<&Protection>,
        desired: &Protection,
    ) -> Result<(), ForgeError> {
        self.write_environment(name, desired).await
    }

    async fn delete_environment(&self, name: &str) -> Result<EnvDeleted, ForgeError> {
        self.gh_delete_environment(name).await
    }

    async fn environment_names(&self) -> Result<Vec<String>, ForgeError> {
        self.gh_environment_names().await
    }

    async fn reviewer(&self, reviewer: &Reviewer) -> Result<ReviewerRef, ForgeError> {
        self.reviewer_ref(reviewer).await
    }

    async fn team_members(&self, org: &str, slug: &str) -> Result<Vec<String>, ForgeError> {
        self.gh_team_members(org, slug).await
    }

    async fn set_team_members(&self, _org: &str, _slug: &str, _members: &[String]) -> Result<(), ForgeError> {
        Err(ForgeError::LocalOnly {
            what: "setting team members".into(),
            help: "on GitHub, teams are managed in the organisation's settings".into(),
        })
    }

    async fn create_deployment(&self, new: &NewDeployment) -> Result<Deployment, ForgeError> {
        self.gh_create_deployment(new).await
    }

    async fn set_deployment_status(
        &self,
        d: &Deployment,
        state: DeploymentState,
        description: &str,
        _at: chrono::DateTime<Utc>,
    ) -> Result<(), ForgeError> {
        self.gh_set_status(d, state, description).await
    }

    async fn deployments(&self, environment: &str) -> Result<Vec<Deployment>, ForgeError> {
        self.gh_deployments(environment).await
    }

    async fn commits_between(&self, base: &str, head: &str) -> Result<Option<Vec<CommitSummary>>, ForgeError> {
        self.gh_compare(base, head).await.map(Some)
    }

    async fn recent_deployments(&self, environment: &str) -> Result<Vec<Deployment>, ForgeError> {
        self.gh_recent_deployments(environment).await
    }

    async fn holds(&self, environment: &str, limit: usize) -> Result<Vec<Hold>, ForgeError> {
        self.gh_holds(environment, limit).await
    }

    async fn set_hold(&self, new: &NewHold) -> Result<Hold, ForgeError> {
        self.gh_set_hold(new).await
    }

    async fn clear_hold(&self, hold: &Hold, description: &str, _at: chrono::DateTime<Utc>) -> Result<(), ForgeError> {
        self.gh_clear_hold(hold, description).await
    }

    async fn commit_time(&self, sha: &str) -> Result<Option<DateTime<Utc>>, ForgeError> {
        let c: api::Commit = self
            .get(&self.repo_path(&format!("commits/{}", seg(sha))), &format!("read commit `{sha}`"), "contents: read")
            .await?;
        Ok(c.commit.and_then(|g| g.committer).and_then(|p| p.date))
    }

    async fn deployments_in(&self, environments: &[&str], window: Window) -> Result<Vec<Vec<Deployment>>, ForgeError> {
        if !self.graphql {
            let mut out = Vec::with_capacity(environments.len());
            for env in environments {
                out.push(window.apply(self.gh_deployments(env).await?));
            }
            return Ok(out);
        }
        self.gql_deployments(environments, window).await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn graphql_is_beside_an_api_at_the_root_of_its_host() {
        assert!(super::graphql_beside("https://api.github.com"));
        assert!(super::graphql_beside("https://api.acme.ghe.com/"));
        assert!(super::graphql_beside("http://127.0.0.1:8080"));
        assert!(!super::graphql_beside("https://ghe.example.com/api/v3"));
    }
}
