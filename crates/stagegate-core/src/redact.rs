//! Redaction of credentials from text stagegate did not write itself.
//!
//! A server's error text can echo the request back, headers included
//! (`Authorization: token ghp_…`). Every message from a server, and every
//! error stagegate prints, passes through [`redact`] first: the credentials
//! stagegate was handed are replaced by `***`, and so are `Authorization`
//! header values and anything shaped like a GitHub token.

use std::sync::Mutex;

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The credentials stagegate may hold, read from its environment: each is
/// redacted from every printed message, whether or not it is used.
pub const SECRET_VARS: &[&str] = &[
    "GITHUB_TOKEN",
    "CONSUL_HTTP_TOKEN",
    "SERVICENOW_TOKEN",
    "SERVICENOW_PASSWORD",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

/// Remembers a secret so that [`redact`] hides it. Very short values are not
/// registered: hiding every `a` in a message would hide the message.
pub fn register(secret: &str) {
    let s = secret.trim();
    if s.len() < 4 {
        return;
    }
    let mut all = SECRETS.lock().unwrap_or_else(|p| p.into_inner());
    if !all.iter().any(|x| x == s) {
        all.push(s.to_string());
        // Longest first, so a secret containing another is hidden whole.
        all.sort_by_key(|x| std::cmp::Reverse(x.len()));
    }
}

/// Registers the secrets of [`SECRET_VARS`] present in the environment.
pub fn register_from_env() {
    for v in SECRET_VARS {
        if let Ok(s) = std::env::var(v) {
            register(&s);
        }
    }
}

/// GitHub token prefixes (classic, OAuth, user-to-server, server-to-server,
/// refresh, fine-grained).
const TOKEN_PREFIXES: &[&str] = &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"];

/// `text` with every registered secret, `Authorization` header value and
/// GitHub-shaped token replaced by `***`.
pub fn redact(text: &str) -> String {
    let mut out = text.to_string();
    for s in SECRETS.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "***");
        }
    }
    out = redact_headers(&out);
    redact_token_shapes(&out)
}

/// `Authorization: <anything up to the end of the line or a quote>`, and
/// `Proxy-Authorization`, case-insensitive, with `:` or `=` after the name.
/// Longest server message shown, in characters; the rest is cut.
const MAX_SERVER_TEXT: usize = 2000;

/// A message from a server, made fit to print: credentials redacted, control
/// and invisible characters shown as escapes (a newline cannot start a
/// workflow command on the next log line), and cut at a bounded length.
pub fn server_text(text: &str) -> String {
    let clean = redact(text);
    let mut out = String::with_capacity(clean.len().min(MAX_SERVER_TEXT + 8));
    for (n, c) in clean.chars().enumerate() {
        if n == MAX_SERVER_TEXT {
            out.push('…');
            break;
        }
        if crate::values::refname::is_unsafe_in_text(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn redact_headers(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(found) = lower[i..].find("authorization") {
        let name_end = i + found + "authorization".len();
        let rest = &text[name_end..];
        let sep = rest.len() - rest.trim_start_matches([' ', '"', '\'']).len();
        let after = &rest[sep..];
        if let Some(value) = after.strip_prefix([':', '=']) {
            let value_start = name_end + sep + 1;
            let skip = value.len() - value.trim_start_matches([' ', '"', '\'']).len();
            let end = value[skip..]
                .find(['\n', '\r', '"', '\'', ',', '}', ']'])
                .map_or(text.len(), |e| value_start + skip + e);
            out.push_str(&text[i..value_start + skip]);
            out.push_str("***");
            i = end;
        } else {
            out.push_str(&text[i..name_end]);
            i = name_end;
        }
    }
    out.push_str(&text[i..]);
    out
}

fn redact_token_shapes(text: &str) -> String {
    if !TOKEN_PREFIXES.iter().any(|p| text.contains(p)) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while !rest.is_empty() {
        for p in TOKEN_PREFIXES {
            if let Some(tail) = rest.strip_prefix(p) {
                let len = tail.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
                let at_word_start = out.chars().last().is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_');
                if len >= 16 && at_word_start {
                    out.push_str("***");
                    rest = &tail[len..];
                    continue 'scan;
                }
            }
        }
        let c = rest.chars().next().expect("not empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_registered_secrets_headers_and_token_shapes() {
        register("s3cr3t-value-xyz");
        let t = redact("Bad credentials; echoed s3cr3t-value-xyz back");
        assert_eq!(t, "Bad credentials; echoed *** back");
        assert_eq!(redact("{\"Authorization\": \"token abc def\"}"), "{\"Authorization\": \"***\"}");
        assert_eq!(
            redact("request headers:\nauthorization: Bearer abc.def\nx: y"),
            "request headers:\nauthorization: ***\nx: y"
        );
        assert_eq!(redact("got ghp_0123456789abcdefABCDEF0123 here"), "got *** here");
        assert_eq!(redact("no authorization needed"), "no authorization needed");
        assert_eq!(redact("plain text"), "plain text");
        assert_eq!(server_text("bad\n::error::x\r\u{202e}"), "bad\\n::error::x\\r\\u{202e}");
    }
}
