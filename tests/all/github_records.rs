//! What GitHub receives and shows, against the GitHub test server behind
//! Prism: deployment statuses carry the environment's URL and the run's page
//! (`environment_url`, `log_url`), a refusal names who can review and links
//! the run's review page, and `plan` checks the release on GitHub.

use crate::release::SENTINEL;
use crate::support::github::github;
use crate::support::{Sandbox, run, run_json};

const CONFIG: &str = "version: 1\nenvironments:\n  active: { branches: [\"release/*\"] }\n  staging:\n    branches: [\"release/*\"]\n    url: https://staging.example.com\n    approvals: { required: 1, reviewers: [\"@carol\", \"@acme/eng-managers\"] }\npromotions:\n  - { from: active, to: staging }\n";

/// `stagegate -c c.yml ARGS` as run `run_id` of `repo`, started by eve, on
/// a GitHub Enterprise server.
fn on_github(sb: &Sandbox, repo: &str, run_id: &str, args: &[&str]) -> assert_cmd::Command {
    let cfg = sb.write("c.yml", CONFIG);
    let mut c = sb.cmd();
    c.env("GITHUB_API_URL", &github().url)
        .env("GITHUB_SERVER_URL", "https://github.example.com")
        .env("GITHUB_TOKEN", SENTINEL)
        .env("GITHUB_REPOSITORY", repo)
        .env("GITHUB_RUN_ID", run_id)
        .env("GITHUB_ACTOR", "eve")
        .args(["--forge", "github", "-c"])
        .arg(cfg)
        .args(args);
    c
}

