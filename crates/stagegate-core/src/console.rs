//! The one writer to stdout and stderr. Every line stagegate prints — a
//! command's answer, a run's step lines, hook and import output, notes,
//! logs, diagnostics, panics — is written here and nowhere else: clippy's
//! `disallowed_macros` and `disallowed_methods` (clippy.toml) refuse
//! `println!`, `eprintln!`, `std::io::stdout()` and `std::io::stderr()`
//! outside this module.
//!
//! Text is data, whoever wrote it (a deployment record, a review comment, a
//! config value, a server's message). Before it is written:
//! 1. credentials are redacted ([`crate::redact::redact`]);
//! 2. terminal controls are shown escaped ([`shown`]), as `\u{1b}`,
//!    `\u{202e}`: C0 but line feed and tab, DEL, C1, bidirectional marks,
//!    embeddings, overrides and isolates, line and paragraph separators. Only
//!    colour (`ESC [ … m`) stays, and only on a stream stagegate colours;
//! 3. under Actions, text with a line the runner would read as a workflow
//!    command (`::` or `##[` after blanks) is fenced between
//!    `::stop-commands::TOKEN` and `::TOKEN::`, TOKEN 128 random bits.
//!
//! stagegate's own workflow commands go through [`command`]: their
//! properties and data are escaped, so each is one line that says what
//! stagegate meant.

#![allow(clippy::disallowed_macros, clippy::disallowed_methods)]

use std::borrow::Cow;
use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

/// Where a line goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Out,
    Err,
}

/// Whether `stream` is a terminal.
pub fn is_terminal(stream: Stream) -> bool {
    match stream {
        Stream::Out => std::io::stdout().is_terminal(),
        Stream::Err => std::io::stderr().is_terminal(),
    }
}

/// Whether the process runs as a step of GitHub Actions (`GITHUB_ACTIONS=true`),
/// where the runner reads workflow commands in what it prints.
pub fn under_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

