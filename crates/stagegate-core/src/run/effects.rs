//! The seams of one command in one value, built once (the binary's `Ctx`)
//! and taken by the Runner.

use std::sync::Arc;

use super::hooks::{Hooks, Shell, Sink};
use crate::clock::Clock;
use crate::effects::{EffectLog, Writes};
use crate::forge::Forge;
use crate::forge::dry_run::DryRun;
use crate::state::StateDir;

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
}
