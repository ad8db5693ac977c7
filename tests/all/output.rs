//! Snapshots of what commands print — the text, the one JSON document, and
//! under Actions the step summary and `$GITHUB_OUTPUT` — over one story: a
//! release deployed, promoted, refused for want of approvals, approved,
//! promoted, a bad release rolled back, a manual rollback; then `status` and
//! `history`. Paths, ports, timings and health-check retry counts are redacted.
//! `INSTA_UPDATE=always cargo test --test all output::` rewrites them.

use std::path::Path;

use crate::support::{SHORT_TIMEOUTS, Sandbox, outputs};

/// Redactions that keep the snapshots stable across machines and runs.
pub fn settings(sandbox: &Path) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    s.set_snapshot_path("snapshots");
    let literal = escape(&sandbox.to_string_lossy());
    s.add_filter(&literal, "[sandbox]");
    s.add_filter(&escape(&crate::support::repo_root().to_string_lossy()), "[repo]");
    s.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]");
    s.add_filter(r"\b\d+\.\ds\b", "[t]s");
    s.add_filter(r#""(total_)?seconds": [0-9.]+"#, r#""${1}seconds": "[t]""#);
    s.add_filter(r"after \d+ tries", "after [n] tries");
    s.add_filter(r"for up to \d+s", "for up to [n]s");
    s.add_filter(r#""tries": \d+"#, r#""tries": "[n]""#);
    s
}

/// `text` as a regular expression that matches it literally.
fn escape(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() || c == '/' { c.to_string() } else { format!("\\{c}") }).collect()
}

/// What one command did: exit code, stdout, and what it wrote for Actions.
pub struct Shot {
    pub code: i32,
    pub stdout: String,
    pub summary: String,
    pub outputs: Vec<(String, String)>,
}

impl Shot {
    /// Everything a user of the command sees, as one text to snapshot.
    pub fn render(&self) -> String {
        let mut s = format!("exit: {}\n--- stdout\n{}", self.code, self.stdout);
        if !self.summary.is_empty() {
            s.push_str(&format!("--- step summary\n{}", self.summary));
        }
        if !self.outputs.is_empty() {
            s.push_str("--- outputs\n");
            for (k, v) in &self.outputs {
                s.push_str(&format!("{k}={v}\n"));
            }
        }
        s
    }
}

/// Runs `cmd` at `now` as on a GitHub runner of `acme/shop` (summary,
/// outputs, server and repository set) but on the local forge.
pub fn shoot(sb: &Sandbox, mut cmd: assert_cmd::Command, now: &str) -> Shot {
    let summary = sb.path().join("summary.md");
    let output = sb.path().join("output.txt");
    let _ = std::fs::remove_file(&summary);
    let _ = std::fs::remove_file(&output);
    cmd.env("STAGEGATE_NOW", now)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_REPOSITORY", "acme/shop");
    let out = cmd.output().expect("runs");
    Shot {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        outputs: outputs(&output),
    }
}

/// The story's sandbox: staging has a `url:`, prod needs alice and bob.
fn story() -> Sandbox {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    let cfg = std::fs::read_to_string(sb.path().join("stagegate.yml")).unwrap();
    sb.write("stagegate.yml", cfg.replace("  staging:\n", "  staging:\n    url: https://staging.acme.example\n"));
    sb
}

const SHA: &str = "3f2c1a9e5b7d4c6a8f0e1d2c3b4a5968778695a4";

#[test]
fn runs_status_and_history_read_the_same_in_every_document() {
    let sb = story();
    let settings = settings(sb.path());
    let _guard = settings.bind_to_scope();
    let sg = |args: &[&str], now: &str| shoot(&sb, sb.sg(args), now);
    let json = |args: &[&str], now: &str| {
        let mut a = vec!["--output", "json"];
        a.extend_from_slice(args);
        shoot(&sb, sb.sg(&a), now)
    };
    let deploy = ["deploy", "--env", "dev", "--ref", "release/v1", "--release", "1.0.0", "--sha", SHA];
    insta::assert_snapshot!("deploy_text", sg(&deploy, "2026-12-01T09:00:00Z").render());
    let promote = |from: &str, to: &str, release: &str, run_id: &str| {
        ["promote", "--from", from, "--to", to, "--release", release, "--run-id", run_id].map(str::to_owned)
    };
    let p = promote("dev", "staging", "1.0.0", "41");
    insta::assert_snapshot!("promote_text", sg(&args(&p), "2026-12-01T10:00:00Z").render());
    let p = promote("staging", "prod", "1.0.0", "7");
    insta::assert_snapshot!("promote_refused_text", sg(&args(&p), "2026-12-01T10:10:00Z").render());
    insta::assert_snapshot!("promote_refused_json", json(&args(&p), "2026-12-01T10:10:00Z").stdout);
    for who in ["alice", "bob"] {
        assert_eq!(sg(&["approve", "--env", "prod", "--as", who, "--run-id", "7"], "2026-12-01T10:20:00Z").code, 0);
    }
    insta::assert_snapshot!("promote_approved_json", json(&args(&p), "2026-12-01T10:30:00Z").render());
    let bad = ["deploy", "--env", "dev", "--ref", "release/v1", "--release", "1.1.0-bad", "--sha", &SHA[..12]];
    assert_eq!(sg(&bad, "2026-12-01T11:00:00Z").code, 0);
    insta::assert_snapshot!(
        "compare_pending_text",
        sg(&["compare", "dev", "staging"], "2026-12-01T11:05:00Z").render()
    );
    let p = promote("dev", "staging", "1.1.0-bad", "42");
    insta::assert_snapshot!("promote_rolled_back_text", sg(&args(&p), "2026-12-01T11:10:00Z").render());
    insta::assert_snapshot!("rollback_text", sg(&["rollback", "--env", "dev"], "2026-12-01T11:20:00Z").render());

    let now = "2026-12-01T12:00:00Z";
    insta::assert_snapshot!("status_text", sg(&["status"], now).render());
    insta::assert_snapshot!("status_json", json(&["status"], now).stdout);
    insta::assert_snapshot!("history_text", sg(&["history"], now).render());
    insta::assert_snapshot!("history_json", json(&["history", "--env", "prod"], now).stdout);
    insta::assert_snapshot!("compare_up_to_date_text", sg(&["compare", "staging", "prod"], now).render());
    insta::assert_snapshot!("compare_up_to_date_json", json(&["compare", "staging", "prod"], now).stdout);
}

