//! Record text is data on the way out, whichever command prints it: every
//! command that prints records runs under Actions over records an attacker
//! wrote (a release name, a ref, an actor, a review comment, a status
//! description, a journal's file name carrying `\n::warning::…`,
//! `::stop-commands::…`, terminal escapes, bidirectional overrides, Markdown
//! links and images, HTML, mentions), and its stdout and stderr are read as
//! the runner reads them: no workflow command but stagegate's own outside a
//! fence, no raw terminal control; its step summary has no live link, image
//! or HTML of the attacker's.

use std::path::Path;

use crate::support::{SHORT_TIMEOUTS, Sandbox};

const SHA: &str = "3f2c1a9e5b7d4c6a8f0e1d2c3b4a5968778695a4";

/// What an attacker with `deployments: write` (or write access to the
/// journal's store) puts in a record in place of `tag`.
fn hostile(tag: &str) -> String {
    format!(
        "{tag}\n::warning::X-{tag}\n::stop-commands::y\n  ::error title=pwned::Z\r::notice::N\u{85}::debug::D \
         \u{1b}]0;pwn\u{7}\u{1b}[2J\u{1b}[8m\u{202e}gnp.exe\u{2066}\u{7f}\u{9b}31m \
         ![i](https://evil.example/i.png) [l](https://evil.example/l) <img src=x onerror=alert(1)> <b>b</b> \
         <https://evil.example/a> www.evil.example @mallory-evil"
    )
}

/// `text` with every `from` (inside a JSON string) replaced by `hostile(to)`.
fn poison(text: &str, swaps: &[(&str, &str)]) -> String {
    let mut text = text.to_string();
    for (from, to) in swaps {
        let json = serde_json::to_string(&hostile(to)).unwrap();
        let inner = json.strip_prefix('"').and_then(|j| j.strip_suffix('"')).unwrap();
        text = text.replace(from, inner);
    }
    text
}

/// The lines of `text` as the runner splits them: at `\n`, `\r\n` and a lone `\r`.
fn runner_lines(text: &str) -> Vec<&str> {
    text.split('\n').flat_map(|l| l.split('\r')).collect()
}

/// Whether `c` changes how a terminal shows text rather than being shown.
fn terminal_control(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// What is wrong with `text` as the runner and a terminal read it: workflow
/// commands the runner would run that stagegate did not write (outside
/// `::stop-commands::TOKEN` … `::TOKEN::`, TOKEN stagegate's 32 hex digits),
/// and raw terminal controls.
fn problems(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut fence: Option<String> = None;
    for line in runner_lines(text) {
        let l = line.trim_start();
        if let Some(t) = &fence {
            if l == format!("::{t}::") {
                fence = None;
            }
        } else if let Some(token) = l.strip_prefix("::stop-commands::") {
            if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
                found.push(format!("a fence stagegate did not open: {l}"));
            }
            fence = Some(token.to_string());
        } else if l.starts_with("::") || l.starts_with("##[") {
            let own = ["::group::", "::endgroup::", "::error title=stagegate", "::warning title=stagegate"];
            if !own.iter().any(|p| l.starts_with(p)) {
                found.push(format!("a live workflow command: {l}"));
            }
        }
    }
    if let Some(c) = text.chars().find(|&c| terminal_control(c)) {
        found.push(format!("a raw terminal control U+{:04X}", c as u32));
    }
    found
}

/// What is live in a step summary that an attacker wrote: links and images
/// other than stagegate's own (into the repository), HTML but `<br>`, bare
/// URLs and mentions.
fn live_markdown(md: &str) -> Vec<String> {
    let mut found = Vec::new();
    // stagegate's links into the repository (a release's tag percent-encoded): not the attacker's.
    let own = "](https://github.com/acme/shop/";
    let text: String = md
        .split(own)
        .enumerate()
        .map(|(i, part)| if i == 0 { part } else { part.split_once(')').map_or("", |(_, rest)| rest) })
        .collect();
    for bad in ["https://evil", "www.evil", "<img", "<b>", "<https:", "@mallory-evil", "![", "\\\\["] {
        if text.contains(bad) {
            found.push(format!("`{bad}` is live"));
        }
    }
    for (before, after) in md.split("](").zip(md.split("](").skip(1)) {
        if !after.starts_with("https://github.com/acme/shop/") && !before.ends_with('\\') {
            let target: String = after.chars().take(40).collect();
            found.push(format!("a link out of the repository: ]({target}"));
        }
    }
    found
}

/// One command's run under Actions.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
    summary: String,
}

fn under_actions(sb: &Sandbox, mut cmd: assert_cmd::Command) -> Ran {
    let summary = sb.path().join("summary.md");
    let output = sb.path().join("output.txt");
    let _ = std::fs::remove_file(&summary);
    cmd.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_REPOSITORY", "acme/shop")
        .env("STAGEGATE_NOW", "2026-12-01T12:00:00Z");
    let out = cmd.output().expect("runs");
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
    }
}

