//! The binary's [`Notes`]: progress and warnings of the libraries go to
//! stderr through the one writer ([`stagegate_core::console`]). They name
//! files, versions and servers' messages: redacted, escaped, and fenced from
//! workflow commands under Actions like everything stagegate prints.

use stagegate_core::console::{self, Stream};
pub use stagegate_core::notes::*;

#[derive(Debug, Clone, Copy)]
pub struct Stderr;

impl Notes for Stderr {
    fn progress(&self, line: &str) {
        console::print(Stream::Err, line);
    }

    fn warn(&self, line: &str) {
        console::print(Stream::Err, line);
    }
}