/// `stagegate -c examples/seed-environments.yml ARGS` at `now`, shot.
fn seeded(sb: &Sandbox, args: &[&str], now: &str) -> Shot {
    let mut c = sb.seed();
    c.args(args);
    shoot(sb, c, now)
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn release_commands_say_what_they_made_in_every_document() {
    let sb = Sandbox::new();
    let settings = settings(sb.path());
    let _guard = settings.bind_to_scope();
    let now = "2026-11-21T10:00:00Z";
    let seed = |args: &[&str]| seeded(&sb, args, now);
    let date = ["--date", "2026-11-21"];
    insta::assert_snapshot!("release_next_text", seed(&[&["release", "next"][..], &date].concat()).render());
    let tag = [&["--output", "json", "release", "tag", "--sha", SHA][..], &date].concat();
    insta::assert_snapshot!("release_tag_json", seed(&tag).render());
    insta::assert_snapshot!("release_draft_text", seed(&[&["release", "draft"][..], &date].concat()).render());
    insta::assert_snapshot!("release_publish_text", seed(&["release", "publish", "26.11.21.1"]).render());
    insta::assert_snapshot!(
        "release_publish_json",
        seed(&["--output", "json", "release", "publish", "26.11.21.1"]).stdout
    );
}

#[test]
fn journal_commands_say_what_they_did_in_every_document() {
    let sb = Sandbox::new();
    let mut settings = settings(sb.path());
    settings.add_filter(r#""owner": "[^"]*""#, r#""owner": "[host:pid]""#);
    let _guard = settings.bind_to_scope();
    let now = "2026-12-01T10:00:00Z";
    let seed = |args: &[&str], now: &str| {
        let mut c = sb.seed();
        c.arg("journal").args(args);
        shoot(&sb, c, now)
    };
    std::fs::create_dir_all(sb.path().join("exports")).unwrap();
    sb.write("j1.db", vec![7u8; 3 * 1024 * 1024]);
    insta::assert_snapshot!(
        "journal_upload_text",
        seed(&["upload", "j1.db", "--cluster", "dev-modelling"], now).render()
    );
    insta::assert_snapshot!("journal_versions_text", seed(&["versions"], "2026-12-01T12:00:00Z").render());
    insta::assert_snapshot!("journal_versions_json", seed(&["--output", "json", "versions"], now).stdout);
    insta::assert_snapshot!("journal_seed_text", seed(&["seed"], now).render());
    let failing =
        ["watch", "--lane", "dev", "--once", "--exec", "echo loading $STAGEGATE_LANE; echo disk full >&2; exit 3"];
    insta::assert_snapshot!("journal_watch_failed_text", seed(&failing, "2026-12-01T10:05:00Z").render());
    let retry = ["watch", "--lane", "dev", "--once", "--retry-failed", "--exec", "true"];
    insta::assert_snapshot!(
        "journal_watch_retried_json",
        seed(&[&["--output", "json"][..], &retry].concat(), now).render()
    );
    insta::assert_snapshot!("journal_promote_text", seed(&["promote", "--from", "dev", "--to", "qa"], now).render());
    insta::assert_snapshot!("journal_status_text", seed(&["status"], "2026-12-01T10:30:00Z").render());
    insta::assert_snapshot!("journal_status_json", seed(&["--output", "json", "status"], now).stdout);
    let once = ["watch-dir", "exports", "--cluster", "dev-modelling", "--once", "--interval", "100ms"];
    insta::assert_snapshot!("journal_watch_dir_nothing_new_text", seed(&once, now).render());
}

#[test]
fn uploading_a_missing_file_says_no_such_file() {
    let sb = Sandbox::new();
    let mut c = sb.seed();
    c.args(["journal", "upload", "nope.db", "--cluster", "dev-modelling"]);
    let (code, _, err) = crate::support::run(c);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no such file: `nope.db`"), "{err}");
}

#[test]
fn a_logged_warning_under_actions_is_an_annotation() {
    let sb = Sandbox::new();
    let mut c = sb.seed();
    // $GITHUB_OUTPUT names a directory: the outputs cannot be written.
    c.env("GITHUB_ACTIONS", "true").env("GITHUB_OUTPUT", sb.path());
    c.args(["--forge", "local", "release", "next", "--date", "2026-11-21"]);
    let (code, out, err) = crate::support::run(c);
    assert_eq!((code, out.trim()), (0, "26.11.21.1"), "{err}");
    assert!(
        err.lines().any(|l| l == "::warning title=stagegate::cannot open $GITHUB_OUTPUT; output `tag` not set"),
        "{err}"
    );
}

#[test]
fn under_actions_an_import_is_one_group_in_the_log() {
    let sb = Sandbox::new();
    sb.write("j1.db", "journal");
    let journal = |args: &[&str]| {
        let mut c = sb.seed();
        c.env("GITHUB_ACTIONS", "true").arg("journal").args(args);
        crate::support::run(c)
    };
    assert_eq!(journal(&["upload", "j1.db", "--cluster", "dev-modelling"]).0, 0);
    assert_eq!(journal(&["seed"]).0, 0);
    let (code, _, err) = journal(&["watch", "--lane", "dev", "--once", "--exec", "echo loading"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = err.lines().collect();
    let start = lines.iter().position(|l| l.starts_with("::group::import ") && l.ends_with(" into dev: echo loading"));
    let start = start.unwrap_or_else(|| panic!("{err}"));
    assert_eq!(lines[start + 1..start + 3], ["    │ loading", "::endgroup::"], "{err}");
}

#[test]
fn config_commands_read_the_same_in_every_document() {
    let sb = Sandbox::new();
    let settings = settings(sb.path());
    let _guard = settings.bind_to_scope();
    let now = "2026-11-21T10:00:00Z";
    let seed = |args: &[&str]| seeded(&sb, args, now);
    insta::assert_snapshot!("check_text", seed(&["check"]).render());
    insta::assert_snapshot!("check_json", seed(&["--output", "json", "check"]).stdout);
    insta::assert_snapshot!("graph_text", seed(&["graph"]).render());
    insta::assert_snapshot!("graph_mermaid", seed(&["graph", "--format", "mermaid"]).render());
    insta::assert_snapshot!("graph_json", seed(&["--output", "json", "graph"]).stdout);
    insta::assert_snapshot!(
        "can_deploy_text",
        seed(&["can-deploy", "--env", "staging", "--ref", "release/v1"]).render()
    );
    let refused = ["--output", "json", "can-deploy", "--env", "staging", "--ref", "main"];
    insta::assert_snapshot!("can_deploy_refused_json", seed(&refused).render());
    insta::assert_snapshot!("team_text", seed(&["team", "@acme/sre", "--add", "alice", "bob"]).render());
    insta::assert_snapshot!("team_json", seed(&["--output", "json", "team", "@acme/sre"]).stdout);
    let gate = ["gate", "--env", "staging", "--run-id", "7", "--actor", "mallory"];
    insta::assert_snapshot!("gate_text", seed(&gate).render());
    insta::assert_snapshot!("gate_json", seed(&[&["--output", "json"][..], &gate].concat()).stdout);
    insta::assert_snapshot!("environments_diff_text", seed(&["environments", "diff"]).render());
    insta::assert_snapshot!("environments_sync_text", seed(&["environments", "sync"]).render());
    insta::assert_snapshot!("environments_diff_json", seed(&["--output", "json", "environments", "diff"]).render());
}

/// `plan`, `approve` and `init --check` as they print today (their output is
/// being reworked elsewhere: re-bless with `INSTA_UPDATE=always` after a
/// deliberate change).
#[test]
fn plan_approve_and_init_check_read_the_same_in_every_document() {
    let sb = story();
    let settings = settings(sb.path());
    let _guard = settings.bind_to_scope();
    let now = "2026-12-01T10:00:00Z";
    let sg = |args: &[&str]| shoot(&sb, sb.sg(args), now);
    let deploy = ["deploy", "--env", "dev", "--ref", "release/v1", "--release", "1.0.0", "--sha", SHA];
    assert_eq!(sg(&deploy).code, 0);
    let plan = ["plan", "--from", "dev", "--to", "staging", "--release", "1.0.0"];
    insta::assert_snapshot!("plan_text", sg(&plan).render());
    insta::assert_snapshot!("plan_json", sg(&[&["--output", "json"][..], &plan].concat()).stdout);
    let approve = ["approve", "--env", "prod", "--as", "alice", "--run-id", "7"];
    insta::assert_snapshot!("approve_text", sg(&approve).render());
    insta::assert_snapshot!("approve_json", sg(&[&["--output", "json"][..], &approve].concat()).stdout);
    let check = ["init", "--check", "--dir", "."];
    insta::assert_snapshot!("init_check_json", sg(&[&["--output", "json"][..], &check].concat()).render());
}
