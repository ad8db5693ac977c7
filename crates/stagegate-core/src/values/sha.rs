//! A commit sha as people read it: its first characters. The sha may come from
//! a record anyone with `deployments: write` wrote, so it is cut by
//! characters, never by bytes, and whatever it holds comes out whole.

use std::fmt;

/// The first [`ShortSha::LEN`] characters of a sha (all of it when shorter).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ShortSha(String);

impl ShortSha {
    /// What `status`, `history` and the App show: 12, as GitHub's own pages do.
    pub const LEN: usize = 12;

    pub fn new(sha: &str) -> ShortSha {
        ShortSha::with_len(sha, ShortSha::LEN)
    }

    /// The first `len` characters (`git log --oneline` shows 7).
    pub fn with_len(sha: &str, len: usize) -> ShortSha {
        ShortSha(sha.chars().take(len).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ShortSha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<ShortSha> for String {
    fn from(s: ShortSha) -> String {
        s.0
    }
}

#[cfg(test)]
mod tests {
    use super::ShortSha;

    #[test]
    fn cuts_by_characters() {
        assert_eq!(ShortSha::new("0123456789abcdef0123").as_str(), "0123456789ab");
        assert_eq!(ShortSha::new("abc").as_str(), "abc");
        // A multi-byte character across byte 12 stays whole.
        assert_eq!(ShortSha::new("0123456789aé€bc").as_str(), "0123456789aé");
        assert_eq!(ShortSha::with_len("ééééééééé", 7).as_str(), "ééééééé");
    }
}
