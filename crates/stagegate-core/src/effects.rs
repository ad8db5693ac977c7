//! The effects seam. Every side effect — forge (tags, releases, deployments,
//! approvals), journal store, KV, hooks, files — goes through a trait object, and
//! `--dry-run` swaps each for a wrapper that reads for real but only *describes*
//! writes into this log, which the command then prints as its plan.

use std::sync::{Arc, Mutex};

/// What a dry run would have done, in order, for the command to print.
#[derive(Debug, Clone, Default)]
pub struct EffectLog(Arc<Mutex<Vec<String>>>);

impl EffectLog {
    pub fn push(&self, what: impl Into<String>) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(what.into());
    }
    pub fn entries(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
