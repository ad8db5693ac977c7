//! One name as one path segment: percent-encoded, so `feature/login` is
//! `feature%2Flogin` in a REST path (GitHub's environment and ref routes) and
//! in a file name under the state directory (an instance's lock), never a
//! directory of its own. Names of letters, digits, `-`, `.`, `_` and `~` stay
//! as they are.

pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn encodes_ref_segments() {
        assert_eq!(encode("tags/26.11.21."), "tags%2F26.11.21.");
        assert_eq!(encode("release/v1 x"), "release%2Fv1%20x");
        assert_eq!(encode("a-b_c~d"), "a-b_c~d");
        assert_eq!(encode(".."), "..", "callers name files `<segment>.lock`, never `..` alone");
    }
}
