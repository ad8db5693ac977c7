//! `--dry-run`: reads go to the real forge, writes are described and skipped.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{
    Approval, ApprovalState, CommitSummary, Deployment, DeploymentId, DeploymentState, EnvDeleted, Forge, ForgeError,
    ForgeKind, Hold, NewDeployment, NewHold, NewRelease, NewTag, Protection, Release, ReviewerRef, Tag, TagOutcome,
};
use crate::config::Reviewer;
use crate::effects::EffectLog;

pub struct DryRun {
    inner: Arc<dyn Forge>,
    log: EffectLog,
}

impl DryRun {
    pub fn new(inner: Arc<dyn Forge>, log: EffectLog) -> Self {
        DryRun { inner, log }
    }
}

#[async_trait]
impl Forge for DryRun {
    fn describe(&self) -> String {
        format!("{} (dry run)", self.inner.describe())
    }

    fn kind(&self) -> ForgeKind {
        self.inner.kind()
    }

    async fn record_approval(&self, a: &Approval) -> Result<(), ForgeError> {
        let verb = match a.state {
            ApprovalState::Approved => "approval",
            ApprovalState::Rejected => "rejection",
        };
        self.log.push(format!("record {verb} of `{}` by {} in run {}", a.environment, a.user, a.run_id));
        Ok(())
    }

    async fn approvals(&self, run_id: &str) -> Result<Vec<Approval>, ForgeError> {
        self.inner.approvals(run_id).await
    }

    async fn tags(&self, prefix: &str) -> Result<Vec<Tag>, ForgeError> {
        self.inner.tags(prefix).await
    }

    async fn create_tag(&self, tag: &NewTag) -> Result<TagOutcome, ForgeError> {
        self.log.push(format!("create tag `{}` at commit {}", tag.name, tag.commit));
        Ok(TagOutcome::Created(Tag { name: tag.name.clone(), sha: tag.commit.clone() }))
    }

    async fn resolve_commit(&self, git_ref: &str) -> Result<String, ForgeError> {
        self.inner.resolve_commit(git_ref).await
    }

    async fn releases(&self) -> Result<Vec<Release>, ForgeError> {
        self.inner.releases().await
    }

    async fn create_release(&self, r: &NewRelease) -> Result<Release, ForgeError> {
        let kind = if r.draft { "draft release" } else { "release" };
        self.log.push(format!("create {kind} `{}` for tag `{}`", r.name, r.tag));
        Ok(Release {
            id: 0,
            tag: r.tag.clone(),
            name: r.name.clone(),
            draft: r.draft,
            html_url: String::new(),
            published_at: None,
        })
    }

    async fn delete_release(&self, id: u64) -> Result<(), ForgeError> {
        self.log.push(format!("delete release {id}"));
        Ok(())
    }

    async fn publish_release(&self, id: u64) -> Result<Release, ForgeError> {
        let current = self.inner.releases().await?.into_iter().find(|r| r.id == id);
        let mut r = current.ok_or_else(|| ForgeError::NotFound {
            what: format!("release {id}"),
            help: "check the release id or tag".into(),
        })?;
        self.log.push(format!("publish release `{}` ({}) and mark it latest", r.name, r.tag));
        r.draft = false;
        Ok(r)
    }

    async fn environment(&self, name: &str) -> Result<Option<Protection>, ForgeError> {
        self.inner.environment(name).await
    }

    async fn apply_environment(
        &self,
        name: &str,
        current: Option<&Protection>,
        desired: &Protection,
    ) -> Result<(), ForgeError> {
        for c in desired.changes_from(current) {
            self.log.push(match c.setting {
                "environment" => format!("create environment `{name}`"),
                setting => format!("set {setting} of `{name}`: {} → {}", c.forge, c.config),
            });
        }
        Ok(())
    }

    async fn delete_environment(&self, name: &str) -> Result<EnvDeleted, ForgeError> {
        self.log.push(format!("delete environment `{name}`"));
        Ok(EnvDeleted::Deleted)
    }

    async fn environment_names(&self) -> Result<Vec<String>, ForgeError> {
        self.inner.environment_names().await
    }

    async fn reviewer(&self, reviewer: &Reviewer) -> Result<ReviewerRef, ForgeError> {
        self.inner.reviewer(reviewer).await
    }

    async fn team_members(&self, org: &str, slug: &str) -> Result<Vec<String>, ForgeError> {
        self.inner.team_members(org, slug).await
    }

    async fn set_team_members(&self, org: &str, slug: &str, members: &[String]) -> Result<(), ForgeError> {
        self.log.push(format!("set the members of @{org}/{slug} to: {}", members.join(", ")));
        Ok(())
    }

    /// Returns a planned deployment: nothing is created.
    async fn create_deployment(&self, new: &NewDeployment) -> Result<Deployment, ForgeError> {
        self.log.push(format!("create a deployment of {} to {}", new.release, new.environment));
        Ok(Deployment { id: DeploymentId::Planned, request: new.clone(), statuses: Vec::new() })
    }

    async fn set_deployment_status(
        &self,
        d: &Deployment,
        state: DeploymentState,
        description: &str,
        _at: DateTime<Utc>,
    ) -> Result<(), ForgeError> {
        let which = match d.id {
            DeploymentId::Planned => "the planned deployment".to_string(),
            DeploymentId::Recorded(id) => format!("deployment {id}"),
        };
        self.log.push(format!("set {which} to {state}: {description}"));
        Ok(())
    }

    async fn deployments(&self, environment: &str) -> Result<Vec<Deployment>, ForgeError> {
        self.inner.deployments(environment).await
    }

    async fn commits_between(&self, base: &str, head: &str) -> Result<Option<Vec<CommitSummary>>, ForgeError> {
        self.inner.commits_between(base, head).await
    }

    async fn recent_deployments(&self, environment: &str) -> Result<Vec<Deployment>, ForgeError> {
        self.inner.recent_deployments(environment).await
    }

    async fn deployments_in(
        &self,
        environments: &[&str],
        window: super::Window,
    ) -> Result<Vec<Vec<Deployment>>, ForgeError> {
        self.inner.deployments_in(environments, window).await
    }

    async fn deployments_since(&self, environment: &str, since: DateTime<Utc>) -> Result<Vec<Deployment>, ForgeError> {
        self.inner.deployments_since(environment, since).await
    }

    async fn holds(&self, environment: &str, limit: usize) -> Result<Vec<Hold>, ForgeError> {
        self.inner.holds(environment, limit).await
    }

    /// Returns the hold as it would be: nothing is recorded.
    async fn set_hold(&self, new: &NewHold) -> Result<Hold, ForgeError> {
        self.log.push(format!("hold {}: {}", new.environment, new.reason));
        Ok(Hold { id: 0, set: new.clone(), cleared: None })
    }

    async fn clear_hold(&self, hold: &Hold, description: &str, _at: DateTime<Utc>) -> Result<(), ForgeError> {
        self.log.push(format!("clear the hold on {} ({description})", hold.set.environment));
        Ok(())
    }

    async fn commit_time(&self, sha: &str) -> Result<Option<DateTime<Utc>>, ForgeError> {
        self.inner.commit_time(sha).await
    }
}
