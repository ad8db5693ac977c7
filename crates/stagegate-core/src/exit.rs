//! The process exit codes, stable: scripts and workflows depend on them.
//! A leaf module: every area maps its errors here, and nothing here
//! depends on any area.

/// The process exit code. Stable: scripts and workflows depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The operation succeeded (or the answer is yes).
    Success = 0,
    /// The operation failed: a deploy, a health check, an upload after retries.
    Failed = 1,
    /// Invalid input: bad config, bad flag, unknown environment, malformed id.
    Invalid = 2,
    /// Refused by policy: path or branch not allowed, approvals missing, freeze.
    Refused = 3,
}

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  the operation failed (deploy or health check failed, upload failed after retries,
     download not matching its manifest, import failed)
  2  invalid input (bad config, bad flag, unknown environment or lane, malformed id)
  3  refused by policy (path or branch not allowed, approvals missing, freeze window,
     cluster not a journal writer, change not approved, promotion race lost)";
