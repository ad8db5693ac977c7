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

    /// What the writes came to, for the command's answer: call it once the
    /// command's effects went through the seam.
    pub fn done(&self) -> Done {
        match self {
            Writes::Apply => Done::Applied,
            Writes::DryRun(log) => Done::Described(log.entries()),
        }
    }
}

/// What a command's writes came to, as the seam recorded them: applied, or
/// (a dry run) only described, each effect in order. An answer carries this
/// instead of a `dry_run` flag and renders its "would …" lines from it; in
/// JSON it is `"dry_run": bool, "effects": [...]` (flattened into the answer).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Done {
    #[default]
    Applied,
    Described(Vec<String>),
}

impl Done {
    /// The writes were only described.
    pub fn is_described(&self) -> bool {
        matches!(self, Done::Described(_))
    }

    /// The described writes (none when applied).
    pub fn effects(&self) -> &[String] {
        match self {
            Done::Applied => &[],
            Done::Described(e) => e,
        }
    }

    /// The word for what happened: `applied` ("seeded") or `would` ("would seed").
    pub fn verb(&self, applied: &'static str, would: &'static str) -> &'static str {
        if self.is_described() { would } else { applied }
    }

    /// A dry run's answer: one "would …" line per described write. `None`
    /// when the writes were applied and the command says what it did.
    pub fn would(&self) -> Option<String> {
        match self {
            Done::Applied => None,
            Done::Described(e) => Some(crate::output::would(e)),
        }
    }
}

impl serde::Serialize for Done {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("dry_run", &self.is_described())?;
        m.serialize_entry("effects", self.effects())?;
        m.end()
    }
}
