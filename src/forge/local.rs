//! The local forge: GitHub's records (approvals; later tags, releases and
//! deployments) kept as JSON under the state directory, for offline runs,
//! demos and tests.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::state::StateDir;
use super::{Approval, Forge, ForgeError, ForgeKind};

const FILE: &str = "forge.json";

#[derive(Debug, Default, Serialize, Deserialize)]
struct Records {
    #[serde(default)]
    approvals: Vec<Approval>,
}

pub struct LocalForge {
    state: StateDir,
}

impl LocalForge {
    pub fn new(state: StateDir) -> Self {
        LocalForge { state }
    }
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
}
