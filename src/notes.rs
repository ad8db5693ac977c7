//! The binary's [`Notes`]: progress and warnings of the libraries go to stderr.

pub use stagegate_core::notes::*;

#[derive(Debug, Clone, Copy)]
pub struct Stderr;

impl Notes for Stderr {
    fn progress(&self, line: &str) {
        eprintln!("{line}");
    }

    fn warn(&self, line: &str) {
        eprintln!("{line}");
    }
}
