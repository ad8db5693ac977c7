//! The journal pipeline: modelling clusters upload journals, lanes import them.
//!
//! Journals go from the modelling clusters into a [`store::Store`] (S3 or a
//! directory), lanes are keys in a [`kv::Kv`] (Consul or a directory), and the
//! commands in `cli::journal` tie them together. Everything a lane does is
//! decided by compare-and-set on the KV, so racing processes cannot both win, and
//! a journal is only ever imported after its sha256 matched the manifest.
//!
//! This is the only crate that links the AWS SDK; it builds on `stagegate-core`,
//! whose modules it uses under their own names (`crate::config`, …).

use stagegate_core::{bounded, clock, config, effects, exit, notes, run, state, statefs, tls};

pub mod audit;
pub mod error;
pub mod import;
pub mod kv;
pub mod lanes;
pub mod layout;
pub mod progress;
pub mod retry;
pub mod seed;
pub mod store;
pub mod upload;

pub use error::JournalError;
pub use layout::{Latest, Manifest, VersionId};

/// Many HTTP clients' Display hides the cause ("error sending request",
/// "streaming error"); messages here show the whole chain.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
