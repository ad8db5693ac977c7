//! Whether the branch and tag rules of two environments can both allow one
//! ref. A promotion deploys a release from the ref it was built from, so an
//! edge between environments whose rules share no ref can never succeed.
//!
//! The answer is conservative: two patterns may overlap unless they are
//! provably disjoint, so a warning built on [`share_no_ref`] is never wrong.
//! Disjoint are two different literals, a literal the other pattern does not
//! match, and two globs whose literal prefixes (or suffixes) differ, or that
//! match refs of different depths (`*` and `?` never match `/`).

use crate::config::{Environment, Spanned};
use crate::values::refs::RefPattern;

/// Characters that make a pattern more than its literal text.
const SPECIAL: &[char] = &['*', '?', '[', ']', '\\'];

fn is_literal(p: &str) -> bool {
    !p.contains(SPECIAL)
}

/// The text every matching ref starts with.
fn literal_prefix(p: &str) -> &str {
    &p[..p.find(SPECIAL).unwrap_or(p.len())]
}

/// The text every matching ref ends with.
fn literal_suffix(p: &str) -> &str {
    &p[p.rfind(SPECIAL).map_or(0, |i| i + 1)..]
}

/// The number of `/` in every ref the pattern matches, when that is fixed:
/// without `**/` (any number of directories) and sets (kept simple).
fn depth(p: &str) -> Option<usize> {
    (!p.contains("**/") && !p.contains('[')).then(|| p.matches('/').count())
}

/// Whether some ref may match both patterns (`false` only when none can).
pub fn may_overlap(a: &RefPattern, b: &RefPattern) -> bool {
    let (x, y) = (a.as_str(), b.as_str());
    match (is_literal(x), is_literal(y)) {
        (true, true) => x == y,
        (true, false) => b.is_match(x),
        (false, true) => a.is_match(y),
        (false, false) => {
            let (px, py) = (literal_prefix(x), literal_prefix(y));
            let (sx, sy) = (literal_suffix(x), literal_suffix(y));
            let depths = match (depth(x), depth(y)) {
                (Some(m), Some(n)) => m == n,
                _ => true,
            };
            (px.starts_with(py) || py.starts_with(px)) && (sx.ends_with(sy) || sy.ends_with(sx)) && depths
        }
    }
}

fn any_overlap(a: &[Spanned<RefPattern>], b: &[Spanned<RefPattern>]) -> bool {
    a.iter().any(|p| b.iter().any(|q| may_overlap(p, q)))
}

/// True when no ref can satisfy the rules of both environments. An
/// environment without `branches` and `tags` allows any ref; one with only
/// branches allows no tag, and the other way round.
pub fn share_no_ref(a: &Environment, b: &Environment) -> bool {
    let open = |e: &Environment| e.branches.is_empty() && e.tags.is_empty();
    if open(a) || open(b) {
        return false;
    }
    !any_overlap(&a.branches, &b.branches) && !any_overlap(&a.tags, &b.tags)
}

/// `branches: main, release/*; tags: v*` for messages; `any ref` when open.
pub fn describe(e: &Environment) -> String {
    let list = |v: &[Spanned<RefPattern>]| v.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ");
    match (e.branches.is_empty(), e.tags.is_empty()) {
        (true, true) => "any ref".into(),
        (false, true) => format!("branches {}", list(&e.branches)),
        (true, false) => format!("tags {}", list(&e.tags)),
        (false, false) => format!("branches {}; tags {}", list(&e.branches), list(&e.tags)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overlap(a: &str, b: &str) -> bool {
        let (a, b) = (RefPattern::parse(a).unwrap(), RefPattern::parse(b).unwrap());
        let there = may_overlap(&a, &b);
        assert_eq!(there, may_overlap(&b, &a), "symmetric for {a} and {b}");
        there
    }

    #[test]
    fn provably_disjoint_pairs() {
        assert!(!overlap("main", "develop"));
        assert!(!overlap("main", "release/*"));
        assert!(!overlap("release/*", "hotfix/*"));
        assert!(!overlap("release/*", "*"), "different depths");
        assert!(!overlap("v*-rc", "v*-final"));
        assert!(!overlap("release/*/a", "release/*"));
    }

    #[test]
    fn pairs_that_may_share_a_ref() {
        assert!(overlap("main", "main"));
        assert!(overlap("release/v1", "release/*"));
        assert!(overlap("release/*", "release/v*"));
        assert!(overlap("**/*", "release/*"));
        assert!(overlap("*", "m*"));
        assert!(overlap("[mr]*", "main"));
        assert!(overlap("[a-z]*/x", "r*/x"), "sets are not analysed: assume they overlap");
    }

    /// Whatever the verdict `false`, no ref of a sample matches both.
    #[test]
    fn disjoint_means_no_sample_ref_matches_both() {
        let pats = ["main", "*", "release/*", "release/v*", "v*", "**/*", "hotfix/*", "*-rc", "[rv]*", "a/b/c"];
        let refs = ["main", "release/v1", "release/x", "v1-rc", "hotfix/a", "a/b/c", "rel", "v2", "x/y/z-rc"];
        for a in pats {
            for b in pats {
                if !overlap(a, b) {
                    let (pa, pb) = (RefPattern::parse(a).unwrap(), RefPattern::parse(b).unwrap());
                    for r in refs {
                        assert!(!(pa.is_match(r) && pb.is_match(r)), "{a} and {b} both match {r}");
                    }
                }
            }
        }
    }
}