/// Rewrites every file under `dir` that holds a placeholder.
fn poison_tree(dir: &Path, swaps: &[(&str, &str)]) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            poison_tree(&p, swaps);
        } else if let Ok(text) = std::fs::read_to_string(&p) {
            let poisoned = poison(&text, swaps);
            if poisoned != text {
                std::fs::write(&p, poisoned).unwrap();
            }
        }
    }
}

/// The forge's records after a story (deployed, promoted, deployed again,
/// reviewed), each name an attacker's.
fn poisoned_forge() -> Sandbox {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    let ok = |args: &[&str]| {
        let (code, out, err) = crate::support::run(sb.sg(args));
        assert_eq!(code, 0, "{args:?}: {out}{err}");
    };
    ok(&["deploy", "--env", "dev", "--ref", "release/refx", "--release", "rela", "--sha", SHA]);
    ok(&["promote", "--from", "dev", "--to", "staging", "--release", "rela", "--run-id", "41"]);
    ok(&["deploy", "--env", "dev", "--ref", "release/refx", "--release", "relb", "--sha", SHA]);
    for who in ["alicex", "bob"] {
        let approve = ["approve", "--env", "prod", "--as", who, "--run-id", "7", "--comment", "commentx"];
        ok(&approve);
    }
    let swaps = [
        ("rela", "r1"),
        ("relb", "r2"),
        ("release/refx", "ref"),
        ("mallory", "actor"),
        ("alicex", "alice"),
        ("commentx", "comment"),
    ];
    poison_tree(&sb.path().join(".stagegate"), &swaps);
    sb
}

/// A journal whose uploaded file's name is an attacker's.
fn poisoned_journal() -> Sandbox {
    let sb = Sandbox::new();
    sb.write("filex.db", "journal");
    let mut c = sb.seed();
    c.args(["journal", "upload", "filex.db", "--cluster", "dev-modelling"]);
    let (code, out, err) = crate::support::run(c);
    assert_eq!(code, 0, "{out}{err}");
    let mut c = sb.seed();
    c.args(["journal", "seed"]);
    assert_eq!(crate::support::run(c).0, 0);
    poison_tree(&sb.path().join(".stagegate"), &[("filex.db", "file")]);
    sb
}

#[test]
fn record_text_never_runs_as_a_workflow_command_nor_reaches_a_terminal_raw() {
    let forge = poisoned_forge();
    let journal = poisoned_journal();
    let deploy = ["deploy", "--env", "staging", "--ref", "release/v2", "--release", "relc", "--sha", SHA];
    let on_forge = |args: &[&str]| under_actions(&forge, forge.sg(&[&["--forge", "local"][..], args].concat()));
    let on_journal = |args: &[&str]| {
        let mut c = journal.seed();
        c.args(args);
        under_actions(&journal, c)
    };
    type Run<'a> = &'a dyn Fn(&[&str]) -> Ran;
    let cases: &[(Run, &[&str])] = &[
        (&on_forge, &["status"]),
        (&on_forge, &["--output", "json", "status"]),
        (&on_forge, &["history"]),
        (&on_forge, &["--output", "json", "history"]),
        (&on_forge, &["compare", "dev", "staging"]),
        (&on_forge, &["plan", "--from", "dev", "--to", "staging", "--release", "relc"]),
        (&on_forge, &["promote", "--from", "dev", "--to", "staging", "--release", "relc", "--run-id", "42"]),
        (&on_forge, &["--output", "json", "promote", "--from", "dev", "--to", "staging", "--release", "relc"]),
        (&on_forge, &["gate", "--env", "prod", "--run-id", "7", "--actor", "mallory"]),
        (&on_forge, &["rollback", "--env", "dev"]),
        (&on_forge, &deploy),
        (&on_forge, &["rollback", "--env", "staging"]),
        (&on_journal, &["journal", "versions"]),
        (&on_journal, &["journal", "watch", "--lane", "dev", "--once", "--exec", "true"]),
        (&on_journal, &["--output", "json", "journal", "versions"]),
    ];
    let mut failures = Vec::new();
    for (run, args) in cases {
        let ran = run(args);
        let shown = format!("{}{}{}", ran.stdout, ran.stderr, ran.summary);
        if !shown.contains("X-") {
            failures.push(format!("{args:?} (exit {}) printed no record text:\n{shown}", ran.code));
            continue;
        }
        for (stream, text) in [("stdout", &ran.stdout), ("stderr", &ran.stderr)] {
            let found: std::collections::BTreeSet<String> = problems(text).into_iter().collect();
            if !found.is_empty() {
                failures.push(format!("{args:?} {stream}: {found:#?}\n{text}"));
            }
        }
        let found: std::collections::BTreeSet<String> = live_markdown(&ran.summary).into_iter().collect();
        if !found.is_empty() {
            failures.push(format!("{args:?} step summary: {found:#?}\n{}", ran.summary));
        }
    }
    assert!(failures.is_empty(), "{} problems:\n\n{}", failures.len(), failures.join("\n\n"));
}
