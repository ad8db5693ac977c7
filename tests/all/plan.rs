//! `stagegate plan` on the seed-002 model, as a new user would try it.

use crate::support::{Sandbox, run, run_json};

const ENVS: &[&str] = &["dev-int", "future", "active", "uat", "staging", "prod"];
const PATHS: &[(&str, &str)] = &[
    ("dev-int", "future"),
    ("dev-int", "active"),
    ("future", "active"),
    ("active", "uat"),
    ("active", "staging"),
    ("uat", "staging"),
    ("staging", "prod"),
];

fn plan(from: &str, to: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    let sb = Sandbox::new();
    let mut cmd = sb.seed();
    cmd.args(["plan", "--from", from, "--to", to]).args(extra);
    let (code, json, _) = run_json(cmd);
    (code, json)
}

#[test]
fn every_allowed_path_plans_and_every_other_is_refused() {
    for from in ENVS {
        for to in ENVS {
            if from == to {
                continue;
            }
            let (code, json) = plan(from, to, &[]);
            let allowed = PATHS.contains(&(from, to));
            assert_eq!(json["allowed"], allowed, "{from} → {to}: {json:#}");
            assert_eq!(json["from"], *from);
            assert_eq!(json["to"], *to);
            if allowed {
                assert_eq!(code, 0, "{from} → {to}");
                assert_eq!(json["reasons"].as_array().unwrap().len(), 0);
            } else {
                assert_eq!(code, 3, "{from} → {to}");
                let reason = json["reasons"][0].as_str().unwrap();
                assert!(reason.contains("not an allowed path"), "{reason}");
            }
        }
    }
}

#[test]
fn approvals_follow_seed_002() {
    for (to, from, n) in [("future", "dev-int", 0), ("uat", "active", 1), ("staging", "uat", 1), ("prod", "staging", 2)]
    {
        let (_, json) = plan(from, to, &[]);
        assert_eq!(json["approvals_required"], n, "{to}");
        let has_gate = json["steps"].as_array().unwrap().iter().any(|s| s["name"] == "gate");
        assert_eq!(has_gate, n > 0, "{to}");
    }
}

#[test]
fn the_plan_has_the_documented_shape_and_order() {
    let (code, json) = plan("staging", "prod", &["--ref", "refs/heads/release/v2.0.0"]);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["ref"], "refs/heads/release/v2.0.0");
    assert_eq!(json["release"], serde_json::Value::Null);
    let names: Vec<&str> = json["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "check-path",
            "check-ref",
            "check-source",
            "check-target",
            "gate",
            "wait-timer",
            "backup",
            "deploy",
            "verify",
            "record",
            "rollback"
        ]
    );
    let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "allowed",
            "from",
            "to",
            "ref",
            "release",
            "approvals_required",
            "approvals_pending",
            "reasons",
            "codes",
            "blockers",
            "steps"
        ]
    );
}

#[test]
fn a_refused_path_suggests_the_route() {
    let (code, json) = plan("dev-int", "prod", &[]);
    assert_eq!(code, 3);
    let reason = json["reasons"][0].as_str().unwrap();
    assert!(reason.contains("prod is reached only from: staging"), "{reason}");
    assert!(reason.contains("dev-int → active → staging → prod"), "{reason}");
}

#[test]
fn branch_rules_refuse_with_a_reason() {
    let (code, json) = plan("staging", "prod", &["--ref", "feature/x"]);
    assert_eq!(code, 3);
    assert!(json["reasons"][0].as_str().unwrap().contains("branch feature/x is not allowed to deploy to prod"));
    let (code, _) = plan("active", "staging", &["--ref", "release/a/b"]);
    assert_eq!(code, 3, "release/* must not match release/a/b");
    let (code, _) = plan("active", "staging", &["--ref", "refs/heads/release/2025-01-03"]);
    assert_eq!(code, 0);
}

#[test]
fn a_path_and_branch_refusal_report_both_reasons() {
    let (code, json) = plan("dev-int", "prod", &["--ref", "feature/x"]);
    assert_eq!(code, 3);
    assert_eq!(json["reasons"].as_array().unwrap().len(), 2);
}

#[test]
fn unknown_environments_and_bad_ids_are_invalid_input() {
    let sb = Sandbox::new();
    let mut cmd = sb.seed();
    cmd.args(["plan", "--from", "staging", "--to", "prd"]);
    let (code, out, err) = run(cmd);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("unknown environment `prd`") && err.contains("did you mean `prod`?"), "{err}");

    for (flag, value) in [
        ("--release", "26.11.21.1;rm -rf /"),
        ("--release", "../../etc"),
        ("--ref", "a b"),
        ("--ref", "refs/pull/1/merge"),
    ] {
        let mut cmd = sb.seed();
        cmd.args(["plan", "--from", "staging", "--to", "prod", flag, value]);
        let (code, _, err) = run(cmd);
        assert_eq!(code, 2, "{flag} {value}: {err}");
    }
}

#[test]
fn text_output_is_a_readable_table() {
    let sb = Sandbox::new();
    let mut cmd = sb.seed();
    cmd.args(["plan", "--from", "active", "--to", "staging", "--ref", "release/v1"]);
    let (code, out, _) = run(cmd);
    assert_eq!(code, 0);
    assert!(out.starts_with("✓ active → staging is allowed, pending 1 approval  (refs/heads/release/v1)"), "{out}");
    assert!(out.contains("approvals required: 1"));
    assert!(out.lines().any(|l| l.starts_with("5   gate")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("8   health") && l.contains("127.0.0.1:47811/staging/healthz")), "{out}");
    assert!(!out.contains('\x1b'), "no colour when not on a terminal");
}

#[test]
fn under_actions_plan_writes_outputs_and_a_summary() {
    let sb = Sandbox::new();
    let output = sb.write("out.txt", "");
    let summary = sb.write("summary.md", "");
    let mut cmd = sb.seed();
    cmd.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["--forge", "local", "plan", "--from", "uat", "--to", "prod"]);
    let (code, _, _) = run(cmd);
    assert_eq!(code, 3);
    assert_eq!(crate::support::outputs(&output), crate::support::pairs(&[("allowed", "false")]));
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("uat → prod — ❌ refused"), "{md}");
    assert!(md.contains("```mermaid") && md.contains("uat -. refused .-> prod"), "{md}");
}

#[test]
fn every_command_that_takes_an_environment_suggests_the_one_meant() {
    let sb = Sandbox::new();
    for args in [
        &["plan", "--from", "active", "--to", "stagin"][..],
        &["promote", "--from", "active", "--to", "stagin", "--release", "26.11.21.1"],
        &["deploy", "--env", "stagin", "--ref", "release/v1"],
        &["rollback", "--env", "stagin"],
        &["gate", "--env", "stagin"],
        &["approve", "--env", "stagin", "--as", "alice"],
        &["can-deploy", "--env", "stagin", "--ref", "main"],
        &["compare", "stagin", "prod"],
    ] {
        let mut cmd = sb.seed();
        cmd.args(args);
        let (code, out, err) = run(cmd);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains("unknown environment `stagin`; did you mean `staging`?"), "{args:?}: {err}");
    }
    let mut cmd = sb.seed();
    cmd.args(["plan", "--from", "active", "--to", "europe"]);
    let (code, _, err) = run(cmd);
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown environment `europe` (known: dev-int, future,") && !err.contains("did you mean"),
        "{err}"
    );
}
