//! `--dry-run`: reads go to the real forge, writes are described and skipped.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Approval, ApprovalState, Deployment, DeploymentState, Forge, ForgeError, ForgeKind, NewDeployment};
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

    async fn team_members(&self, org: &str, slug: &str) -> Result<Vec<String>, ForgeError> {
        self.inner.team_members(org, slug).await
    }

    async fn set_team_members(&self, org: &str, slug: &str, members: &[String]) -> Result<(), ForgeError> {
        self.log.push(format!("set the members of @{org}/{slug} to: {}", members.join(", ")));
        Ok(())
    }

    /// Returns a deployment with id 0: nothing is created.
    async fn create_deployment(&self, new: &NewDeployment) -> Result<Deployment, ForgeError> {
        self.log.push(format!("create a deployment of {} to {}", new.release, new.environment));
        Ok(Deployment { id: 0, request: new.clone(), statuses: Vec::new() })
    }

    async fn set_deployment_status(
        &self,
        id: u64,
        state: DeploymentState,
        description: &str,
        _at: DateTime<Utc>,
    ) -> Result<(), ForgeError> {
        let which = if id == 0 { "the new deployment".to_string() } else { format!("deployment {id}") };
        self.log.push(format!("set {which} to {state}: {description}"));
        Ok(())
    }

    async fn deployments(&self, environment: &str) -> Result<Vec<Deployment>, ForgeError> {
        self.inner.deployments(environment).await
    }
}
