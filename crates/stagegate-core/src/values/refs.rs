//! Git refs and GitHub's deployment-branch-policy patterns.
//!
//! GitHub matches branch and tag policies with Ruby's `File.fnmatch(pattern,
//! ref, File::FNM_PATHNAME)`: `*` and `?` never match `/`, `**/` matches zero
//! or more directories, a `**` not followed by `/` is just `*` (`release/**`
//! does not match `release/a/b`; `release/**/*` does), braces are literal.
//! [`super::fnmatch`] is that function; [`RefPattern::parse`] refuses patterns
//! that can never match and `surprises` finds the ones whose meaning surprises.
//! This module imports only its sibling leaves (`fnmatch`, `refname`).

use super::fnmatch;

/// A ref as a user or GitHub gives it: `main`, `refs/heads/main`, `refs/tags/26.11.21.1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitRef {
    Branch(String),
    Tag(String),
}

impl GitRef {
    /// A bare name is a branch; `refs/heads/…` and `refs/tags/…` say what they are.
    pub fn parse(s: &str) -> Result<GitRef, RefParseError> {
        let (r, name) = if let Some(n) = s.strip_prefix("refs/heads/") {
            (GitRef::Branch(n.to_owned()), n)
        } else if let Some(n) = s.strip_prefix("refs/tags/") {
            (GitRef::Tag(n.to_owned()), n)
        } else if s.starts_with("refs/") {
            return Err(RefParseError::NotBranchOrTag(s.to_owned()));
        } else {
            (GitRef::Branch(s.to_owned()), s)
        };
        super::refname::check(name)?;
        Ok(r)
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

/// Why a ref was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[diagnostic(help("give a branch (`main`, `refs/heads/main`) or a tag (`refs/tags/26.11.21.1`)"))]
pub enum RefParseError {
    #[error("`{0}` is neither a branch (refs/heads/…) nor a tag (refs/tags/…)")]
    NotBranchOrTag(String),
    /// The name breaks a rule of the one ref validator ([`super::refname`]).
    #[error(transparent)]
    Name(#[from] super::refname::RefError),
}

/// A deployment-branch-policy pattern, parsed at load: one that can match
/// something on GitHub. Matching is GitHub's (`File.fnmatch` with
/// `FNM_PATHNAME`, see [`super::fnmatch`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefPattern(String);

/// Why a pattern was refused, at a byte range of it (for a config span).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PatternError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
}

impl RefPattern {
    /// Refused are patterns that can never match anything on GitHub: empty,
    /// a control character, a `[` that is never closed, the empty set `[]`.
    pub fn parse(pattern: &str) -> Result<RefPattern, PatternError> {
        let err = |offset, len, message: String| Err(PatternError { offset, len, message });
        if pattern.trim().is_empty() {
            return err(0, pattern.len(), "the pattern is empty".into());
        }
        if let Some((i, c)) = pattern.char_indices().find(|(_, c)| c.is_control()) {
            return err(i, c.len_utf8(), format!("it contains the control character `{}`", c.escape_debug()));
        }
        let b = pattern.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 1,
                b'[' => match set_end(b, i + 1) {
                    None => {
                        let why = format!("the `[` at column {} is never closed, so the pattern never matches", i + 1);
                        return err(i, 1, why);
                    }
                    Some(end) if end == i + 1 => {
                        let why = format!(
                            "`[]` at column {} is an empty set and never matches (a `]` right after `[` closes it)",
                            i + 1
                        );
                        return err(i, 2, why);
                    }
                    Some(end) => i = end,
                },
                _ => {}
            }
            i += 1;
        }
        Ok(RefPattern(pattern.to_owned()))
    }

