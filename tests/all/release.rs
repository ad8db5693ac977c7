//! `stagegate release …` against the GitHub test server, every request
//! validated by Prism against GitHub's OpenAPI description.

use std::process::Stdio;

use axum::http::Method;

use crate::support::github::{Fault, github};
use crate::support::{Sandbox, run, run_json};

/// Set as the token in every test that talks to a forge: it must never show.
pub const SENTINEL: &str = "ghs_SENTINEL_d0n0tpr1nt_4f9a";
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn gh(sb: &Sandbox, repo: &str) -> assert_cmd::Command {
    assert_cmd::Command::from_std(gh_std(sb, repo))
}

fn gh_std(sb: &Sandbox, repo: &str) -> std::process::Command {
    let mut c = sb.std_seed();
    c.env("GITHUB_API_URL", &github().url)
        .env("GITHUB_TOKEN", SENTINEL)
        .env("GITHUB_REPOSITORY", repo)
        .env("GITHUB_RUN_ID", "4242")
        .args(["--forge", "github"]);
    c
}

fn assert_clean(repo: &str) {
    let v = github().violations(repo);
    assert!(v.is_empty(), "Prism reported violations for {repo}: {v:#?}");
}

fn no_sentinel(texts: &[&str]) {
    for t in texts {
        for line in t.lines() {
            assert!(!line.contains(SENTINEL) || line.starts_with("::add-mask::"), "the token leaked: {line}");
        }
    }
}

#[test]
fn next_tag_follows_the_existing_tags_of_the_day() {
    let h = github();
    let repo = h.repo("next");
    h.seed_tags(&repo, &["26.11.21.1", "26.11.21.2", "26.11.21.9", "26.11.20.14", "v26.11.21.50"]);
    let sb = Sandbox::new();
    let mut c = gh(&sb, &repo);
    c.args(["release", "next", "--date", "2026-11-21"]);
    let (code, json, err) = run_json(c);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json, serde_json::json!({"tag": "26.11.21.10", "version": "26.11.21.10"}));
    assert_eq!(h.calls(&repo), ["GET git/matching-refs/tags/26.11.21."]);
    assert_clean(&repo);
    no_sentinel(&[&err]);
}

#[test]
fn tag_creates_an_annotated_tag_and_writes_outputs() {
    let h = github();
    let repo = h.repo("tag");
    h.seed_tags(&repo, &["26.11.21.1"]);
    let sb = Sandbox::new();
    let outputs = sb.write("out.txt", "");
    let mut c = gh(&sb, &repo);
    c.env("GITHUB_OUTPUT", &outputs).args(["release", "tag", "--sha", SHA, "--date", "2026-11-21"]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("tagged 26.11.21.2"), "{out}");
    assert_eq!(h.tags(&repo), ["26.11.21.1", "26.11.21.2"]);
    let o = std::fs::read_to_string(&outputs).unwrap();
    let parsed = crate::support::outputs(&outputs);
    assert_eq!(parsed, crate::support::pairs(&[("tag", "26.11.21.2"), ("version", "26.11.21.2")]), "{o}");
    assert_clean(&repo);
    no_sentinel(&[&out, &err, &o]);
}

