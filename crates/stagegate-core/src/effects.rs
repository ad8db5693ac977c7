//! The effects seam. Every side effect — forge (tags, releases, deployments,
//! approvals), journal store, KV, hooks, files — goes through a trait object, and
//! `--dry-run` swaps each for a wrapper that reads for real but only *describes*
//! writes into this log, which the command then prints as its plan.

use std::sync::{Arc, Mutex};

use crate::clock::Clock;
use crate::forge::Forge;
use crate::forge::dry_run::DryRun;
use crate::run::hooks::{Hooks, Shell, Sink};
use crate::state::StateDir;

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

/// Every seam a command's side effects go through, chosen once per command:
/// the forge (wrapped by `--dry-run`), whether store and KV writes happen,
/// the hooks and health probes, the state directory (locks, the audit trail
/// and the local forge's records live in it), the clock and where progress
/// lines go. Cloning is cheap; the Runner and the libraries take it instead
/// of assembling the pieces themselves.
#[derive(Clone)]
pub struct Effects {
    pub forge: Arc<dyn Forge>,
    pub writes: Writes,
    pub hooks: Arc<dyn Hooks>,
    pub state: StateDir,
    pub clock: Clock,
    pub sink: Sink,
}

impl Effects {
    /// Real effects: writes happen, hooks run in a shell.
    pub fn real(forge: Arc<dyn Forge>, state: StateDir, clock: Clock, sink: Sink) -> Effects {
        let hooks = Arc::new(Shell);
        Effects { forge, writes: Writes::Apply, hooks, state, clock, sink }
    }

    /// `--dry-run`: reads go to `forge`, every write is described into `log`.
    pub fn dry_run(forge: Arc<dyn Forge>, log: &EffectLog, state: StateDir, clock: Clock, sink: Sink) -> Effects {
        let forge = Arc::new(DryRun::new(forge, log.clone()));
        Effects { writes: Writes::DryRun(log.clone()), ..Effects::real(forge, state, clock, sink) }
    }

    /// [`Effects::real`] or [`Effects::dry_run`], as `writes` says.
    pub fn new(forge: Arc<dyn Forge>, writes: &Writes, state: StateDir, clock: Clock, sink: Sink) -> Effects {
        match writes.dry_run() {
            Some(log) => Effects::dry_run(forge, log, state, clock, sink),
            None => Effects::real(forge, state, clock, sink),
        }
    }

    /// The same effects with other hooks and probes (tests script them).
    pub fn with_hooks(self, hooks: Arc<dyn Hooks>) -> Effects {
        Effects { hooks, ..self }
    }

    pub fn is_dry_run(&self) -> bool {
        self.writes.is_dry_run()
    }
}