    pub fn is_match(&self, name: &str) -> bool {
        fnmatch::fnmatch(&self.0, name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RefPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The index of the `]` that closes the set whose body starts at `i`, parsed
/// exactly as the matcher parses it; `None` when it is never closed.
fn set_end(b: &[u8], mut i: usize) -> Option<usize> {
    if matches!(b.get(i), Some(b'!' | b'^')) {
        i += 1;
    }
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let item = |mut t: usize| {
        if at(t) == b'\\' {
            t += 1;
        }
        if at(t) == 0 { None } else { Some(t + utf8_len(at(t))) }
    };
    while at(i) != b']' {
        i = item(i)?;
        if i >= b.len() {
            return None;
        }
        if b[i] == b'-' && at(i + 1) != b']' {
            i = item(i + 1)?;
        }
    }
    Some(i)
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

/// A pattern whose meaning on GitHub is likely not what its author meant:
/// where (byte offset and length in the pattern), what, and what to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Surprise {
    pub offset: usize,
    pub len: usize,
    pub message: String,
    pub help: String,
}

/// The surprising parts of a (valid) pattern: a `**` that is not a whole
/// `**/` segment (GitHub reads it as `*`), and braces (GitHub has none).
pub fn surprises(pattern: &str) -> Vec<Surprise> {
    let b = pattern.as_bytes();
    let mut out = Vec::new();
    let mut braces = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'[' => i = set_end(b, i + 1).unwrap_or(b.len()),
            b'{' | b'}' if !braces => {
                braces = true;
                out.push(Surprise {
                    offset: i,
                    len: 1,
                    message: format!(
                        "`{pattern}`: braces are not special on GitHub; `{{a,b}}` matches the text `{{a,b}}`"
                    ),
                    help: match alternatives(pattern) {
                        Some(alts) => format!("list each alternative as a pattern of its own: {}", alts.join(", ")),
                        None => "list each alternative as a pattern of its own".into(),
                    },
                });
            }
            b'*' => {
                let start = i;
                while b.get(i + 1) == Some(&b'*') {
                    i += 1;
                }
                let at_segment = start == 0 || b[start - 1] == b'/';
                if i > start && !(at_segment && b.get(i + 1) == Some(&b'/')) {
                    let help = if at_segment {
                        let fixed = format!("{}**/*{}", &pattern[..start], &pattern[i + 1..]);
                        format!("did you mean `{fixed}`? `**/` matches any number of directories")
                    } else {
                        "write `*`; only a whole `**/` segment crosses `/`".to_string()
                    };
                    out.push(Surprise {
                        offset: start,
                        len: i + 1 - start,
                        message: format!(
                            "`{pattern}`: `**` not followed by `/` matches like `*` on GitHub (never across `/`)"
                        ),
                        help,
                    });
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// `release/{a,b}` → `release/a`, `release/b` (one level, first group only).
fn alternatives(pattern: &str) -> Option<Vec<String>> {
    let open = pattern.find('{')?;
    let close = open + pattern[open..].find('}')?;
    let body = &pattern[open + 1..close];
    if body.contains(['{', '\\']) || !body.contains(',') {
        return None;
    }
    let (head, tail) = (&pattern[..open], &pattern[close + 1..]);
    Some(body.split(',').map(|alt| format!("`{head}{alt}{tail}`")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        RefPattern::parse(p).unwrap().is_match(s)
    }

    #[test]
    fn star_does_not_cross_slash_and_double_star_only_as_a_segment() {
        assert!(m("release/*", "release/v1.2.3"));
        assert!(m("release/*", "release/2025-01-03"));
        assert!(!m("release/*", "release/a/b"));
        assert!(!m("release/*", "release"));
        assert!(!m("release/**", "release/a/b"), "GitHub reads `**` without `/` as `*`");
        assert!(m("release/**/*", "release/a/b"));
        assert!(m("main", "main"));
        assert!(!m("main", "main2"));
        assert!(!m("*", "feature/x"));
        assert!(!m("**", "feature/x"));
        assert!(m("**/*", "feature/x"));
        assert!(m("v[0-9]*", "v1"));
        assert!(!m("release/{a,b}", "release/a"), "no braces on GitHub");
    }

    #[test]
    fn patterns_that_never_match_are_refused() {
        assert!(RefPattern::parse("release/[").is_err());
        assert!(RefPattern::parse("[!").is_err());
        assert!(RefPattern::parse("a[]b").is_err());
        assert!(RefPattern::parse("").is_err());
        assert!(RefPattern::parse("a\u{0}b").is_err());
        assert!(RefPattern::parse("{a,b").is_ok(), "a brace is an ordinary character");
        assert!(RefPattern::parse("[]]").is_err());
        assert!(RefPattern::parse("[!]]").is_ok());
        assert!(RefPattern::parse("[a-]").is_ok());
        assert!(RefPattern::parse("\\[").is_ok());
    }

    #[test]
    fn errors_point_at_what_is_wrong() {
        let e = RefPattern::parse("release/[").unwrap_err();
        assert_eq!((e.offset, e.len), (8, 1), "{e}");
        let e = RefPattern::parse("a[]b").unwrap_err();
        assert_eq!((e.offset, e.len), (1, 2), "{e}");
        assert!(e.to_string().contains("empty set"));
        assert_eq!(RefPattern::parse("a\u{7}b").unwrap_err().offset, 1);
        assert_eq!(RefPattern::parse("release/*").unwrap().to_string(), "release/*");
    }

    #[test]
    fn surprising_patterns_are_explained() {
        let s = surprises("release/**");
        assert_eq!((s.len(), s[0].offset, s[0].len), (1, 8, 2));
        assert!(s[0].help.contains("did you mean `release/**/*`?"), "{s:?}");
        assert!(surprises("release/**/*").is_empty());
        assert!(surprises("**/x/**/y").is_empty());
        assert!(surprises("a\\*\\*").is_empty());
        assert!(surprises("[**]").is_empty());
        assert!(surprises("v**").iter().any(|s| s.help.starts_with("write `*`")));
        let s = surprises("release/{a,b}");
        assert_eq!(s.len(), 1);
        assert!(s[0].help.ends_with("`release/a`, `release/b`"), "{s:?}");
    }

    #[test]
    fn refused_refs_say_why() {
        assert_eq!(
            GitRef::parse("refs/pull/1/merge").unwrap_err().to_string(),
            "`refs/pull/1/merge` is neither a branch (refs/heads/…) nor a tag (refs/tags/…)"
        );
        let e = GitRef::parse("refs/heads/a..b").unwrap_err();
        assert!(matches!(e, RefParseError::Name(_)));
        assert_eq!(e.to_string(), "`a..b` is not a valid git ref name: it contains `..`");
    }

    #[test]
    fn refs_in_every_form() {
        assert_eq!(GitRef::parse("main"), Ok(GitRef::Branch("main".into())));
        assert_eq!(GitRef::parse("refs/heads/main"), Ok(GitRef::Branch("main".into())));
        assert_eq!(GitRef::parse("refs/heads/release/v1"), Ok(GitRef::Branch("release/v1".into())));
        assert_eq!(GitRef::parse("refs/tags/26.11.21.1"), Ok(GitRef::Tag("26.11.21.1".into())));
        for bad in ["", "refs/pull/1/merge", "a b", "$(rm -rf /)", "a..b", "-x", "x.lock", "a/.b", "a.lock/b", "a;b`c`"]
        {
            let r = GitRef::parse(bad);
            if let Err(e) = &r {
                assert!(!e.to_string().is_empty());
            }
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
