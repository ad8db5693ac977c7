//! GitHub's glob rule for deployment branch and tag policies: Ruby's
//! `File.fnmatch(pattern, name, File::FNM_PATHNAME)`, ported from Ruby's
//! `dir.c` (`fnmatch`, `fnmatch_helper`, `bracket`) step by step, so that
//! every corner case agrees with Ruby (the test suite checks thousands of
//! generated pairs against Ruby itself):
//!
//! - `*` matches any run of characters and `?` any one character, neither `/`;
//! - `**/` at the start of a path segment matches zero or more directories; a
//!   `**` anywhere else is just `*` (`release/**` does not match `release/a/b`);
//! - `[abc]`, `[a-z]`, `[!a-z]` and `[^a-z]` match one character (never `/`);
//!   `[]` matches nothing, and a `[` that is never closed makes the pattern
//!   match nothing from there on;
//! - `\x` matches `x` literally;
//! - braces are not special: `{a,b}` matches the text `{a,b}`;
//! - a leading `.` in a path segment is matched only by a literal `.` (no
//!   `FNM_DOTMATCH`): `*` does not match `.hidden`;
//! - matching is case-sensitive.
//!
//! Positions past the end read as NUL, as the C code reads its terminator.

fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// Length of the UTF-8 character starting at `i` (1 at the end).
fn char_len(b: &[u8], i: usize) -> usize {
    match at(b, i) {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
    .min(b.len().saturating_sub(i).max(1))
}

fn codepoint(b: &[u8], i: usize) -> u32 {
    let end = (i + char_len(b, i)).min(b.len());
    std::str::from_utf8(&b[i.min(end)..end]).ok().and_then(|s| s.chars().next()).map_or(0, u32::from)
}

fn is_end(b: &[u8], i: usize) -> bool {
    matches!(at(b, i), 0 | b'/')
}

fn same(p: &[u8], pi: usize, len: usize, s: &[u8], si: usize) -> bool {
    s.len() >= si + len && p.len() >= pi + len && p[pi..pi + len] == s[si..si + len]
}

/// `[...]` starting just after the `[`: the index after its `]` when the
/// character at `s[si]` is in the set, `None` when it is not or the set is
/// never closed.
fn bracket(p: &[u8], mut i: usize, s: &[u8], si: usize) -> Option<usize> {
    let pend = p.len();
    if i >= pend {
        return None;
    }
    let mut not = false;
    let mut ok = false;
    if matches!(p[i], b'!' | b'^') {
        not = true;
        i += 1;
    }
    while at(p, i) != b']' {
        let mut t1 = i;
        if at(p, t1) == b'\\' {
            t1 += 1;
        }
        if at(p, t1) == 0 {
            return None;
        }
        let r1 = char_len(p, t1);
        i = t1 + r1;
        if i >= pend {
            return None;
        }
        if p[i] == b'-' && at(p, i + 1) != b']' {
            let mut t2 = i + 1;
            if at(p, t2) == b'\\' {
                t2 += 1;
            }
            if at(p, t2) == 0 {
                return None;
            }
            let r2 = char_len(p, t2);
            i = t2 + r2;
            if ok {
                continue;
            }
            if same(p, t1, r1, s, si) || same(p, t2, r2, s, si) {
                ok = true;
                continue;
            }
            let c = codepoint(s, si);
            if c < codepoint(p, t1) || c > codepoint(p, t2) {
                continue;
            }
            ok = true;
        } else if !ok && same(p, t1, r1, s, si) {
            ok = true;
        }
    }
    if ok == not { None } else { Some(i + 1) }
}

/// One path segment (up to `/` or the end) of `s` against `p`. Returns
/// whether it matched and where both cursors stopped.
fn segment(p: &[u8], mut pi: usize, s: &[u8], mut si: usize) -> (bool, usize, usize) {
    let unescape = |i: usize| if at(p, i) == b'\\' { i + 1 } else { i };
    if at(s, si) == b'.' && at(p, unescape(pi)) != b'.' {
        return (false, pi, si);
    }
    let mut star: Option<(usize, usize)> = None;
    loop {
        let failed = match at(p, pi) {
            b'*' => {
                while at(p, pi) == b'*' {
                    pi += 1;
                }
                if is_end(p, unescape(pi)) {
                    return (true, unescape(pi), si);
                }
                if is_end(s, si) {
                    return (false, pi, si);
                }
                star = Some((pi, si));
                continue;
            }
            b'?' => {
                if is_end(s, si) {
                    return (false, pi, si);
                }
                pi += 1;
                si += char_len(s, si);
                continue;
            }
            b'[' => {
                if is_end(s, si) {
                    return (false, pi, si);
                }
                match bracket(p, pi + 1, s, si) {
                    Some(next) => {
                        pi = next;
                        si += char_len(s, si);
                        continue;
                    }
                    None => true,
                }
            }
            _ => {
                pi = unescape(pi);
                if is_end(s, si) {
                    return (is_end(p, pi), pi, si);
                }
                if is_end(p, pi) {
                    true
                } else {
                    let r = char_len(p, pi);
                    if same(p, pi, r, s, si) {
                        pi += r;
                        si += r;
                        continue;
                    }
                    true
                }
            }
        };
        debug_assert!(failed);
        // Try the next position for the last `*`.
        match star {
            Some((sp, ss)) => {
                let next = ss + char_len(s, ss);
                star = Some((sp, next));
                pi = sp;
                si = next;
            }
            None => return (false, pi, si),
        }
    }
}

/// `File.fnmatch(pattern, name, File::FNM_PATHNAME)`.
pub fn fnmatch(pattern: &str, name: &str) -> bool {
    let (p, s) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut si) = (0, 0);
    let mut globstar: Option<(usize, usize)> = None;
    let starts_globstar = |pi: usize| at(p, pi) == b'*' && at(p, pi + 1) == b'*' && at(p, pi + 2) == b'/';
    loop {
        if starts_globstar(pi) {
            while starts_globstar(pi) {
                pi += 3;
            }
            globstar = Some((pi, si));
        }
        let (ok, np, ns) = segment(p, pi, s, si);
        (pi, si) = (np, ns);
        if ok {
            while !is_end(s, si) {
                si += char_len(s, si);
            }
            match (at(p, pi), at(s, si)) {
                (0, 0) => return true,
                (0, _) | (_, 0) => {}
                _ => {
                    pi += 1;
                    si += 1;
                    continue;
                }
            }
        }
        // `**/` may swallow one more directory, never a hidden one.
        let Some((gp, mut gs)) = globstar else { return false };
        if at(s, gs) == b'.' {
            return false;
        }
        while !is_end(s, gs) {
            gs += char_len(s, gs);
        }
        if at(s, gs) == 0 {
            return false;
        }
        gs += 1;
        globstar = Some((gp, gs));
        (pi, si) = (gp, gs);
    }
}

#[cfg(test)]
mod tests {
    use super::fnmatch;

    #[test]
    fn the_rules_github_states() {
        for (p, s, want) in [
            ("release/*", "release/v1", true),
            ("release/*", "release/a/b", false),
            ("release/**", "release/a/b", false),
            ("release/**", "release/a", true),
            ("release/**/*", "release/a/b", true),
            ("release/**/*", "release/a", true),
            ("**/x", "x", true),
            ("**/x", "a/b/x", true),
            ("{a,b}", "a", false),
            ("{a,b}", "{a,b}", true),
            ("v[0-9]*", "v1.2", true),
            ("v[!0-9]*", "v1.2", false),
            ("v[^0-9]*", "vx", true),
            ("a\\*", "a*", true),
            ("a\\*", "ab", false),
            ("*", ".hidden", false),
            ("a/*", "a/.b", false),
            ("a/.*", "a/.b", true),
            ("?", "/", false),
            ("[/]", "/", false),
            ("release/[", "release/[", false),
            ("[]", "]", false),
            ("é?", "éü", true),
        ] {
            assert_eq!(fnmatch(p, s), want, "fnmatch({p:?}, {s:?})");
        }
    }
}
