//! The one validator for git ref names and for free text that ends up in logs.
//!
//! Refs (`can-deploy`, `deploy`, `plan`, hooks' context, tags stagegate
//! creates) follow `git check-ref-format`, plus one rule git does not have:
//! no invisible or bidirectional-control characters, which make a ref read
//! differently from what it is (`main\u{202e}` looks like `main`). This module
//! imports nothing from the rest of the crate so every layer can use it.

/// Why a name is not a valid ref, for messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RefError(pub String);

/// Longest ref name accepted, in bytes (GitHub refuses longer ones).
pub const MAX_REF_BYTES: usize = 255;

/// Characters that change how text reads without being visible: bidirectional
/// embeddings, overrides and isolates, zero-width characters, the soft hyphen,
/// the byte-order mark, line/paragraph separators and other Unicode "format"
/// characters, and tag characters.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// A character free text may not carry into output: control characters (C0,
/// DEL, C1: newlines end a log line and start a workflow command) and
/// invisible ones.
pub fn is_unsafe_in_text(c: char) -> bool {
    c.is_control() || is_invisible(c)
}

/// The first character of `s` that free text may not contain, if any.
pub fn unsafe_char(s: &str) -> Option<char> {
    s.chars().find(|&c| is_unsafe_in_text(c))
}

/// `git check-ref-format` for the part after `refs/heads/` or `refs/tags/`,
/// plus: no leading `-` (git refuses such branch names), at most
/// [`MAX_REF_BYTES`] bytes, no whitespace of any kind, no invisible characters.
pub fn check(name: &str) -> Result<(), RefError> {
    let bad = |why: String| Err(RefError(format!("`{}` is not a valid git ref name: {why}", name.escape_debug())));
    if name.is_empty() {
        return bad("it is empty".into());
    }
    if name.len() > MAX_REF_BYTES {
        return bad(format!("it is longer than {MAX_REF_BYTES} bytes"));
    }
    if name == "@" {
        return bad("`@` alone is not a ref".into());
    }
    if let Some(c) = name.chars().find(|&c| c.is_control() || c.is_whitespace() || is_invisible(c)) {
        return bad(format!("it contains the invisible or control character U+{:04X}", c as u32));
    }
    if let Some(c) = name.chars().find(|c| "~^:?*[\\".contains(*c)) {
        return bad(format!("it contains `{c}`"));
    }
    for seq in ["..", "//", "@{"] {
        if name.contains(seq) {
            return bad(format!("it contains `{seq}`"));
        }
    }
    if name.starts_with('-') {
        return bad("it starts with `-`".into());
    }
    if name.starts_with('/') || name.ends_with('/') {
        return bad("it starts or ends with `/`".into());
    }
    if name.ends_with('.') {
        return bad("it ends with `.`".into());
    }
    for part in name.split('/') {
        if part.starts_with('.') {
            return bad(format!("its component `{part}` starts with `.`"));
        }
        if part.ends_with(".lock") {
            return bad(format!("its component `{part}` ends with `.lock`"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_git_accepts() {
        for ok in ["main", "release/v1.2.3", "26.11.21.1", "feature/a-b_c", "a;b`c`", "v1+build", "ünïcode", "a@b"] {
            assert_eq!(check(ok), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn refuses_what_git_refuses_and_invisible_characters() {
        let long = "x".repeat(256);
        for bad in [
            "",
            "@",
            "a b",
            "a\tb",
            "a\nb",
            "a\u{7f}",
            "a..b",
            "a//b",
            "/a",
            "a/",
            "a.",
            ".a",
            "a/.b",
            "a.lock",
            "a.lock/b",
            "a@{1}",
            "a~1",
            "a^",
            "a:b",
            "a?",
            "a*",
            "a[",
            "a\\b",
            "-a",
            "main\u{202e}",
            "ma\u{200b}in",
            "\u{feff}main",
            "a\u{2066}b",
            "a\u{a0}b",
            "a\u{85}b",
            &long,
        ] {
            assert!(check(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn free_text_refuses_controls_and_invisibles_only() {
        assert_eq!(unsafe_char("a normal reason: hotfix, 100%"), None);
        assert_eq!(unsafe_char("x\n::error::owned"), Some('\n'));
        assert_eq!(unsafe_char("x\r"), Some('\r'));
        assert_eq!(unsafe_char("abc\u{202e}"), Some('\u{202e}'));
    }
}
