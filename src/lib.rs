//! stagegate: release promotion for GitHub Actions.
//!
//! This crate is the command line (`cli`), the top-level error and `serve`;
//! the promotion core is `stagegate-core` and the journal pipeline
//! `stagegate-journal`, re-exported here under their module names.

pub use stagegate_core::{
    actions, checks, clock, config, console, effects, evidence, exit, forge, gates, github, human, init, output, plan,
    policy, refusal, run, state, statefs, tls, values, version,
};
pub use stagegate_journal as journal;

pub mod annotate;
pub mod cli;
pub mod error;
pub mod notes;
pub mod serve;