#[test]
fn ten_concurrent_tag_runs_get_ten_consecutive_tags() {
    let h = github();
    let repo = h.repo("race");
    let sb = Sandbox::new();
    let children: Vec<_> = (0..10)
        .map(|_| {
            let mut c = gh_std(&sb, &repo);
            c.args(["--output", "json", "release", "tag", "--sha", SHA, "--date", "2026-11-21"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    let mut tags: Vec<String> = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        tags.push(v["tag"].as_str().unwrap().to_owned());
        no_sentinel(&[&String::from_utf8_lossy(&out.stderr)]);
    }
    tags.sort_by_key(|t| t.rsplit('.').next().unwrap().parse::<u32>().unwrap());
    let want: Vec<String> = (1..=10).map(|i| format!("26.11.21.{i}")).collect();
    assert_eq!(tags, want);
    let mut on_server = h.tags(&repo);
    on_server.sort_by_key(|t| t.rsplit('.').next().unwrap().parse::<u32>().unwrap());
    assert_eq!(on_server, want, "no tag was created twice or lost");
    assert_clean(&repo);
}

#[test]
fn rerunning_draft_makes_no_second_draft_and_publish_is_idempotent() {
    let h = github();
    let repo = h.repo("draft");
    h.seed_tags(&repo, &["26.11.21.1", "26.11.21.2"]);
    let sb = Sandbox::new();
    let mut c = gh(&sb, &repo);
    c.args(["release", "draft", "--date", "2026-11-21"]);
    let (code, first, err) = run_json(c);
    assert_eq!(code, 0, "{err}");
    assert_eq!(first["tag"], "26.11.21.2");
    assert_eq!(first["created"], true);
    assert_eq!(first["draft"], true);

    let mut c = gh(&sb, &repo);
    c.args(["release", "draft", "--tag", "26.11.21.2"]);
    let (code, second, _) = run_json(c);
    assert_eq!(code, 0);
    assert_eq!(second["created"], false);
    assert_eq!(second["id"], first["id"]);
    assert_eq!(h.releases(&repo).len(), 1, "a rerun must not create a second draft");
    assert_eq!(
        h.releases(&repo)[0]["body"].as_str().map(|b| b.contains("What's Changed")),
        Some(true),
        "notes generated"
    );

    for expect in ["published", "already published"] {
        let mut c = gh(&sb, &repo);
        c.args(["release", "publish", "26.11.21.2"]);
        let (code, out, err) = run(c);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(&format!("✓ {expect} 26.11.21.2")), "{out}");
    }
    assert_eq!(h.releases(&repo)[0]["draft"], false);
    let patches = h.calls(&repo).iter().filter(|c| c.starts_with("PATCH")).count();
    assert_eq!(patches, 1, "publishing twice patches once");
    assert_clean(&repo);
}

#[test]
fn server_errors_are_retried_within_bounds_and_not_duplicated() {
    let h = github();
    let repo = h.repo("flaky");
    let sb = Sandbox::new();
    let bad_gateway = Fault { status: 502, retry_after: None, message: "Server Error", method: Some(Method::POST) };
    h.inject(&repo, bad_gateway.clone(), 2);
    let mut c = gh(&sb, &repo);
    c.args(["release", "tag", "--sha", SHA, "--date", "2026-11-21"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 0, "{err}");
    assert_eq!(h.tags(&repo), ["26.11.21.1"]);
    assert!(err.contains("retrying"), "retries are logged: {err}");

    // A GitHub that keeps failing: bounded attempts, exit 1, a message that says why.
    h.inject(&repo, bad_gateway, 50);
    let before = h.calls(&repo).len();
    let mut c = gh(&sb, &repo);
    c.args(["release", "tag", "--sha", SHA, "--date", "2026-11-21"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 1);
    assert!(err.contains("502"), "{err}");
    let posts = h.calls(&repo)[before..].iter().filter(|c| c.starts_with("POST")).count();
    assert_eq!(posts, 5, "one attempt plus four retries");
    assert_eq!(h.tags(&repo), ["26.11.21.1"], "nothing half-created");
    assert!(h.schema_violations(&repo).is_empty(), "{:#?}", h.schema_violations(&repo));
    no_sentinel(&[&err]);
}

#[test]
fn secondary_rate_limits_wait_for_retry_after() {
    let h = github();
    let repo = h.repo("limited");
    let sb = Sandbox::new();
    let limit = Fault {
        status: 403,
        retry_after: Some(1),
        message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        method: None,
    };
    h.inject(&repo, limit.clone(), 1);
    let mut c = gh(&sb, &repo);
    c.args(["release", "next", "--date", "2026-11-21"]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "26.11.21.1");
    assert!(err.contains("waiting 1 s"), "{err}");
    assert_eq!(h.calls(&repo).len(), 2);
    assert!(h.schema_violations(&repo).is_empty());
}

#[test]
fn permission_errors_say_what_to_do() {
    let h = github();
    let repo = h.repo("denied");
    let sb = Sandbox::new();
    h.inject(
        &repo,
        Fault {
            status: 403,
            retry_after: None,
            message: "Resource not accessible by integration",
            method: Some(Method::POST),
        },
        1,
    );
    let mut c = gh(&sb, &repo);
    c.args(["release", "tag", "--sha", SHA, "--date", "2026-11-21"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 1);
    assert!(err.contains("403") && err.contains("contents: write"), "{err}");
    assert_eq!(h.calls(&repo).iter().filter(|c| c.starts_with("POST")).count(), 1, "a plain 403 is not retried");
}

#[test]
fn the_token_is_masked_under_actions_and_never_printed() {
    let h = github();
    let repo = h.repo("mask");
    let sb = Sandbox::new();
    let outputs = sb.write("out.txt", "");
    let summary = sb.write("summary.md", "");
    let mut c = gh(&sb, &repo);
    c.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("STAGEGATE_LOG", "debug")
        .args(["release", "tag", "--sha", SHA, "--date", "2026-11-21"]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().any(|l| l == format!("::add-mask::{SENTINEL}")), "{out}");
    let o = std::fs::read_to_string(outputs).unwrap();
    let s = std::fs::read_to_string(summary).unwrap();
    no_sentinel(&[&out, &err, &o, &s]);
    assert!(!o.contains(SENTINEL) && !s.contains(SENTINEL) && !err.contains(SENTINEL));
}

#[test]
fn help_never_shows_the_token() {
    let sb = Sandbox::new();
    let mut c = sb.cmd();
    c.env("GITHUB_TOKEN", SENTINEL).arg("--help");
    let (code, out, _) = run(c);
    assert_eq!(code, 0);
    assert!(!out.contains(SENTINEL));
}

#[test]
fn github_forge_needs_a_token_and_a_repository() {
    let sb = Sandbox::new();
    let mut c = sb.seed();
    c.env("GITHUB_REPOSITORY", "acme/app").args(["--forge", "github", "release", "next"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 2);
    assert!(err.contains("no GitHub token"), "{err}");
    let mut c = sb.seed();
    c.env("GITHUB_TOKEN", SENTINEL).args(["--forge", "github", "release", "next"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 2);
    assert!(err.contains("GITHUB_REPOSITORY"), "{err}");
    no_sentinel(&[&err]);
}

#[test]
fn the_local_forge_runs_the_same_lifecycle_offline() {
    let sb = Sandbox::new();
    for (args, want) in [
        (vec!["release", "tag", "--sha", SHA, "--date", "2026-01-05"], "26.01.05.1"),
        (vec!["release", "tag", "--sha", SHA, "--date", "2026-01-05"], "26.01.05.2"),
        (vec!["release", "next", "--date", "2026-01-05"], "26.01.05.3"),
    ] {
        let mut c = sb.seed();
        c.args(&args);
        let (code, json, _) = run_json(c);
        assert_eq!(code, 0);
        assert_eq!(json["tag"], want);
    }
    let mut c = sb.seed();
    c.args(["release", "draft", "--date", "2026-01-05"]);
    let (_, draft, _) = run_json(c);
    assert_eq!((draft["tag"].as_str(), draft["draft"].as_bool()), (Some("26.01.05.2"), Some(true)));
    let mut c = sb.seed();
    c.args(["release", "draft", "--tag", "26.01.05.2"]);
    assert_eq!(run_json(c).1["created"], false);
    let mut c = sb.seed();
    c.args(["release", "publish", &draft["id"].to_string()]);
    let (code, published, _) = run_json(c);
    assert_eq!(code, 0);
    assert_eq!(published["draft"], false);
    let mut c = sb.seed();
    c.args(["release", "next", "--date", "2026-01-05"]);
    let (_, _, err) = run(c);
    assert!(err.contains("warning: 26.01.05.3 is zero-padded calver, not valid semver"), "flagged: {err}");
    // Under Actions the warning is an annotation of the run.
    let mut c = sb.seed();
    c.env("GITHUB_ACTIONS", "true").args(["--forge", "local", "release", "next", "--date", "2026-01-05"]);
    let (_, out, err) = run(c);
    assert_eq!(out.trim(), "26.01.05.3");
    assert!(
        err.lines().any(|l| l.starts_with("::warning title=stagegate release next::26.01.05.3 is zero-padded calver")),
        "{err}"
    );
}

#[test]
fn dry_run_tags_nothing() {
    let h = github();
    let repo = h.repo("dry");
    let sb = Sandbox::new();
    let mut c = gh(&sb, &repo);
    c.args(["--dry-run", "release", "tag", "--sha", SHA, "--date", "2026-11-21"]);
    let (code, out, _) = run(c);
    assert_eq!(code, 0);
    assert!(out.contains("would create tag `26.11.21.1`"), "{out}");
    assert!(h.tags(&repo).is_empty());
    assert!(h.calls(&repo).iter().all(|c| c.starts_with("GET")));
}

#[test]
fn a_429_on_a_mutation_waits_and_creates_exactly_once() {
    let h = github();
    let repo = h.repo("throttled");
    let sb = Sandbox::new();
    let throttled =
        Fault { status: 429, retry_after: Some(1), message: "API rate limit exceeded", method: Some(Method::POST) };
    h.inject(&repo, throttled, 2);
    let mut c = gh(&sb, &repo);
    c.args(["release", "tag", "--sha", SHA, "--date", "2026-11-21"]);
    let (code, _, err) = run(c);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("waiting 1 s"), "{err}");
    assert_eq!(h.tags(&repo), ["26.11.21.1"], "exactly one tag");
    let refs_created = h.calls(&repo).iter().filter(|c| *c == "POST git/refs").count();
    assert_eq!(refs_created, 1, "the ref was created once: {:?}", h.calls(&repo));
    assert!(h.schema_violations(&repo).is_empty());
}

/// `STAGEGATE_NOW` is the one clock: the calver date of a tag and
/// the times the local forge records follow it, like freeze windows do.
#[test]
fn the_fixed_clock_dates_tags_and_records() {
    let sb = Sandbox::new();
    let mut c = sb.seed();
    c.env("STAGEGATE_NOW", "2027-03-04T12:00:00Z").args(["release", "tag", "--sha", SHA]);
    let (code, json, err) = run_json(c);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json["tag"], "27.03.04.1");
    let mut c = sb.seed();
    c.env("STAGEGATE_NOW", "2027-03-04T12:00:00Z").args(["release", "draft", "--tag", "27.03.04.1"]);
    let (code, _, err) = run_json(c);
    assert_eq!(code, 0, "{err}");
    let forge = std::fs::read_to_string(sb.path().join(".stagegate/forge.json")).unwrap();
    assert!(forge.contains("2027-03-04T12:00:00Z"), "{forge}");
    assert!(!forge.contains(&chrono::Utc::now().format("%Y-%m-%dT%H").to_string()), "{forge}");
}

/// A tag anyone can push, `v18446744073709551615.0.0`, leaves no next major
/// version: exit 2 and a message, never a wrapped `0.0.0`.
#[test]
fn a_semver_tag_at_the_largest_version_has_no_next_one() {
    let sb = Sandbox::new();
    let cfg =
        sb.write("semver.yml", "version: 1\nrelease: { scheme: semver, tag_prefix: v }\nenvironments:\n  dev: {}\n");
    let tag = r#"{"name": "v18446744073709551615.0.0", "commit": "0123456789abcdef0123456789abcdef01234567",
        "message": "x", "nonce": "n", "created_at": "2026-01-01T00:00:00Z"}"#;
    let forge =
        format!(r#"{{"approvals": [], "tags": [{tag}], "releases": [], "next_release_id": 0, "environments": {{}}}}"#);
    sb.write(".stagegate/forge.json", forge);
    let next = |bump: &str| {
        let mut c = sb.cmd();
        c.arg("-c").arg(&cfg).args(["--forge", "local", "release", "next", "--bump", bump]);
        run(c)
    };
    let (code, out, err) = next("major");
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty(), "no version printed: {out}");
    assert!(err.contains("has the largest major version a semver"), "{err}");
    let (code, out, err) = next("minor");
    assert_eq!((code, out.trim()), (0, "v18446744073709551615.1.0"), "{err}");
}

#[test]
fn draft_without_a_tag_takes_the_days_newest_build_not_the_last_in_string_order() {
    let sb = Sandbox::new();
    for _ in 0..10 {
        let mut c = sb.seed();
        c.args(["release", "tag", "--sha", SHA, "--date", "2026-01-05"]);
        assert_eq!(run_json(c).0, 0);
    }
    let mut c = sb.seed();
    c.args(["release", "draft", "--date", "2026-01-05"]);
    let (code, draft, err) = run_json(c);
    assert_eq!(code, 0, "{err}");
    assert_eq!(draft["tag"], "26.01.05.10", "26.01.05.9 sorts after .10 as text but is older");
}
