//! `gate` and the deployment records against the GitHub test server behind
//! Prism: GitHub's review history of a run, team membership, deployments.

use crate::release::SENTINEL;
use crate::support::github::github;
use crate::support::{Sandbox, run, run_json};

fn gh(sb: &Sandbox, repo: &str, run_id: &str, actor: &str) -> assert_cmd::Command {
    let mut c = sb.seed();
    gh_env(&mut c, repo, run_id, actor);
    c
}

fn gh_env(c: &mut assert_cmd::Command, repo: &str, run_id: &str, actor: &str) {
    c.env("GITHUB_API_URL", &github().url)
        .env("GITHUB_TOKEN", SENTINEL)
        .env("GITHUB_REPOSITORY", repo)
        .env("GITHUB_RUN_ID", run_id)
        .env("GITHUB_ACTOR", actor)
        .args(["--forge", "github"]);
}

/// A repository whose organisation has the seed config's reviewer teams.
fn repo(name: &str) -> String {
    let h = github();
    h.set_team("acme/senior-engineers", &["alice", "bob"]);
    h.set_team("acme/eng-managers", &["carol"]);
    h.set_team("acme/sre", &["dave"]);
    h.repo(name)
}

/// Two environments, `active → staging`, staging behind one approval.
const ACTIVE_STAGING: &str = "version: 1\nenvironments:\n  active: { branches: [\"release/*\"] }\n  staging:\n    branches: [\"release/*\"]\n    approvals: { required: 1, reviewers: [\"@acme/eng-managers\"] }\npromotions:\n  - { from: active, to: staging }\n";

/// `stagegate -c CONFIG ARGS` as run `run_id` of `repo`, started by eve.
fn on_github(sb: &Sandbox, cfg: &std::path::Path, repo: &str, run_id: &str, args: &[&str]) -> (i32, String, String) {
    let mut c = sb.cmd();
    gh_env(&mut c, repo, run_id, "eve");
    c.arg("-c").arg(cfg).args(args);
    run(c)
}

fn gate(repo: &str, actor: &str, extra_env: &[(&str, &str)]) -> (i32, serde_json::Value) {
    let sb = Sandbox::new();
    let mut c = gh(&sb, repo, "77", actor);
    for (k, v) in extra_env {
        c.env(k, v);
    }
    c.args(["gate", "--env", "prod"]);
    let (code, json, err) = run_json(c);
    assert!(!err.contains(SENTINEL));
    let v = github().schema_violations(repo);
    assert!(v.is_empty(), "Prism: {v:#?}");
    (code, json)
}

