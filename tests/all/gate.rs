//! `stagegate gate`: N distinct allowed humans, never the actor or a bot, a
//! rejection fails, team members count — fed by `approve` and `team` offline.

use crate::support::{SHORT_TIMEOUTS, Sandbox, run, run_json};

fn approve(sb: &Sandbox, env: &str, user: &str, extra: &[&str]) {
    let mut cmd = sb.sg(&["approve", "--env", env, "--as", user, "--run-id", "42"]);
    cmd.args(extra);
    let (code, _, err) = run(cmd);
    assert_eq!(code, 0, "{err}");
}

fn gate(sb: &Sandbox) -> (i32, serde_json::Value) {
    let (code, json, _) = run_json(sb.sg(&["gate", "--env", "prod", "--run-id", "42"]));
    (code, json)
}

fn why(json: &serde_json::Value, user: &str) -> String {
    let row = json["reviews"].as_array().unwrap().iter().find(|r| r["user"] == user).unwrap();
    format!("{} {}", if row["counted"] == true { "counted:" } else { "not counted:" }, row["why"].as_str().unwrap())
}

fn team(sb: &Sandbox, members: &[&str]) {
    let mut cmd = sb.sg(&["team", "@acme/sre", "--add"]);
    cmd.args(members);
    assert_eq!(run(cmd).0, 0);
}

#[test]
fn two_distinct_reviewers_pass_prod_and_one_reviewer_twice_does_not() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    approve(&sb, "prod-approval-1", "alice", &[]);
    approve(&sb, "prod", "alice", &[]);
    let (code, json) = gate(&sb);
    assert_eq!((code, json["passed"].as_bool(), json["counted"].as_u64()), (3, Some(false), Some(1)));
    let second = &json["reviews"][1];
    assert_eq!((second["counted"].as_bool(), second["environment"].as_str()), (Some(false), Some("prod")));
    assert_eq!(second["why"], "already counted for prod-approval-1: each person counts once");
    approve(&sb, "prod", "bob", &[]);
    let (code, json) = gate(&sb);
    assert_eq!((code, json["passed"].as_bool(), json["counted"].as_u64()), (0, Some(true), Some(2)));
}

#[test]
fn the_actor_the_triggering_actor_and_bots_never_count() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    team(&sb, &["mallory", "carol"]);
    approve(&sb, "prod-approval-1", "mallory", &[]);
    approve(&sb, "prod-approval-1", "carol", &[]);
    approve(&sb, "prod", "deploy-bot[bot]", &[]);
    let mut cmd = sb.sg(&["gate", "--env", "prod", "--run-id", "42"]);
    cmd.env("GITHUB_TRIGGERING_ACTOR", "carol");
    let (code, json, _) = run_json(cmd);
    assert_eq!(code, 3);
    assert_eq!(json["counted"], 0);
    assert_eq!(why(&json, "mallory"), "not counted: started this run: self-review is not allowed");
    assert_eq!(why(&json, "carol"), "not counted: started this run: self-review is not allowed");
    assert_eq!(why(&json, "deploy-bot[bot]"), "not counted: a bot: bots never count");
}

#[test]
fn a_team_member_counts_and_a_non_member_does_not() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    team(&sb, &["erin"]);
    approve(&sb, "prod-approval-1", "erin", &[]);
    approve(&sb, "prod", "zed", &[]);
    let (code, json) = gate(&sb);
    assert_eq!(code, 3);
    assert_eq!(why(&json, "erin"), "counted: member of @acme/sre");
    assert!(why(&json, "zed").starts_with("not counted: not a reviewer of prod (@alice, @bob, @acme/sre)"));
    approve(&sb, "prod", "bob", &[]);
    assert_eq!(gate(&sb).0, 0);
}

#[test]
fn a_rejection_fails_the_gate() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    approve(&sb, "prod-approval-1", "alice", &[]);
    approve(&sb, "prod", "bob", &[]);
    approve(&sb, "prod", "bob", &["--reject", "--comment", "not today"]);
    let (code, json) = gate(&sb);
    assert_eq!((code, json["state"].as_str()), (3, Some("rejected")));
    assert_eq!(json["reasons"][0], "bob rejected prod: not today");
}

fn approve_at(sb: &Sandbox, env: &str, user: &str, minute: u32, extra: &[&str]) {
    let mut cmd = sb.sg(&["approve", "--env", env, "--as", user, "--run-id", "42"]);
    cmd.args(extra).env("STAGEGATE_NOW", format!("2026-11-21T10:{minute:02}:00Z"));
    let (code, _, err) = run(cmd);
    assert_eq!(code, 0, "{err}");
}

fn gate_at(sb: &Sandbox, minute: u32) -> (i32, serde_json::Value) {
    let mut cmd = sb.sg(&["gate", "--env", "prod", "--run-id", "42"]);
    cmd.env("STAGEGATE_NOW", format!("2026-11-21T10:{minute:02}:00Z"));
    let (code, json, _) = run_json(cmd);
    (code, json)
}

#[test]
fn a_rejection_names_who_rejected_and_their_later_approval_withdraws_it() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    approve_at(&sb, "prod-approval-1", "alice", 1, &[]);
    approve_at(&sb, "prod", "bob", 2, &["--reject", "--comment", "smoke tests red"]);
    let (code, json) = gate_at(&sb, 3);
    assert_eq!((code, json["state"].as_str()), (3, Some("rejected")), "{json}");
    let hint = json["blockers"][0]["unblock"].as_str().unwrap_or_default();
    assert_eq!(hint, "rejected by bob: bob can approve again, or start a new run", "{json}");
    approve_at(&sb, "prod", "bob", 4, &[]);
    let (code, json) = gate_at(&sb, 5);
    assert_eq!((code, json["state"].as_str(), json["counted"].as_u64()), (0, Some("passed"), Some(2)), "{json}");
    assert_eq!(why(&json, "bob"), "not counted: superseded by bob's later review of prod");
    // And back: an approval followed by the same person's rejection is a rejection.
    approve_at(&sb, "prod", "bob", 6, &["--reject"]);
    assert_eq!(gate_at(&sb, 7).1["state"], "rejected");
}

