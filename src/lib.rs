//! stagegate: release promotion for GitHub Actions.
//!
//! The flow is *config → policy → plan → effects*: `config` reads and validates
//! the YAML, `policy` answers what it allows, `plan` orders the steps of an
//! operation, and `forge` (and later the store, KV and hooks) carries out the
//! side effects behind one interface, which `--dry-run` and `--forge local` swap.

pub mod actions;
pub mod annotate;
pub mod cli;
pub mod clock;
pub mod config;
pub mod effects;
pub mod error;
pub mod exit;
pub mod forge;
pub mod gates;
pub mod github;
pub mod human;
pub mod init;
pub mod journal;
pub mod output;
pub mod plan;
pub mod policy;
pub mod refusal;
pub mod run;
pub mod serve;
pub mod statefs;
pub mod tls;
pub mod version;
