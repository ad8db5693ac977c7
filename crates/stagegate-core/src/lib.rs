//! stagegate's core: release promotion for GitHub Actions, without the journal.
//!
//! The flow is *config → policy → plan → effects*: `config` reads and validates
//! the YAML, `policy` answers what it allows, `plan` orders the steps of an
//! operation, and `forge` (and later the store, KV and hooks) carries out the
//! side effects behind one interface, which `--dry-run` and `--forge local` swap.
//! The journal pipeline (and with it the AWS SDK) lives in `stagegate-journal`;
//! the command line in the `stagegate` binary crate.

pub mod actions;
pub mod bounded;
pub mod checks;
pub mod clock;
pub mod config;
pub mod console;
pub mod effects;
pub mod evidence;
pub mod exit;
pub mod forge;
pub mod gates;
pub mod github;
pub mod human;
pub mod init;
pub mod notes;
pub mod output;
pub mod plan;
pub mod policy;
pub mod random;
pub mod redact;
pub mod refusal;
pub mod run;
pub mod state;
pub mod statefs;
pub mod step;
pub mod tls;
pub mod values;
pub mod version;
