//! The binary's [`Notes`]: progress and warnings of the libraries go to
//! stderr. They name files, versions and servers' messages, so under Actions
//! they are fenced from workflow commands, and credentials are redacted.

pub use stagegate_core::notes::*;

#[derive(Debug, Clone, Copy)]
pub struct Stderr;

impl Notes for Stderr {
    fn progress(&self, line: &str) {
        stagegate_core::actions::eprint_untrusted(line);
    }

    fn warn(&self, line: &str) {
        stagegate_core::actions::eprint_untrusted(line);
    }
}
