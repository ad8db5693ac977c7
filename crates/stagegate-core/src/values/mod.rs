//! Typed values the config holds, each parsed once where it is read: git ref
//! names and patterns (with GitHub's fnmatch), freeze windows and calendars, the calver
//! format, the journal store and KV. A leaf: it imports nothing else from the crate, so `config`,
//! `policy`, `gates` and `version` all build on it without a cycle.

pub mod calendar;
pub mod calver;
pub mod fnmatch;
pub mod freeze;
pub mod location;
pub mod refname;
pub mod refs;
pub mod segment;
pub mod sha;
