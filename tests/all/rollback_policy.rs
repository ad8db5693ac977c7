//! `rollback: {approvals: N, wait_timer: false}`: what a rollback into an
//! environment asks instead of what promoting asks. prod needs two approvals
//! and a 30-minute wait to promote into; its rollback policy may ask less.

use crate::support::{SHORT_TIMEOUTS, Sandbox, run, run_config, run_json};

const PROD: &str = "prevent_self_review: true }";

/// prod runs 1.0.0, then 1.1.0, both promoted with two approvals; then the
/// config gets a 30m wait timer and `rollback` (indented 4, may be empty).
fn prod_ran_two_releases(rollback: &str) -> Sandbox {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    let cfg = std::fs::read_to_string(sb.path().join("stagegate.yml")).unwrap();
    for (i, release) in ["1.0.0", "1.1.0"].into_iter().enumerate() {
        let run_id = (i + 1).to_string();
        let ok = |args: &[&str]| {
            let (code, out, err) = run(sb.sg(args));
            assert_eq!(code, 0, "{args:?}: {out}{err}");
        };
        ok(&["deploy", "--env", "dev", "--ref", "release/v1", "--release", release]);
        ok(&["promote", "--from", "dev", "--to", "staging", "--release", release]);
        ok(&["approve", "--env", "prod-approval-1", "--as", "alice", "--run-id", &run_id]);
        ok(&["approve", "--env", "prod", "--as", "bob", "--run-id", &run_id]);
        ok(&["promote", "--from", "staging", "--to", "prod", "--release", release, "--run-id", &run_id]);
    }
    assert!(cfg.contains(PROD), "{cfg}");
    sb.write("stagegate.yml", cfg.replace(PROD, &format!("prevent_self_review: true, wait_timer: 30m }}\n{rollback}")));
    sb
}

fn prod_runs(sb: &Sandbox) -> String {
    let (code, json, err) = run_json(sb.sg(&["status", "--no-health"]));
    assert_eq!(code, 0, "{err}");
    let envs = json["environments"].as_array().unwrap();
    let prod = envs.iter().find(|e| e["environment"] == "prod").unwrap();
    prod["release"].as_str().unwrap_or_default().to_string()
}

fn rollback_prod(sb: &Sandbox) -> (i32, String) {
    let (code, out, err) = run(sb.sg(&["rollback", "--env", "prod", "--run-id", "3"]));
    (code, format!("{out}{err}"))
}

fn approve(sb: &Sandbox, env: &str, user: &str) {
    let (code, out, err) = run(sb.sg(&["approve", "--env", env, "--as", user, "--run-id", "3"]));
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn one_approval_rolls_back_without_waiting_where_promoting_with_it_is_refused() {
    let sb = prod_ran_two_releases("    rollback: { approvals: 1, wait_timer: false }\n");
    approve(&sb, "prod", "alice");
    // The same approval does not promote: prod asks two for that.
    let (code, out, err) = run(sb.sg(&["gate", "--env", "prod", "--run-id", "3"]));
    assert_eq!(code, 3, "{out}{err}");
    assert!(out.contains("1/2 distinct approvals"), "{out}");
    // As a rollback it is enough, and the wait timer (alice approved just now) does not hold it.
    let (code, out, err) = run(sb.sg(&["gate", "--env", "prod", "--run-id", "3", "--rollback"]));
    assert_eq!(code, 0, "{out}{err}");
    let (code, out) = rollback_prod(&sb);
    assert_eq!(code, 0, "{out}");
    assert_eq!(prod_runs(&sb), "1.0.0");
    assert!(out.contains("a rollback into prod skips its wait timer"), "{out}");
}

#[test]
fn without_a_rollback_policy_a_rollback_asks_what_promoting_asks() {
    let sb = prod_ran_two_releases("");
    approve(&sb, "prod", "alice");
    let (code, out) = rollback_prod(&sb);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("prod needs 2 distinct approval(s) from allowed humans; 1 counted"), "{out}");
    assert_eq!(prod_runs(&sb), "1.1.0");
    // Two approvals are in, but the wait timer runs.
    approve(&sb, "prod-approval-1", "bob");
    let (code, out) = rollback_prod(&sb);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("the wait timer of 30m runs until"), "{out}");
    assert_eq!(prod_runs(&sb), "1.1.0");
}

#[test]
fn wait_timer_false_alone_keeps_the_approvals_and_skips_the_wait() {
    let sb = prod_ran_two_releases("    rollback: { wait_timer: false }\n");
    approve(&sb, "prod", "alice");
    let (code, out) = rollback_prod(&sb);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("1 counted"), "{out}");
    approve(&sb, "prod-approval-1", "bob");
    let (code, out) = rollback_prod(&sb);
    assert_eq!(code, 0, "{out}");
    assert_eq!(prod_runs(&sb), "1.0.0");
}

#[test]
fn zero_rollback_approvals_need_nobody() {
    let sb = prod_ran_two_releases("    rollback: { approvals: 0 }\n");
    let (code, out) = rollback_prod(&sb);
    assert_eq!(code, 0, "{out}");
    assert_eq!(prod_runs(&sb), "1.0.0");
}

#[test]
fn check_shows_the_policy_and_refuses_a_rollback_asking_more_than_promoting() {
    let sb = Sandbox::new();
    let with = |rollback: &str| {
        run_config(1, "").replace(PROD, &format!("prevent_self_review: true, wait_timer: 30m }}\n{rollback}"))
    };
    sb.write("stagegate.yml", with("    rollback: { approvals: 1, wait_timer: false }\n"));
    let (code, out, err) = run(sb.sg(&["check"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("  prod: rollback: 1 approval, no wait timer"), "{out}");
    let (_, json, _) = run_json(sb.sg(&["check"]));
    assert_eq!(json["rollbacks"], serde_json::json!([{"environment": "prod", "approvals": 1, "wait_timer": false}]));
    sb.write("stagegate.yml", with("    rollback: { approvals: 3 }\n"));
    let (code, out, err) = run(sb.sg(&["check"]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("`prod` asks 3 approval(s) for a rollback but 2 for promoting"), "{err}");
}
