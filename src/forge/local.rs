//! The local forge: GitHub's records (approvals, teams, deployments and their
//! statuses; later tags and releases) kept as JSON under the state directory,
//! for offline runs, demos and tests.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::state::StateDir;
use super::{Approval, Deployment, DeploymentState, DeploymentStatus, Forge, ForgeError, ForgeKind, NewDeployment};

const FILE: &str = "forge.json";

#[derive(Debug, Default, Serialize, Deserialize)]
struct Records {
    #[serde(default)]
    approvals: Vec<Approval>,
    /// `org/slug` → logins (what GitHub's team membership answers).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    teams: BTreeMap<String, Vec<String>>,
    /// Oldest first; ids are 1-based positions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    deployments: Vec<Deployment>,
}

pub struct LocalForge {
    state: StateDir,
}

impl LocalForge {
    pub fn new(state: StateDir) -> Self {
        LocalForge { state }
    }
}

fn team_key(org: &str, slug: &str) -> String {
    format!("{}/{}", org.to_lowercase(), slug.to_lowercase())
}

#[async_trait]
impl Forge for LocalForge {
    fn describe(&self) -> String {
        format!("local forge ({})", self.state.root().display())
    }

    fn kind(&self) -> ForgeKind {
        ForgeKind::Local
    }

    async fn record_approval(&self, approval: &Approval) -> Result<(), ForgeError> {
        self.state.update(FILE, |r: &mut Records| r.approvals.push(approval.clone()))
    }

    async fn approvals(&self, run_id: &str) -> Result<Vec<Approval>, ForgeError> {
        let r: Records = self.state.read(FILE)?;
        Ok(r.approvals.into_iter().filter(|a| a.run_id == run_id).collect())
    }

    async fn team_members(&self, org: &str, slug: &str) -> Result<Vec<String>, ForgeError> {
        let mut r: Records = self.state.read(FILE)?;
        Ok(r.teams.remove(&team_key(org, slug)).unwrap_or_default())
    }

    async fn set_team_members(&self, org: &str, slug: &str, members: &[String]) -> Result<(), ForgeError> {
        let members: Vec<String> = members.iter().map(|m| m.to_lowercase()).collect();
        self.state.update(FILE, |r: &mut Records| {
            if members.is_empty() {
                r.teams.remove(&team_key(org, slug));
            } else {
                r.teams.insert(team_key(org, slug), members);
            }
        })
    }

    async fn create_deployment(&self, new: &NewDeployment) -> Result<Deployment, ForgeError> {
        self.state.update(FILE, |r: &mut Records| {
            let d = Deployment { id: r.deployments.len() as u64 + 1, request: new.clone(), statuses: Vec::new() };
            r.deployments.push(d.clone());
            d
        })
    }

    async fn set_deployment_status(
        &self,
        id: u64,
        state: DeploymentState,
        description: &str,
        at: DateTime<Utc>,
    ) -> Result<(), ForgeError> {
        let status = DeploymentStatus { state, description: description.to_owned(), created_at: at };
        let found = self.state.update(FILE, |r: &mut Records| {
            let Some(d) = r.deployments.iter_mut().find(|d| d.id == id) else { return false };
            d.statuses.push(status);
            true
        })?;
        if found { Ok(()) } else { Err(ForgeError::NoDeployment { id, forge: self.describe() }) }
    }

    async fn deployments(&self, environment: &str) -> Result<Vec<Deployment>, ForgeError> {
        let r: Records = self.state.read(FILE)?;
        Ok(r.deployments.into_iter().rev().filter(|d| d.request.environment == environment).collect())
    }
}
