//! The effects seam. Every side effect — forge (tags, releases, deployments,
//! approvals), journal store, KV, hooks, files — goes through a trait object, and
//! `--dry-run` swaps each for a wrapper that reads for real but only *describes*
//! writes into this log, which the command then prints as its plan. [`crate::run::effects::Effects`]
//! bundles the seams of one command.

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

/// Whether a command's writes happen. Built once per command from
/// `--dry-run`, and taken by the libraries instead of a `dry_run: bool`
/// and a log that only counts when it is true.
#[derive(Debug, Clone, Default)]
pub enum Writes {
    #[default]
    Apply,
    /// Writes are only described, into the log.
    DryRun(EffectLog),
}

impl Writes {
    pub fn new(dry_run: bool, log: &EffectLog) -> Writes {
        if dry_run { Writes::DryRun(log.clone()) } else { Writes::Apply }
    }

    /// The log a dry run describes its writes into.
    pub fn dry_run(&self) -> Option<&EffectLog> {
        match self {
            Writes::Apply => None,
            Writes::DryRun(log) => Some(log),
        }
    }

    pub fn is_dry_run(&self) -> bool {
        self.dry_run().is_some()
    }
}
