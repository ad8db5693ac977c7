//! `--dry-run`: reads go to the real forge, writes are described and skipped.

use std::sync::Arc;

use async_trait::async_trait;

use super::{Approval, ApprovalState, Forge, ForgeError, ForgeKind};
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
}
