//! Input that becomes output stays data; configs that can never work, and
//! resources without bound, are refused with exit 2 before anything runs.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::support::{Sandbox, example, run, run_json};

fn check(sb: &Sandbox, name: &str, text: impl AsRef<[u8]>) -> (i32, serde_json::Value) {
    let cfg = sb.write(name, text);
    let mut c = sb.cmd();
    c.arg("-c").arg(cfg).arg("check");
    let (code, json, _) = run_json(c);
    (code, json)
}

/// The error diagnostics of a `check --output json`, as (line, column, message, help).
fn errors(json: &serde_json::Value) -> Vec<(u64, u64, String, String)> {
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| {
            (
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_string(),
                d["help"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn assert_refused_at(text: &str, line: u64, want: &str) {
    let sb = Sandbox::new();
    let (code, json) = check(&sb, "c.yml", text);
    assert_eq!(code, 2, "{text}\n{json:#}");
    let errs = errors(&json);
    assert!(
        errs.iter().any(|(l, _, m, h)| *l == line && m.contains(want) && !h.is_empty()),
        "{text}\nno error with a help at line {line} containing {want:?}: {errs:#?}"
    );
}

const BASE: &str = "version: 1\nenvironments:\n  dev: {}\n";

#[test]
fn configs_that_can_never_work_are_refused_with_a_span() {
    // Distinct reviewers: GitHub logins are case-insensitive, `@` is decoration.
    assert_refused_at(
        "version: 1\nenvironments:\n  prod:\n    approvals:\n      required: 2\n      reviewers: [\"@Alice\", alice]\n",
        5,
        "counts once",
    );
    assert_refused_at(
        "version: 1\nenvironments:\n  prod:\n    approvals:\n      required: 3\n      reviewers: [\"@bob\", \"@BOB\", \"@carol\"]\n",
        5,
        "lists only 2 reviewer(s)",
    );
    // Names GitHub takes as one environment.
    assert_refused_at("version: 1\nenvironments:\n  Prod: {}\n  staging: {}\n  prod: {}\n", 5, "differ only by case");
    // A user environment with a generated approval environment's name.
    assert_refused_at(
        "version: 1\nenvironments:\n  prod:\n    approvals: { required: 2, reviewers: [\"@a\", \"@b\"] }\n  Prod-Approval-1: {}\n",
        5,
        "approval environment",
    );
    // Zero timeouts, empty commands, stores without a place.
    assert_refused_at(&format!("{BASE}steps:\n  timeouts: {{ hook: 0s }}\n"), 5, "zero");
    assert_refused_at(&format!("{BASE}steps:\n  timeouts:\n    startup: 0m\n"), 6, "zero");
    assert_refused_at(&format!("{BASE}steps:\n  deploy: \"  \"\n"), 5, "empty");
    assert_refused_at(&format!("{BASE}journal:\n  import: \"\"\n"), 5, "empty");
    assert_refused_at(&format!("{BASE}journal:\n  store: file://\n"), 5, "no location");
    assert_refused_at(&format!("{BASE}journal:\n  kv: \"file://\"\n"), 5, "no location");
    // Tags: the prefix and the rendered format must make a git tag.
    assert_refused_at(&format!("{BASE}release:\n  tag_prefix: \"v \"\n"), 5, "whitespace");
    assert_refused_at(&format!("{BASE}release:\n  tag_prefix: \"-v\"\n"), 5, "tag_prefix");
    assert_refused_at(&format!("{BASE}release:\n  tag_prefix: \"rel\\u202e\"\n"), 5, "tag_prefix");
    assert_refused_at(&format!("{BASE}release:\n  format: \"YY:0M:0D.BUILD\"\n"), 5, "valid tag name");
    assert_refused_at(&format!("{BASE}release:\n  format: \"YY.0M.0D.BUILD.\"\n"), 5, "valid tag name");
    assert_refused_at(&format!("{BASE}release:\n  format: \"YY..0M.0D.BUILD\"\n"), 5, "valid tag name");
    assert_refused_at(&format!("{BASE}release:\n  format: \"YY 0M.0D.BUILD\"\n"), 5, "valid tag name");
    assert_refused_at(&format!("{BASE}release:\n  name: \"Release {{tag}}\\n::warning::x\"\n"), 5, "name");
}

#[test]
fn durations_have_bounds_and_huge_ones_do_not_panic() {
    let env = |inner: &str| format!("version: 1\nenvironments:\n  prod:\n{inner}");
    assert_refused_at(
        &env("    approvals:\n      required: 1\n      reviewers: [\"@a\"]\n      wait_timer: 99999999d\n"),
        7,
        "wait_timer",
    );
    assert_refused_at(
        &env("    approvals:\n      required: 1\n      reviewers: [\"@a\"]\n      wait_timer: 31d\n"),
        7,
        "30d",
    );
    assert_refused_at(&env("    soak: 400d\n"), 4, "soak");
    assert_refused_at(&format!("{BASE}steps:\n  timeouts: {{ hook: 2d }}\n"), 5, "hook");
    assert_refused_at(
        &env("    health:\n      - { http: \"http://127.0.0.1:1/h\", timeout: 999999h }\n"),
        5,
        "timeout",
    );
    // The bounds themselves are fine.
    let sb = Sandbox::new();
    let (code, json) = check(
        &sb,
        "ok.yml",
        env("    soak: 365d\n    approvals:\n      required: 1\n      reviewers: [\"@a\"]\n      wait_timer: 30d\n"),
    );
    assert_eq!(code, 0, "{json:#}");
}

#[test]
fn yaml_tags_are_refused_not_dropped() {
    assert_refused_at(&format!("{BASE}release:\n  name: !!binary aGVsbG8=\n"), 5, "!!binary");
    assert_refused_at("version: 1\nenvironments: !env\n  dev: {}\n", 3, "!env");
    assert_refused_at("version: 1\nenvironments:\n  dev:\n    branches: !!set { main }\n", 4, "!!set");
    assert_refused_at("version: !!int 1\nenvironments:\n  dev: {}\n", 1, "!!int");
}

#[test]
fn an_alias_bomb_of_long_strings_is_refused_quickly_naming_the_anchor() {
    // ~18 KB on disk; expanded, 16 KB × 4^12 ≈ 270 GB.
    let mut bomb = format!("version: 1\nx0: &lol0 \"{}\"\n", "ha".repeat(8_000));
    for i in 1..=12 {
        let p = i - 1;
        bomb.push_str(&format!("x{i}: &lol{i} [*lol{p}, *lol{p}, *lol{p}, *lol{p}]\n"));
    }
    bomb.push_str("environments:\n  dev: {}\n");
    assert!(bomb.len() < 20_000);
    let sb = Sandbox::new();
    let started = Instant::now();
    let (code, json) = check(&sb, "bomb.yml", &bomb);
    assert_eq!(code, 2, "{json:#}");
    let errs = errors(&json);
    assert!(errs.iter().any(|(_, _, m, _)| m.contains("anchor `lol") && m.contains("MiB")), "{errs:#?}");
    // A liveness guard, not a benchmark: the old loader needed minutes and gigabytes.
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn cr_only_line_endings_read_as_yaml_reads_them() {
    let sb = Sandbox::new();
    let good = "version: 1\renvironments:\r  dev: {}\r  prod:\r    approvals: { required: 1, reviewers: [\"@a\"] }\r";
    let (code, json) = check(&sb, "cr.yml", good);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["environments"], 2);
    let (code, json) = check(&sb, "cr-bad.yml", "version: 1\renvironments:\r  dev:\r    brnches: [main]\r");
    assert_eq!(code, 2);
    assert_eq!(errors(&json)[0].0, 4, "{json:#}");
    assert_eq!(errors(&json)[0].1, 5, "{json:#}");
}

#[test]
fn columns_count_characters_and_a_bad_byte_is_found_where_it_is() {
    let sb = Sandbox::new();
    // `  ét` then a Latin-1 `é`: the bad byte is the 5th character of line 3.
    let (code, json) = check(&sb, "l1.yml", b"version: 1\nenvironments:\n  \xc3\xa9t\xe9: {}\n");
    assert_eq!(code, 2);
    let e = &errors(&json)[0];
    assert_eq!((e.0, e.1), (3, 5), "{json:#}");
    assert!(e.2.contains("0xE9"), "{e:?}");
    // The same columns in text output.
    let cfg = sb.write("wide.yml", "version: 1\nenvironments:\n  dev: { \"ü\": 1, brnches: x }\n");
    let mut c = sb.cmd();
    c.arg("-c").arg(&cfg).arg("check").arg("--output").arg("json");
    let (_, out, _) = run(c);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let cols: Vec<u64> = errors(&json).iter().filter(|e| e.2.contains("brnches")).map(|e| e.1).collect();
    assert_eq!(cols, [18], "{json:#}");
    let mut c = sb.cmd();
    c.arg("-c").arg(&cfg).arg("check").env("GITHUB_ACTIONS", "true");
    let (_, out, err) = run(c);
    assert!(err.contains("wide.yml:3:18"), "{err}");
    assert!(out.contains("line=3,col=18,"), "{out}");
}

#[test]
fn a_config_that_is_a_fifo_is_refused_at_once() {
    let sb = Sandbox::new();
    let fifo = sb.path().join("stagegate.yml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let mut child =
        sb.std_cmd().arg("-c").arg(&fifo).arg("check").stderr(std::process::Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("stagegate waited on a FIFO");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(2));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("FIFO"), "{err}");
    // A directory in the config's place, too.
    let mut c = sb.cmd();
    c.arg("-c").arg(sb.path()).arg("check");
    assert_eq!(run(c).0, 2);
}

#[test]
fn refs_with_invisible_or_git_invalid_characters_are_refused_everywhere() {
    for bad in ["main\u{202e}", "ma\u{200b}in", "release/v1.lock", "a@{1}", "refs/heads/x..y", "\u{feff}main", " main"]
    {
        let cases: Vec<Vec<&str>> = vec![
            vec!["can-deploy", "--env", "dev-int", "--ref", bad],
            vec!["plan", "--from", "uat", "--to", "staging", "--ref", bad],
            vec!["deploy", "--env", "dev-int", "--ref", bad, "--release", "1", "--sha", "abcdef1"],
        ];
        for args in cases {
            let sb = Sandbox::new();
            let mut c = sb.seed();
            c.args(&args);
            let (code, _, err) = run(c);
            assert_eq!(code, 2, "{args:?}: {err}");
            assert!(!sb.path().join(".stagegate").exists(), "{args:?} wrote state");
        }
    }
}

/// The workflow commands the runner would act on in `text`: lines starting
/// with `::` (after blanks) outside `::stop-commands::T` … `::T::` fences.
pub(crate) fn live_commands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fence: Option<String> = None;
    for line in text.lines() {
        let l = line.trim_start();
        match &fence {
            Some(t) if l == format!("::{t}::") => fence = None,
            Some(_) => {}
            None => {
                if let Some(t) = l.strip_prefix("::stop-commands::") {
                    fence = Some(t.to_string());
                } else if l.starts_with("::") && !l.starts_with("::error title=stagegate") {
                    // stagegate's own annotation of an error is one line with
                    // its data escaped (a newline in it is `%0A`), so what it
                    // quotes cannot start a command of its own.
                    out.push(l.to_string());
                }
            }
        }
    }
    out
}

#[test]
fn free_text_never_becomes_a_workflow_command() {
    let inject = "x\n::error title=pwned::pwned\n";
    let sb = Sandbox::new();
    // Free text with control characters is refused.
    for args in [
        vec!["plan", "--from", "uat", "--to", "staging", "--override-freeze", "--reason", inject],
        vec!["approve", "--forge", "local", "--env", "uat", "--as", "alice", "--comment", inject],
        vec!["approve", "--forge", "local", "--env", "uat", "--as", "alice", "--run-id", inject],
        vec!["compare", inject, "prod"],
    ] {
        let mut c = sb.seed();
        c.env("GITHUB_ACTIONS", "true").args(&args);
        let (code, out, err) = run(c);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(live_commands(&out).is_empty() && live_commands(&err).is_empty(), "{args:?}:\n{out}\n{err}");
    }
    // What the user typed, echoed in an argument error, is fenced.
    for args in [vec![inject], vec!["check", inject], vec!["release", "next", "--date", inject]] {
        let mut c = sb.seed();
        c.env("GITHUB_ACTIONS", "true").args(&args);
        let (code, out, err) = run(c);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("pwned"), "{args:?}: the value is still shown: {err}");
        assert!(live_commands(&out).is_empty() && live_commands(&err).is_empty(), "{args:?}:\n{out}\n{err}");
    }
    // A config key carrying a command: its annotation is escaped, its report fenced.
    let cfg = sb.write("inj.yml", "version: 1\nenvironments:\n  dev:\n    \"a\\n::warning::pwned\": 1\n");
    let mut c = sb.cmd();
    c.env("GITHUB_ACTIONS", "true").arg("-c").arg(&cfg).arg("check");
    let (code, out, err) = run(c);
    assert_eq!(code, 2);
    let live: Vec<String> = live_commands(&out).into_iter().chain(live_commands(&err)).collect();
    assert_eq!(live.len(), 1, "{live:?}");
    assert!(live[0].starts_with("::error file=") && live[0].contains("%0A::warning::pwned"), "{live:?}");
}

#[test]
fn github_output_values_get_their_own_random_delimiter() {
    let sb = Sandbox::new();
    let out = sb.path().join("gh-output");
    let mut c = sb.seed();
    c.env("GITHUB_OUTPUT", &out).args(["release", "next", "--forge", "local", "--date", "2026-11-21"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    let (d1, d2) = (lines[0].strip_prefix("tag<<").unwrap(), lines[3].strip_prefix("version<<").unwrap());
    assert!(d1.starts_with("ghadelimiter_") && d1.len() > 30 && d1 != d2, "{text}");
    assert_eq!((lines[1], lines[2], lines[5]), ("26.11.21.1", d1, d2));
}

#[test]
fn output_json_prints_one_document_for_argument_errors_too() {
    let sb = Sandbox::new();
    for args in [
        vec!["--output", "json", "check", "--bogus"],
        vec!["--output=json", "plan", "--from", "uat"],
        vec!["release", "next", "--output", "json", "--date", "2026-13-01"],
        vec!["--output", "json", "no-such-command"],
        vec!["--output", "json", "release"],
    ] {
        let mut c = sb.seed();
        c.args(&args);
        let (code, out, err) = run(c);
        assert_eq!(code, 2, "{args:?}: {err}");
        let doc: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not one JSON document ({e}): {out}"));
        assert_eq!(doc["error"]["exit"], 2, "{doc:#}");
        assert_eq!(doc["error"]["code"], "stagegate::input::arguments", "{doc:#}");
        assert!(!doc["error"]["message"].as_str().unwrap().is_empty());
        assert!(!err.is_empty(), "the usage message still goes to stderr");
    }
    // --help is not a failure.
    let mut c = sb.seed();
    c.args(["--output", "json", "check", "--help"]);
    let (code, out, _) = run(c);
    assert_eq!(code, 0);
    assert!(out.contains("Usage"), "{out}");
}

#[test]
fn logs_off_a_terminal_have_no_colour() {
    let sb = Sandbox::new();
    let mut c = sb.cmd();
    c.env_remove("NO_COLOR").env("TERM", "xterm-256color").env("STAGEGATE_LOG", "info").arg("check");
    let (_, _, err) = run(c);
    assert!(err.contains("embedded default"), "{err}");
    assert!(!err.contains('\x1b'), "escape codes in a log: {err:?}");
    let mut c = sb.cmd();
    c.env_remove("NO_COLOR").env("TERM", "xterm-256color").args(["-c", "missing.yml", "check"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 2);
    assert!(!err.contains('\x1b'), "escape codes in an error: {err:?}");
}

#[test]
fn init_action_must_be_pinned_to_a_commit() {
    for bad in [
        "acme/stagegate@v1",
        "acme/stagegate@main",
        "acme/stagegate",
        "acme@0123456789abcdef0123456789abcdef01234567",
        "acme/stagegate@0123456789abcdef0123456789abcdef01234567\n      env: { X: 1 }",
        "acme/stagegate@0123456789abcdef0123456789abcdef0123456",
        "acme/stage gate@0123456789abcdef0123456789abcdef01234567",
        "-x/y@0123456789abcdef0123456789abcdef01234567",
    ] {
        let sb = Sandbox::new();
        let mut c = sb.cmd();
        c.args(["init", "--action", bad]);
        let (code, _, err) = run(c);
        assert_eq!(code, 2, "{bad:?}: {err}");
        assert!(!sb.path().join(".github").exists(), "{bad:?}: init wrote files");
    }
    let sb = Sandbox::new();
    let mut c = sb.cmd();
    c.args(["init", "--action", "acme/stagegate@0123456789abcdef0123456789abcdef01234567"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn run_time_inputs_a_command_cannot_use_are_exit_2() {
    let sb = Sandbox::new();
    // A date the format cannot write: `YY` counts from 2000.
    let mut c = sb.seed();
    c.args(["release", "next", "--forge", "local", "--date", "1999-12-31"]);
    let (code, out, err) = run(c);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("before 2000"), "{err}");
    // An environment compared with itself.
    let mut c = sb.seed();
    c.args(["compare", "staging", "staging"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 2, "{err}");
    // A draft release for a tag that does not exist, without --target.
    let mut c = sb.seed();
    c.args(["release", "draft", "--forge", "local", "--tag", "26.11.21.9"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no tag `26.11.21.9`"), "{err}");
    assert!(
        !sb.path().join(".stagegate/forge.json").exists() || {
            let s = std::fs::read_to_string(sb.path().join(".stagegate/forge.json")).unwrap();
            !s.contains("\"draft\"")
        }
    );
    // `--now` far outside the calendar is refused, not a panic.
    let mut c = sb.seed();
    c.args(["plan", "--from", "uat", "--to", "staging", "--now", "+262000-01-01T00:00:00Z"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 2, "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn server_text_echoing_the_token_is_redacted() {
    use bytes::Bytes;
    use http_body_util::Full;
    const TOKEN: &str = "ghs_SentinelTokenValue0123456789abcdef";
    let server = crate::support::http::serve_fn(|req| async move {
        let auth = req.header("authorization").unwrap_or("").to_string();
        let body = serde_json::json!({
            "message": format!("Bad credentials for {auth}; request headers: Authorization: {auth}\n::error::pwned"),
            "documentation_url": "https://docs.github.com/rest",
        });
        hyper::Response::builder()
            .status(401)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap()
    });
    let sb = Sandbox::new();
    for output in ["text", "json"] {
        let mut c = sb.seed();
        c.env("GITHUB_API_URL", server.url())
            .env("GITHUB_TOKEN", TOKEN)
            .env("GITHUB_ACTIONS", "true")
            .args(["--forge", "github", "--repo", "acme/app", "--output", output, "release", "next"]);
        let (code, out, err) = run(c);
        assert_eq!(code, 1, "{out}{err}");
        assert!(err.contains("401") || out.contains("401"), "{out}{err}");
        let secret_part = &TOKEN[4..];
        // The one place the token is written: the mask command the runner consumes.
        let out: String = out.lines().filter(|l| !l.starts_with("::add-mask::")).collect::<Vec<_>>().join("\n");
        assert!(!out.contains(secret_part) && !err.contains(secret_part), "the token leaked:\n{out}\n{err}");
        assert!(live_commands(&err).is_empty(), "{err}");
        assert!(live_commands(&out).iter().all(|l| l.starts_with("::add-mask::")), "{out}");
    }
    let _ = std::io::stderr().flush();
}

#[test]
fn the_seed_config_still_checks_clean() {
    let sb = Sandbox::new();
    let mut c = sb.cmd();
    c.arg("-c").arg(example("seed-environments.yml")).arg("check");
    let (code, json, _) = run_json(c);
    assert_eq!(code, 0, "{json:#}");
}

#[test]
fn a_hostile_ref_in_deployment_history_never_reaches_a_hook() {
    for (hostile, code) in
        [("release/v1$(id)", 1), ("release/v1`id`", 1), ("release/v1\\u202e", 3), ("release/v1\\nX=1", 3)]
    {
        let sb = Sandbox::for_runs("");
        let (c, _, err) = run(sb.sg(&["deploy", "--env", "dev", "--ref", "release/v1", "--release", "1.0.0"]));
        assert_eq!(c, 0, "{err}");
        let state = sb.path().join(".stagegate/forge.json");
        let text = std::fs::read_to_string(&state).unwrap();
        assert!(text.contains("\"refs/heads/release/v1\""), "{text}");
        std::fs::write(&state, text.replace("\"refs/heads/release/v1\"", &format!("\"refs/heads/{hostile}\"")))
            .unwrap();
        let before = sb.hook_log().len();
        let (c, out, err) = run(sb.sg(&["promote", "--from", "dev", "--to", "staging", "--release", "1.0.0"]));
        assert_eq!(c, code, "{hostile}: {out}{err}");
        assert_eq!(sb.hook_log().len(), before, "{hostile}: a hook ran: {:?}", sb.hook_log());
        assert!(!sb.path().join("pwned").exists());
    }
}