fn set(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Whether to colour a stream: never with `NO_COLOR` set; always with
/// `FORCE_COLOR` or `CLICOLOR_FORCE` set (not `0`) — Actions logs render
/// colour but are no terminal; else on a terminal whose `TERM` is not `dumb`.
pub fn color_for(terminal: bool) -> bool {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    if set("FORCE_COLOR") || set("CLICOLOR_FORCE") {
        return true;
    }
    terminal && !std::env::var("TERM").is_ok_and(|t| t == "dumb")
}

/// Whether stagegate colours `stream` (decided once): stdout only when
/// stderr is a terminal too (painted words go to either), stderr on its own.
pub fn colored(stream: Stream) -> bool {
    static COLORED: OnceLock<(bool, bool)> = OnceLock::new();
    let (out, err) = *COLORED.get_or_init(|| {
        let both = is_terminal(Stream::Out) && is_terminal(Stream::Err);
        (color_for(both), color_for(is_terminal(Stream::Err)))
    });
    if stream == Stream::Out { out } else { err }
}

/// Writes `text` and a line feed: redacted, controls escaped and, under
/// Actions, fenced when a line of it could be read as a workflow command.
/// A closed stream (`stagegate promote | head`) must not stop a run
/// half-way, so errors are the caller's to ignore.
pub fn write(stream: Stream, text: &str) -> std::io::Result<()> {
    raw(stream, &prepared(text, colored(stream), under_actions()))
}

/// [`write`], ignoring a stream that is gone: progress, step lines, logs.
pub fn print(stream: Stream, text: &str) {
    let _ = write(stream, text);
}

/// [`write`] for a command's answer: when it cannot be written (the reader
/// has gone) the command has failed, and the process ends with exit 1.
pub fn answer(stream: Stream, text: &str) {
    if write(stream, text).is_err() {
        std::process::exit(crate::exit::Exit::Failed as i32);
    }
}

/// A JSON document or log line (serialized by serde_json): controls it
/// left raw (DEL, C1, bidirectional characters) become `\uXXXX` escapes,
/// which any JSON reader decodes back. Never fenced: every line of a JSON
/// text starts with a bracket, a quote or a scalar, never with `::`.
/// A document that cannot be written ends the process with exit 1.
pub fn json(stream: Stream, text: &str) {
    if raw(stream, &format!("{}\n", json_escaped(text))).is_err() && stream == Stream::Out {
        std::process::exit(crate::exit::Exit::Failed as i32);
    }
}

/// One of stagegate's own workflow commands (`::error title=…::message`,
/// `::group::…`, `::add-mask::…`), built by `actions::format_command` with
/// its properties and data escaped: one line, written unfenced (controls
/// still shown escaped). Text of more than one line is no command of
/// stagegate's: it is written as any other text.
pub fn command(stream: Stream, line: &str) {
    if line.contains(['\n', '\r']) {
        print(stream, line);
    } else {
        let _ = raw(stream, &format!("{}\n", shown(line, false)));
    }
}

/// `text` ready to write: redacted, controls escaped (colour kept when
/// `color`), fenced when `actions` and a line could be a workflow command.
fn prepared(text: &str, color: bool, actions: bool) -> String {
    let text = crate::redact::redact(text);
    let text = shown(text.trim_end_matches('\n'), color);
    if actions && text.lines().any(could_be_command) {
        let token = crate::random::hex128();
        format!("::stop-commands::{token}\n{text}\n::{token}::\n")
    } else {
        format!("{text}\n")
    }
}

/// Whether the runner could read `line` as a workflow command: it trims
/// leading white space and looks for `::` (and, when insecure commands are
/// allowed, the old `##[`).
fn could_be_command(line: &str) -> bool {
    let l = line.trim_start();
    l.starts_with("::") || l.starts_with("##[")
}

/// A character that changes how a terminal (or a reader of a log) shows
/// text rather than being shown: C0 controls but line feed and tab, DEL,
/// C1, bidirectional marks, embeddings, overrides and isolates, line and
/// paragraph separators.
pub fn is_terminal_control(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every terminal control shown as its escape (`\u{1b}`,
/// `\r`, `\u{202e}`). With `color`, a colour sequence (`ESC [` digits and
/// `;` `m`) is kept: stagegate's and miette's paint.
pub fn shown(text: &str, color: bool) -> Cow<'_, str> {
    if !text.contains(is_terminal_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\u{1b}'
            && color
            && let Some(n) = sgr_len(rest)
        {
            let (sgr, tail) = rest.split_at(n);
            out.push_str(sgr);
            rest = tail;
            continue;
        }
        if is_terminal_control(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

/// The length in bytes of the colour sequence `s` starts with, if it starts
/// with one: `ESC [`, at most 32 digits and `;`, `m`.
fn sgr_len(s: &str) -> Option<usize> {
    let params = s.strip_prefix("\u{1b}[")?;
    let n = params.bytes().take(33).take_while(|b| b.is_ascii_digit() || *b == b';').count();
    (params.as_bytes().get(n) == Some(&b'm')).then_some(2 + n + 1)
}

/// JSON text with the terminal controls serde_json leaves raw as `\uXXXX`
/// (a pair of surrogates above U+FFFF). Outside strings JSON has none.
fn json_escaped(text: &str) -> Cow<'_, str> {
    if !text.contains(is_terminal_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_terminal_control(c) {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Writes `s` as it is, in one write, and flushes.
fn raw(stream: Stream, s: &str) -> std::io::Result<()> {
    match stream {
        Stream::Out => {
            let mut out = std::io::stdout().lock();
            out.write_all(s.as_bytes())?;
            out.flush()
        }
        Stream::Err => std::io::stderr().lock().write_all(s.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_shown_escaped_and_only_colour_survives_on_a_coloured_stream() {
        let hostile = "r1\u{1b}]0;title\u{7}\u{1b}[2J\r\u{202e}gnp.exe\u{2066}x\u{85}y\u{7f}\tz\n";
        let plain = shown(hostile, false);
        assert_eq!(plain, "r1\\u{1b}]0;title\\u{7}\\u{1b}[2J\\r\\u{202e}gnp.exe\\u{2066}x\\u{85}y\\u{7f}\tz\n");
        assert_eq!(shown("\u{1b}[32m✓\u{1b}[0m", true), "\u{1b}[32m✓\u{1b}[0m");
        assert_eq!(shown("\u{1b}[32m✓\u{1b}[0m", false), "\\u{1b}[32m✓\\u{1b}[0m");
        assert_eq!(shown("\u{1b}[2J\u{1b}]8;;x\u{1b}\\", true), "\\u{1b}[2J\\u{1b}]8;;x\\u{1b}\\");
        assert!(matches!(shown("plain ✓ → text", false), Cow::Borrowed(_)));
    }

    #[test]
    fn text_with_a_line_like_a_workflow_command_is_fenced_under_actions() {
        assert_eq!(prepared("release 1 is live\n", false, true), "release 1 is live\n");
        let hostile = "✓ check-source r1\n  ::warning::X\n::stop-commands::y";
        let fenced = prepared(hostile, false, true);
        let lines: Vec<&str> = fenced.lines().collect();
        let token = lines[0].strip_prefix("::stop-commands::").expect("fenced");
        assert_eq!(token.len(), 32);
        assert_eq!(lines.last(), Some(&format!("::{token}::").as_str()));
        assert_eq!(lines[1..lines.len() - 1].join("\n"), hostile);
        assert!(prepared("x\n##[set-env name=A;]1", false, true).starts_with("::stop-commands::"));
        // A carriage return is a line break to the runner: shown escaped, it is none.
        assert_eq!(prepared("x\r::warning::X", false, true), "x\\r::warning::X\n");
        // Outside Actions nothing reads commands: no fence.
        assert_eq!(prepared(hostile, false, false), format!("{hostile}\n"));
    }

    #[test]
    fn json_keeps_its_data_and_loses_its_raw_controls() {
        let doc = serde_json::json!({"release": "r1\u{1b}[2J\u{202e}\u{85}\u{7f}\u{e0041}"}).to_string();
        let escaped = json_escaped(&doc);
        assert!(!escaped.contains(is_terminal_control), "{escaped}");
        let back: serde_json::Value = serde_json::from_str(&escaped).unwrap();
        assert_eq!(back.to_string(), doc);
    }
}