#[test]
fn missing_approvals_say_how_to_approve_and_a_running_wait_timer_says_until_when() {
    let sb = Sandbox::new();
    sb.write(
        "stagegate.yml",
        "version: 1\nenvironments:\n  prod:\n    auto_deploy: true\n    approvals: { required: 1, reviewers: [\"@alice\"], wait_timer: 30m }\n",
    );
    let (code, json) = gate_at(&sb, 0);
    assert_eq!((code, json["state"].as_str()), (3, Some("missing")), "{json}");
    let hint = json["blockers"][0]["unblock"].as_str().unwrap_or_default();
    assert!(hint.starts_with("to approve: `stagegate approve --env prod --as alice --run-id 42`"), "{json}");
    approve_at(&sb, "prod", "alice", 1, &[]);
    let (code, json) = gate_at(&sb, 2);
    assert_eq!((code, json["state"].as_str()), (3, Some("waiting")), "{json}");
    let blockers = json["blockers"].as_array().unwrap();
    assert_eq!(blockers.len(), 1, "{json}");
    let hint = blockers[0]["unblock"].as_str().unwrap_or_default();
    assert_eq!(hint, "wait timer runs until 2026-11-21 10:31:00 UTC; the approvals are in", "{json}");
}

#[test]
fn text_output_is_a_table_of_who_counted_and_why() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    approve(&sb, "prod-approval-1", "alice", &[]);
    approve(&sb, "prod", "dependabot[bot]", &[]);
    let summary = sb.write("summary.md", "");
    let mut cmd = sb.sg(&["gate", "--env", "prod", "--run-id", "42"]);
    cmd.env("GITHUB_STEP_SUMMARY", &summary);
    let (code, out, _) = run(cmd);
    assert_eq!(code, 3);
    assert!(out.starts_with("✗ gate not passed: prod (1/2 distinct approvals, run 42)"), "{out}");
    assert!(out.contains("REVIEWER") && out.contains("COUNTED?"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("✓  alice") && l.contains("listed reviewer")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("✗  dependabot[bot]") && l.contains("bots never count")), "{out}");
    let md = std::fs::read_to_string(summary).unwrap();
    // `[bot]` escaped: it reads as written, and no bracket of a login can start a link.
    assert!(md.contains("| ❌ | dependabot\\[bot\\] | prod | approved | a bot: bots never count |"), "{md}");
}

#[test]
fn the_wait_timer_opens_after_the_last_needed_approval() {
    let sb = Sandbox::new();
    sb.write(
        "stagegate.yml",
        "version: 1\nenvironments:\n  prod:\n    auto_deploy: true\n    approvals: { required: 1, reviewers: [\"@alice\"], wait_timer: 30m }\n",
    );
    let at = |t: &str| format!("2026-11-21T{t}:00Z");
    let mut cmd = sb.sg(&["approve", "--env", "prod", "--as", "alice", "--run-id", "42"]);
    cmd.env("STAGEGATE_NOW", at("10:00"));
    assert_eq!(run(cmd).0, 0);
    let mut cmd = sb.sg(&["gate", "--env", "prod", "--run-id", "42"]);
    cmd.env("STAGEGATE_NOW", at("10:29"));
    let (code, out, _) = run(cmd);
    assert_eq!(code, 3);
    assert!(out.contains("the wait timer of 30m runs until 2026-11-21 10:30:00 UTC"), "{out}");
    let mut cmd = sb.sg(&["gate", "--env", "prod", "--run-id", "42"]);
    cmd.env("STAGEGATE_NOW", at("10:30"));
    assert_eq!(run(cmd).0, 0);
}

#[test]
fn promoting_to_prod_needs_the_gate_and_uses_up_its_approvals() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    let (code, _, _) = run(sb.sg(&["deploy", "--env", "dev", "--ref", "release/v1", "--release", "1.0.0"]));
    assert_eq!(code, 0);
    let (code, _, _) = run(sb.sg(&["promote", "--from", "dev", "--to", "staging", "--release", "1.0.0"]));
    assert_eq!(code, 0);
    let promote = || sb.sg(&["promote", "--from", "staging", "--to", "prod", "--release", "1.0.0", "--run-id", "42"]);
    let (code, out, _) = run(promote());
    assert_eq!(code, 3);
    assert!(out.contains("prod needs 2 distinct approval(s) from allowed humans; 0 counted"), "{out}");
    let (code, json, _) = run_json(promote());
    assert_eq!((code, json["outcome"].as_str(), json["gate"]["state"].as_str()), (3, Some("refused"), Some("missing")));
    let hooks = sb.hook_log().len();
    approve(&sb, "prod-approval-1", "alice", &[]);
    approve(&sb, "prod", "bob", &[]);
    let (code, json, _) = run_json(promote());
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["gate"]["counted"], 2);
    assert!(sb.hook_log().len() > hooks);
    let audit = std::fs::read_to_string(sb.path().join(".stagegate/audit.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(last["approvals"], serde_json::json!(["alice", "bob"]));
    // A second deployment in the same run needs fresh approvals.
    let (code, _, _) = run(sb.sg(&["gate", "--env", "prod", "--run-id", "42"]));
    assert_eq!(code, 3);
}
