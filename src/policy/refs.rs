//! Git refs and GitHub's deployment-branch-policy globs.
//!
//! GitHub matches policies with `File.fnmatch` semantics: `*` does not cross `/`,
//! `**` does. `globset` with `literal_separator(true)` is exactly that, so
//! `release/*` matches `release/v1.2.3` but not `release/a/b`.

use globset::{Glob, GlobBuilder, GlobMatcher};

/// A ref as a user or GitHub gives it: `main`, `refs/heads/main`, `refs/tags/26.11.21.1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitRef {
    Branch(String),
    Tag(String),
}

impl GitRef {
    /// A bare name is a branch; `refs/heads/…` and `refs/tags/…` say what they are.
    pub fn parse(s: &str) -> Result<GitRef, String> {
        let (r, name) = if let Some(n) = s.strip_prefix("refs/heads/") {
            (GitRef::Branch(n.to_owned()), n)
        } else if let Some(n) = s.strip_prefix("refs/tags/") {
            (GitRef::Tag(n.to_owned()), n)
        } else if s.starts_with("refs/") {
            return Err(format!("`{s}` is neither a branch (refs/heads/…) nor a tag (refs/tags/…)"));
        } else {
            (GitRef::Branch(s.to_owned()), s)
        };
        valid_ref_name(name).map(|()| r)
    }

    pub fn name(&self) -> &str {
        match self {
            GitRef::Branch(n) | GitRef::Tag(n) => n,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            GitRef::Branch(_) => "branch",
            GitRef::Tag(_) => "tag",
        }
    }
}

impl std::fmt::Display for GitRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind(), self.name())
    }
}

/// The one ref validator (`policy::refname`), for every ref stagegate reads.
fn valid_ref_name(name: &str) -> Result<(), String> {
    super::refname::check(name).map_err(|e| e.0)
}

fn parse(pattern: &str) -> Result<Glob, String> {
    if pattern.trim().is_empty() {
        return Err("the pattern is empty".into());
    }
    GlobBuilder::new(pattern).literal_separator(true).backslash_escape(true).build().map_err(|e| e.kind().to_string())
}

/// Checks a deployment-branch-policy pattern without compiling it: validation
/// of a large config must not build thousands of regexes it never uses.
pub fn check(pattern: &str) -> Result<(), String> {
    parse(pattern).map(drop)
}

/// Compiles one deployment-branch-policy pattern into a matcher.
pub fn compile(pattern: &str) -> Result<GlobMatcher, String> {
    parse(pattern).map(|g| g.compile_matcher())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        compile(p).unwrap().is_match(s)
    }

    #[test]
    fn star_does_not_cross_slash_but_double_star_does() {
        assert!(m("release/*", "release/v1.2.3"));
        assert!(m("release/*", "release/2025-01-03"));
        assert!(!m("release/*", "release/a/b"));
        assert!(!m("release/*", "release"));
        assert!(m("release/**", "release/a/b"));
        assert!(m("main", "main"));
        assert!(!m("main", "main2"));
        assert!(m("feature/*", "feature/x"));
        assert!(!m("*", "feature/x"));
        assert!(m("**", "feature/x"));
        assert!(m("v[0-9]*", "v1"));
    }

    #[test]
    fn invalid_patterns_are_reported() {
        assert!(compile("release/[").is_err());
        assert!(compile("").is_err());
        assert!(compile("{a,b").is_err());
    }

    #[test]
    fn refs_in_every_form() {
        assert_eq!(GitRef::parse("main"), Ok(GitRef::Branch("main".into())));
        assert_eq!(GitRef::parse("refs/heads/main"), Ok(GitRef::Branch("main".into())));
        assert_eq!(GitRef::parse("refs/heads/release/v1"), Ok(GitRef::Branch("release/v1".into())));
        assert_eq!(GitRef::parse("refs/tags/26.11.21.1"), Ok(GitRef::Tag("26.11.21.1".into())));
        for bad in ["", "refs/pull/1/merge", "a b", "$(rm -rf /)", "a..b", "-x", "x.lock", "a;b`c`"] {
            let r = GitRef::parse(bad);
            // `;` and backticks are legal in git ref names; they are safe because
            // refs never reach a shell string (hooks get env vars only).
            if bad == "a;b`c`" {
                assert!(r.is_ok());
            } else {
                assert!(r.is_err(), "{bad:?} should be refused");
            }
        }
    }
}
