//! `stagegate approve` and the local forge's state directory.

use std::process::Stdio;

use crate::support::{Sandbox, run, run_json};

fn approvals(sb: &Sandbox) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(sb.path().join(".stagegate/forge.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["approvals"].as_array().unwrap().clone()
}

#[test]
fn approve_records_to_the_state_dir() {
    let sb = Sandbox::new();
    let mut cmd = sb.seed();
    cmd.args(["approve", "--env", "prod", "--as", "alice", "--run-id", "42"]);
    let (code, json, _) = run_json(cmd);
    assert_eq!(code, 0);
    assert_eq!(json["recorded"], true);
    let mut cmd = sb.seed();
    cmd.args(["approve", "--env", "prod-approval-1", "--as", "@bob", "--run-id", "42", "--reject"]);
    let (code, out, _) = run(cmd);
    assert_eq!(code, 0);
    assert!(out.contains("bob rejected prod-approval-1 in run 42"), "{out}");
    let recorded = approvals(&sb);
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0]["user"], "alice");
    assert_eq!(recorded[0]["state"], "approved");
    assert_eq!(recorded[1]["environment"], "prod-approval-1");
    assert_eq!(recorded[1]["state"], "rejected");
    // prod needs 2: its own approval and one approval environment, no second one.
    let mut cmd = sb.seed();
    cmd.args(["approve", "--env", "prod-approval-2", "--as", "bob", "--run-id", "42"]);
    assert_eq!(run(cmd).0, 2);
}

#[test]
fn dry_run_touches_nothing() {
    let sb = Sandbox::new();
    let mut cmd = sb.seed();
    cmd.args(["--dry-run", "approve", "--env", "uat", "--as", "alice"]);
    let (code, out, _) = run(cmd);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "would record approval of `uat` by alice in run local");
    assert!(!sb.path().join(".stagegate").exists());
}

#[test]
fn state_dir_is_configurable() {
    let sb = Sandbox::new();
    let mut cmd = sb.seed();
    cmd.args(["--state-dir", "elsewhere", "approve", "--env", "uat", "--as", "alice"]);
    assert_eq!(run(cmd).0, 0);
    assert!(sb.path().join("elsewhere/forge.json").exists());
}

#[test]
fn approve_refuses_the_github_forge_and_bad_input() {
    let sb = Sandbox::new();
    let mut cmd = sb.seed();
    cmd.args(["--forge", "github", "approve", "--env", "uat", "--as", "alice"]);
    let (code, _, err) = run(cmd);
    assert_eq!(code, 2);
    assert!(err.contains("only possible on the local forge"), "{err}");
    for (env, user) in [("nope", "alice"), ("uat", "al ice"), ("prod-approval-3", "alice")] {
        let mut cmd = sb.seed();
        cmd.args(["approve", "--env", env, "--as", user]);
        assert_eq!(run(cmd).0, 2, "{env} {user}");
    }
    assert!(!sb.path().join(".stagegate/forge.json").exists());
}

#[test]
fn concurrent_writers_never_lose_a_record() {
    let sb = Sandbox::new();
    let children: Vec<_> = (0..12)
        .map(|i| {
            let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("stagegate"));
            cmd.current_dir(sb.path())
                .arg("-c")
                .arg(crate::support::example("seed-environments.yml"))
                .args(["approve", "--env", "prod", "--as", &format!("user{i}"), "--run-id", "7"])
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            cmd.spawn().unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let mut users: Vec<String> = approvals(&sb).iter().map(|a| a["user"].as_str().unwrap().to_string()).collect();
    users.sort();
    let mut want: Vec<String> = (0..12).map(|i| format!("user{i}")).collect();
    want.sort();
    assert_eq!(users, want);
}

#[test]
fn a_damaged_state_file_is_never_overwritten() {
    let sb = Sandbox::new();
    let path = sb.write(".stagegate/forge.json", "{ not json");
    let mut cmd = sb.seed();
    cmd.args(["approve", "--env", "uat", "--as", "alice"]);
    let (code, _, err) = run(cmd);
    assert_eq!(code, 1);
    assert!(err.contains("is damaged"), "{err}");
    assert_eq!(std::fs::read_to_string(path).unwrap(), "{ not json");
}

/// A review the gate can never count is recorded, with a warning that says why.
#[test]
fn approve_warns_when_the_review_can_never_count() {
    let sb = Sandbox::for_runs(crate::support::SHORT_TIMEOUTS);
    let approve = |actor: &str, args: &[&str]| {
        let mut c = sb.sg(&[&["approve"][..], args].concat());
        c.env("GITHUB_ACTOR", actor);
        let (code, json, err) = run_json(c);
        assert_eq!(code, 0, "{json:#}\n{err}");
        let warnings: Vec<String> =
            json["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap().to_owned()).collect();
        for w in &warnings {
            assert!(err.contains(&format!("warning: {w}")), "{err}");
        }
        warnings
    };
    assert_eq!(approve("mallory", &["--env", "prod", "--as", "alice"]), Vec::<String>::new());
    assert_eq!(
        approve("mallory", &["--env", "prod", "--as", "zed", "--run-id", "2"]),
        ["zed will not count: not a reviewer of prod (@alice, @bob, @acme/sre)"]
    );
    assert_eq!(
        approve("bob", &["--env", "prod", "--as", "bob", "--run-id", "3"]),
        ["bob will not count: started this run: self-review is not allowed"]
    );
    assert_eq!(
        approve("mallory", &["--env", "prod", "--as", "release-bot[bot]", "--run-id", "4"]),
        ["release-bot[bot] will not count: a bot: bots never count"]
    );
    assert_eq!(
        approve("mallory", &["--env", "prod-approval-1", "--as", "alice"]),
        ["alice will not count: already counted for prod: each person counts once"]
    );
    assert_eq!(
        approve("mallory", &["--env", "dev", "--as", "alice"]),
        ["dev needs no approvals: the gate counts no review of it"]
    );
}
