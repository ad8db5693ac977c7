//! The instances of an ephemeral template a forge knows: the environments
//! whose names are branches the template matches, each with its history.

use super::{Deployment, DeploymentState, Forge, ForgeError};
use crate::config::{Config, Resolved};

pub struct Instance {
    pub name: String,
    /// Newest first.
    pub deployments: Vec<Deployment>,
}

impl Instance {
    /// Something of it still stands: a deployment not yet marked inactive
    /// (a destroyed instance has none).
    pub fn standing(&self) -> bool {
        self.deployments.iter().any(|d| d.state() != DeploymentState::Inactive)
    }
}

/// Every instance of `template` on the forge, by name.
pub async fn of(forge: &dyn Forge, cfg: &Config, template: &str) -> Result<Vec<Instance>, ForgeError> {
    let mut out = Vec::new();
    for name in forge.environment_names().await? {
        let Ok(Resolved::Instance { template: t, .. }) = cfg.resolve(&name) else { continue };
        if t.name == template {
            let deployments = forge.deployments(&name).await?;
            out.push(Instance { name, deployments });
        }
    }
    Ok(out)
}