fn deploy_active(sb: &Sandbox, repo: &str, release: &str) {
    let args = ["deploy", "--env", "active", "--ref", "refs/heads/release/v1", "--release", release];
    let (code, out, err) = run(on_github(sb, repo, "200", &args));
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn deployment_statuses_carry_the_environment_url_and_the_run_page() {
    let h = github();
    let r = h.repo("records-urls");
    let sb = Sandbox::new();
    deploy_active(&sb, &r, "26.12.01.1");
    h.review(&r, "201", &["staging"], "carol", false, true);
    let promote = ["promote", "--from", "active", "--to", "staging", "--release", "26.12.01.1"];
    let (code, out, err) = run(on_github(&sb, &r, "201", &promote));
    assert_eq!(code, 0, "{out}{err}");

    let statuses = h.status_records(&r);
    let staging: Vec<_> = statuses.iter().filter(|s| s["environment"] == "staging").collect();
    assert_eq!(staging.len(), 2, "in_progress and success: {statuses:#?}");
    for s in staging {
        assert_eq!(s["environment_url"], "https://staging.example.com", "{s:#}");
        assert_eq!(s["log_url"], format!("https://github.example.com/{r}/actions/runs/201"), "{s:#}");
    }
    // active has no `url:`: GitHub gets none.
    let active = statuses.iter().find(|s| s["environment"] == "active").unwrap();
    assert!(active["environment_url"].is_null(), "{active:#}");
    assert_eq!(active["log_url"], format!("https://github.example.com/{r}/actions/runs/200"));
    let v = h.schema_violations(&r);
    assert!(v.is_empty(), "Prism: {v:#?}");
}

#[test]
fn a_refusal_on_github_names_the_reviewers_and_links_the_review_page() {
    let h = github();
    h.set_team("acme/eng-managers", &["carol"]);
    let r = h.repo("records-refusal");
    let sb = Sandbox::new();
    deploy_active(&sb, &r, "26.12.01.1");
    let promote = ["promote", "--from", "active", "--to", "staging", "--release", "26.12.01.1"];
    let (code, json, err) = run_json(on_github(&sb, &r, "202", &promote));
    assert_eq!(code, 3, "{json:#}\n{err}");
    let message = json["refusal"]["message"].as_str().unwrap();
    assert!(
        message.ends_with(&format!(
            "reviewers @carol, @acme/eng-managers can review the deployment at https://github.example.com/{r}/actions/runs/202"
        )),
        "{message}"
    );
    assert!(!err.contains(SENTINEL));
}

#[test]
fn plan_checks_the_release_on_github() {
    let h = github();
    let r = h.repo("records-plan");
    let sb = Sandbox::new();
    deploy_active(&sb, &r, "26.12.01.1");
    deploy_active(&sb, &r, "26.12.01.2");
    let plan = |release: &str| {
        let args = ["plan", "--from", "active", "--to", "staging", "--release", release];
        run_json(on_github(&sb, &r, "203", &args))
    };
    let (code, json, err) = plan("26.12.01.1");
    assert_eq!(code, 3, "{json:#}\n{err}");
    assert_eq!(json["codes"], serde_json::json!(["stagegate::refused::not_current"]));
    let (code, json, _) = plan("26.12.01.2");
    assert_eq!(code, 0, "{json:#}");
    assert_eq!((json["approvals_pending"].as_u64(), json["ref"].as_str()), (Some(1), Some("refs/heads/release/v1")));
    let v = h.schema_violations(&r);
    assert!(v.is_empty(), "Prism: {v:#?}");
}

#[test]
fn history_on_github_lists_who_the_gate_counted() {
    let h = github();
    let r = h.repo("records-verdict");
    let sb = Sandbox::new();
    deploy_active(&sb, &r, "26.12.01.1");
    h.review(&r, "204", &["staging"], "eve", false, true);
    h.review(&r, "204", &["staging"], "deploy-robot", true, true);
    h.review(&r, "204", &["staging"], "carol", false, true);
    let promote = ["promote", "--from", "active", "--to", "staging", "--release", "26.12.01.1"];
    let (code, out, err) = run(on_github(&sb, &r, "204", &promote));
    assert_eq!(code, 0, "{out}{err}");

    let (code, json, err) = run_json(on_github(&sb, &r, "205", &["history", "--env", "staging"]));
    assert_eq!(code, 0, "{err}");
    let d = &json["deployments"][0];
    assert_eq!(d["approved_by"], serde_json::json!(["carol"]), "{json:#}");
    let whys: Vec<&str> =
        d["verdict"]["not_counted"].as_array().unwrap().iter().map(|r| r["why"].as_str().unwrap()).collect();
    assert_eq!(whys, ["self_review", "bot"], "{json:#}");
    // What GitHub holds: the verdict travels in the deployment's payload.
    let (created, _) = h.deployments(&r).into_iter().find(|(d, _)| d["environment"] == "staging").unwrap();
    assert_eq!(created["payload"]["stagegate"]["verdict"]["approvers"][0]["user"], "carol");
    let v = h.schema_violations(&r);
    assert!(v.is_empty(), "Prism: {v:#?}");
}

#[test]
fn a_hostile_verdict_in_a_deployment_payload_is_not_read() {
    let h = github();
    let r = h.repo("records-hostile");
    let record = |verdict: serde_json::Value| {
        serde_json::json!({"ref": "refs/heads/release/v1", "environment": "staging", "description": "x", "payload": {"stagegate": {
            "environment": "staging", "release": "26.12.09.1", "ref": "refs/heads/release/v1", "sha": null,
            "creator": "mallory", "description": "x", "run_id": "9", "from": "active", "rollback_of": null,
            "at": "2026-12-01T10:00:00Z", "verdict": verdict
        }}})
    };
    let counted = |user: &str| serde_json::json!({"user": user, "environment": "staging", "why": "listed_reviewer"});
    let hostile = [
        serde_json::json!({"required": 1, "approvers": [counted("carol\n::error::pwned")]}),
        serde_json::json!({"required": 1, "approvers": [counted("carol\u{202e}lorac")]}),
        serde_json::json!({"required": 1, "approvers": vec![counted("carol"); 51]}),
        serde_json::json!({"required": 1, "approvers": [counted(&"c".repeat(5000))]}),
        serde_json::json!({"required": 1, "approvers": "carol"}),
    ];
    for v in &hostile {
        h.add_deployment(&r, &record(v.clone()), "mallory");
    }
    let sb = Sandbox::new();
    let (code, json, err) = run_json(on_github(&sb, &r, "206", &["history", "--env", "staging"]));
    assert_eq!(code, 0, "{err}");
    let deps = json["deployments"].as_array().unwrap();
    assert_eq!(deps.len(), hostile.len(), "{json:#}");
    for d in deps {
        // The rest of the record is read; its verdict is unknown.
        assert_eq!((d["release"].as_str(), d["from"].as_str()), (Some("26.12.09.1"), Some("active")), "{d:#}");
        assert!(d["approved_by"].is_null() && d["verdict"].is_null(), "{d:#}");
    }
    let (code, out, err) = run(on_github(&sb, &r, "206", &["history", "--env", "staging"]));
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("carol") && !out.lines().any(|l| l.starts_with("::")), "{out}");
    assert_eq!(out.lines().filter(|l| l.trim_end().ends_with("unknown")).count(), hostile.len(), "{out}");
}
