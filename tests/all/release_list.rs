//! `release list` and `release view`: releases, drafts included, and where
//! each runs now — on the local forge and on the GitHub test server.

use crate::release::SENTINEL;
use crate::support::github::github;
use crate::support::{SHORT_TIMEOUTS, Sandbox, run, run_json};

#[test]
fn release_list_and_view_say_where_each_release_runs() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    let ok = |args: &[&str]| {
        let (code, out, err) = run(sb.sg(args));
        assert_eq!(code, 0, "{args:?}: {out}{err}");
    };
    ok(&["release", "draft", "--tag", "1.0.0", "--target", "main"]);
    ok(&["release", "publish", "1.0.0"]);
    ok(&["release", "draft", "--tag", "1.1.0", "--target", "main"]);
    ok(&["deploy", "--env", "dev", "--ref", "release/v1", "--release", "1.0.0"]);
    ok(&["promote", "--from", "dev", "--to", "staging", "--release", "1.0.0", "--run-id", "1"]);
    ok(&["deploy", "--env", "dev", "--ref", "release/v1", "--release", "1.1.0"]);

    let (code, json, err) = run_json(sb.sg(&["release", "list"]));
    assert_eq!(code, 0, "{err}");
    let rows: Vec<(&str, bool, bool, serde_json::Value)> = json["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let published = r["published_at"].is_string();
            (r["tag"].as_str().unwrap(), r["draft"].as_bool().unwrap(), published, r["environments"].clone())
        })
        .collect();
    assert_eq!(
        rows,
        [("1.1.0", true, false, serde_json::json!(["dev"])), ("1.0.0", false, true, serde_json::json!(["staging"])),],
        "{json:#}"
    );
    let (code, out, _) = run(sb.sg(&["release", "list"]));
    assert_eq!(code, 0);
    let line = out.lines().find(|l| l.starts_with("1.1.0")).unwrap_or_default();
    assert!(line.contains("draft") && line.trim_end().ends_with("dev"), "{out}");

    let (code, json, err) = run_json(sb.sg(&["release", "view", "1.0.0"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(json["environments"], serde_json::json!(["staging"]), "{json:#}");
    let deployed: Vec<&str> =
        json["deployments"].as_array().unwrap().iter().map(|d| d["environment"].as_str().unwrap()).collect();
    assert_eq!(deployed, ["staging", "dev"], "the dev deployment was replaced, and is still its history");
    let (code, out, _) = run(sb.sg(&["release", "view", "1.1.0"]));
    assert_eq!(code, 0);
    assert!(out.contains("runs in    dev") && out.contains("draft"), "{out}");
    let (code, _, err) = run(sb.sg(&["release", "view", "9.9.9"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("release `9.9.9` not found") && err.contains("release list"), "{err}");
    let (code, _, err) = run(sb.sg(&["release", "view", "../x"]));
    assert_eq!(code, 2, "{err}");
}

#[test]
fn release_list_on_github_reads_releases_and_every_environment_in_two_requests() {
    let h = github();
    let r = h.repo("release-list");
    h.seed_tags(&r, &["26.12.01.1", "26.12.01.2"]);
    let sb = Sandbox::new();
    let cfg = sb.write(
        "c.yml",
        "version: 1\nenvironments:\n  active: { branches: [main] }\n  staging: { branches: [main] }\n  prod: { branches: [main] }\n",
    );
    let gh = |args: &[&str]| {
        let mut c = sb.cmd();
        c.env("GITHUB_API_URL", &h.url)
            .env("GITHUB_TOKEN", SENTINEL)
            .env("GITHUB_REPOSITORY", &r)
            .args(["--forge", "github", "-c"])
            .arg(&cfg)
            .args(args);
        c
    };
    for args in [
        &["release", "draft", "--tag", "26.12.01.1"][..],
        &["release", "publish", "26.12.01.1"],
        &["release", "draft", "--tag", "26.12.01.2"],
    ] {
        let (code, out, err) = run(gh(args));
        assert_eq!(code, 0, "{args:?}: {out}{err}");
    }
    let day = chrono::Duration::days(1);
    let one = |n: &str| vec![n.to_string()];
    h.seed_history(&r, "staging", &one("26.12.01.1"), "2026-12-01T10:00:00Z", day);
    h.seed_history(&r, "prod", &one("26.12.01.1"), "2026-12-01T11:00:00Z", day);
    h.seed_history(&r, "active", &one("26.12.01.2"), "2026-12-01T12:00:00Z", day);

    let before = h.calls(&r).len();
    let (code, json, err) = run_json(gh(&["release", "list"]));
    assert_eq!(code, 0, "{err}");
    let calls = h.calls(&r)[before..].to_vec();
    assert_eq!(calls.len(), 2, "{calls:?}");
    let envs: Vec<(&str, &serde_json::Value)> =
        json["releases"].as_array().unwrap().iter().map(|r| (r["tag"].as_str().unwrap(), &r["environments"])).collect();
    assert_eq!(
        envs,
        [("26.12.01.2", &serde_json::json!(["active"])), ("26.12.01.1", &serde_json::json!(["staging", "prod"]))],
        "{json:#}"
    );
    let id = json["releases"][1]["id"].as_u64().unwrap().to_string();
    let (code, json, err) = run_json(gh(&["release", "view", &id]));
    assert_eq!(code, 0, "{err}");
    assert_eq!((json["tag"].as_str(), json["draft"].as_bool()), (Some("26.12.01.1"), Some(false)), "{json:#}");
    assert_eq!(json["deployments"].as_array().unwrap().len(), 2, "{json:#}");
    let v = h.violations(&r);
    assert!(v.is_empty(), "{v:#?}");
}