#[test]
fn two_distinct_reviewers_pass_prod() {
    let h = github();
    let r = repo("gate-ok");
    h.review(&r, "77", &["prod-approval-1"], "alice", false, true);
    h.review(&r, "77", &["prod"], "carol", false, true);
    let (code, v) = gate(&r, "eve", &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!((v["passed"].as_bool(), v["counted"].as_u64()), (Some(true), Some(2)));
}

#[test]
fn one_reviewer_approving_twice_counts_once() {
    let h = github();
    let r = repo("gate-twice");
    h.review(&r, "77", &["prod-approval-1"], "alice", false, true);
    h.review(&r, "77", &["prod"], "alice", false, true);
    let (code, v) = gate(&r, "eve", &[]);
    assert_eq!(code, 3, "{v:#}");
    assert_eq!(v["counted"], 1);
}

#[test]
fn the_actor_the_triggering_actor_and_bots_never_count() {
    let h = github();
    let r = repo("gate-self");
    h.review(&r, "77", &["prod-approval-1"], "alice", false, true);
    h.review(&r, "77", &["prod"], "carol", false, true);
    assert_eq!(gate(&r, "alice", &[]).0, 3, "alice started the run");
    assert_eq!(gate(&r, "eve", &[("GITHUB_TRIGGERING_ACTOR", "carol")]).0, 3, "carol re-ran it");

    let r = repo("gate-bot");
    h.review(&r, "77", &["prod-approval-1"], "release-bot[bot]", true, true);
    h.review(&r, "77", &["prod"], "carol", false, true);
    let (code, v) = gate(&r, "eve", &[]);
    assert_eq!(code, 3);
    let why: Vec<String> = v["reviews"].as_array().unwrap().iter().map(|r| r.to_string()).collect();
    assert!(why.iter().any(|w| w.contains("release-bot[bot]") && w.to_lowercase().contains("bot")), "{why:#?}");
}

#[test]
fn team_members_count_and_others_do_not() {
    let h = github();
    let r = repo("gate-team");
    h.review(&r, "77", &["prod-approval-1"], "mallory", false, true);
    h.review(&r, "77", &["prod"], "dave", false, true);
    let (code, v) = gate(&r, "eve", &[]);
    assert_eq!(code, 3, "mallory is in none of the reviewer teams: {v:#}");
    h.review(&r, "77", &["prod-approval-1"], "bob", false, true);
    assert_eq!(gate(&r, "eve", &[]).0, 0, "bob (senior-engineers) and dave (sre)");
}

#[test]
fn a_rejection_fails_the_gate() {
    let h = github();
    let r = repo("gate-reject");
    h.review(&r, "77", &["prod-approval-1"], "alice", false, true);
    h.review(&r, "77", &["prod"], "carol", false, false);
    h.review(&r, "77", &["prod"], "dave", false, true);
    assert_eq!(gate(&r, "eve", &[]).0, 3);
}

#[test]
fn deployments_and_statuses_are_recorded_on_github() {
    let h = github();
    let r = repo("deploys");
    let sb = Sandbox::new();
    let cfg = sb.write("c.yml", ACTIVE_STAGING);
    let step = |run_id: &str, args: &[&str]| on_github(&sb, &cfg, &r, run_id, args);
    for (run_id, release) in [("100", "26.11.21.1"), ("101", "26.11.21.2")] {
        let (code, _, err) =
            step(run_id, &["deploy", "--env", "active", "--ref", "refs/heads/release/v1", "--release", release]);
        assert_eq!(code, 0, "{err}");
    }
    h.review(&r, "102", &["staging"], "carol", false, true);
    let (code, out, err) = step("102", &["promote", "--from", "active", "--to", "staging", "--release", "26.11.21.2"]);
    assert_eq!(code, 0, "{out}\n{err}");

    let deps = h.deployments(&r);
    let summary: Vec<(String, String, Vec<String>)> = deps
        .iter()
        .map(|(d, s)| {
            (
                d["environment"].as_str().unwrap().to_owned(),
                d["payload"]["stagegate"]["release"].as_str().unwrap_or("?").to_owned(),
                s.clone(),
            )
        })
        .collect();
    assert_eq!(
        summary[0],
        ("active".into(), "26.11.21.1".into(), vec!["in_progress".into(), "success".into(), "inactive".into()])
    );
    assert_eq!(summary[1], ("active".into(), "26.11.21.2".into(), vec!["in_progress".into(), "success".into()]));
    assert_eq!(summary[2], ("staging".into(), "26.11.21.2".into(), vec!["in_progress".into(), "success".into()]));

    let mut c = sb.cmd();
    gh_env(&mut c, &r, "103", "eve");
    c.arg("-c").arg(&cfg).arg("status");
    let (code, status, _) = run_json(c);
    assert_eq!(code, 0);
    let staging = status["environments"].as_array().unwrap().iter().find(|e| e["environment"] == "staging").unwrap();
    assert_eq!(staging["release"], "26.11.21.2");
    let v = h.schema_violations(&r);
    assert!(v.is_empty(), "Prism: {v:#?}");
}

#[test]
fn compare_lists_the_commits_a_promotion_would_bring() {
    let h = github();
    let r = repo("compare");
    let sb = Sandbox::new();
    let cfg = sb.write(
        "c.yml",
        "version: 1\nenvironments:\n  active: { branches: [\"release/*\"] }\n  staging: { branches: [\"release/*\"] }\npromotions:\n  - { from: active, to: staging }\n",
    );
    let (old, new) = ("1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222");
    for (env, release, sha) in [("staging", "26.11.20.1", old), ("active", "26.11.21.1", new)] {
        let mut c = sb.cmd();
        gh_env(&mut c, &r, "300", "eve");
        c.arg("-c").arg(&cfg).args(["deploy", "--env", env, "--ref", "release/v1", "--release", release, "--sha", sha]);
        let (code, _, err) = run(c);
        assert_eq!(code, 0, "{err}");
    }
    h.seed_compare(&r, old, new, &["feat: faster checkout\n\nbody", "fix: rounding in totals"]);
    let mut c = sb.cmd();
    gh_env(&mut c, &r, "301", "eve");
    c.arg("-c").arg(&cfg).args(["compare", "active", "staging"]);
    let (_, json, err) = run_json(c);
    let titles: Vec<&str> = json["commits"]
        .as_array()
        .unwrap_or_else(|| panic!("{json:#}\n{err}"))
        .iter()
        .map(|c| c["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["feat: faster checkout", "fix: rounding in totals"]);
}

/// A promotion costs a bounded number of GitHub requests, however long the
/// environments' history: a user running one per workflow step notices rate
/// limits. 8 = 4 reads (each environment's deployments with their statuses,
/// one GraphQL query each; the run's approvals; the target's holds) + 4 writes
/// (the deployment, `in_progress`, `success`, the replaced one `inactive`);
/// see BENCHMARKS.md.
#[test]
fn a_promotion_makes_at_most_8_github_requests_whatever_the_history() {
    let h = github();
    let r = repo("promote-calls");
    let sb = Sandbox::new();
    let cfg = sb.write("c.yml", ACTIVE_STAGING);
    let step = |run_id: &str, args: &[&str]| {
        let (code, out, err) = on_github(&sb, &cfg, &r, run_id, args);
        assert_eq!(code, 0, "{args:?}: {out}\n{err}");
    };
    // Weeks of history: every release deployed to active, then promoted to staging.
    let mut counts = Vec::new();
    for n in 1..=8 {
        let release = format!("26.11.{n:02}.1");
        step(
            &format!("1{n}0"),
            &["deploy", "--env", "active", "--ref", "refs/heads/release/v1", "--release", &release],
        );
        h.review(&r, &format!("1{n}1"), &["staging"], "carol", false, true);
        let before = h.calls(&r).len();
        step(&format!("1{n}1"), &["promote", "--from", "active", "--to", "staging", "--release", &release]);
        let calls = h.calls(&r)[before..].to_vec();
        assert!(calls.len() <= 8, "promote of {release}: {} GitHub requests: {calls:#?}", calls.len());
        counts.push(calls.len());
    }
    // The first finds staging empty (no statuses to read, nothing to replace);
    // every later one costs the same, however many deployments came before.
    assert_eq!(counts, [7, 8, 8, 8, 8, 8, 8, 8]);
    let v = h.schema_violations(&r);
    assert!(v.is_empty(), "Prism: {v:#?}");
}
