//! Progress and warnings from library code. The libraries never print: they
//! tell a [`Notes`], and the binary decides where the lines go (stderr);
//! tests keep them in memory. A leaf: it imports nothing else from the crate.

use std::sync::Mutex;

pub trait Notes: Send + Sync + std::fmt::Debug {
    /// Work under way: "upload x.jnl: 40% (…)", "attempt 1 failed; retrying".
    fn progress(&self, line: &str);

    /// Something went wrong and the work goes on.
    fn warn(&self, line: &str);
}

/// Keeps every line, for tests.
#[derive(Debug, Default)]
pub struct Memory(Mutex<Vec<String>>);

impl Memory {
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Notes for Memory {
    fn progress(&self, line: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(line.to_owned());
    }

    fn warn(&self, line: &str) {
        self.progress(line);
    }
}
