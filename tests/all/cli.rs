//! Command-line contract: global options, can-deploy, completions, exit codes.

use crate::support::{Sandbox, example, run, run_json};

#[test]
fn global_options_work_before_the_subcommand() {
    let sb = Sandbox::new();
    let mut cmd = sb.cmd();
    cmd.arg("-c")
        .arg(example("seed-environments.yml"))
        .args(["--output", "json", "plan", "--from", "staging", "--to", "prod"]);
    let (code, out, _) = run(cmd);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["approvals_required"], 2);
}

#[test]
fn config_comes_from_stagegate_config_env() {
    let sb = Sandbox::new();
    let mut cmd = sb.cmd();
    cmd.env("STAGEGATE_CONFIG", example("etna.yml")).arg("check");
    let (code, json, _) = run_json(cmd);
    assert_eq!(code, 0);
    assert_eq!(json["environments"], 5);
}

#[test]
fn help_documents_the_exit_codes() {
    let sb = Sandbox::new();
    let mut cmd = sb.cmd();
    cmd.arg("--help");
    let (code, out, _) = run(cmd);
    assert_eq!(code, 0);
    assert!(out.contains("Exit codes:") && out.contains("3  refused by policy"), "{out}");
}

#[test]
fn a_bad_flag_is_invalid_input() {
    let sb = Sandbox::new();
    let mut cmd = sb.cmd();
    cmd.args(["plan", "--form", "a"]);
    assert_eq!(run(cmd).0, 2);
    let mut cmd = sb.cmd();
    cmd.args(["--output", "yaml", "check"]);
    assert_eq!(run(cmd).0, 2);
}

fn can_deploy(env: &str, r: &str) -> (i32, serde_json::Value) {
    let sb = Sandbox::new();
    let mut cmd = sb.seed();
    cmd.args(["can-deploy", "--env", env, "--ref", r]);
    let (code, json, _) = run_json(cmd);
    (code, json)
}

#[test]
fn can_deploy_follows_github_branch_policy_globs() {
    for (env, r, ok) in [
        ("dev-int", "main", true),
        ("dev-int", "refs/heads/main", true),
        ("dev-int", "release/v1", false),
        ("staging", "release/v1.2.3", true),
        ("staging", "release/2025-01-03", true),
        ("staging", "release/a/b", false),
        ("prod", "main", true),
        ("prod", "feature/x", false),
        ("prod", "refs/tags/26.11.21.1", false),
    ] {
        let (code, json) = can_deploy(env, r);
        assert_eq!(json["allowed"], ok, "{env} {r}: {json:#}");
        assert_eq!(code, if ok { 0 } else { 3 }, "{env} {r}");
    }
    let (_, json) = can_deploy("staging", "release/v1");
    assert_eq!(json["matched"], "release/*");
    let (_, json) = can_deploy("prod", "refs/tags/26.11.21.1");
    assert_eq!(json["kind"], "tag");
    assert!(json["reasons"][0].as_str().unwrap().contains("allows no tags"));
}

#[test]
fn can_deploy_matches_tags_where_configured() {
    let sb = Sandbox::new();
    let mut cmd = sb.cmd();
    cmd.arg("-c").arg(example("etna.yml")).args(["can-deploy", "--env", "production", "--ref", "refs/tags/26.11.21.3"]);
    let (code, json, _) = run_json(cmd);
    assert_eq!(code, 0, "{json:#}");
    let mut cmd = sb.cmd();
    cmd.arg("-c").arg(example("etna.yml")).args(["can-deploy", "--env", "production", "--ref", "main"]);
    assert_eq!(run(cmd).0, 3);
}

#[test]
fn can_deploy_takes_the_ref_from_github_ref() {
    let sb = Sandbox::new();
    let mut cmd = sb.seed();
    cmd.env("GITHUB_REF", "refs/heads/main").args(["can-deploy", "--env", "dev-int"]);
    assert_eq!(run(cmd).0, 0);
}

#[test]
fn can_deploy_rejects_unknown_envs_and_malformed_refs() {
    let (code, json) = can_deploy("qa", "main");
    assert_eq!(code, 2);
    assert_eq!(json["error"]["exit"], 2, "{json:#}");
    assert_eq!(json["error"]["message"], "unknown environment `qa`; did you mean `uat`?", "{json:#}");
    assert!(json["error"]["help"].as_str().unwrap().ends_with("dev-int, future, active, uat, staging, prod"));
    let sb = Sandbox::new();
    let mut cmd = sb.seed();
    cmd.args(["can-deploy", "--env", "prod", "--ref", "$(touch pwned)"]);
    let (code, _, err) = run(cmd);
    assert_eq!(code, 2);
    assert!(err.contains("not a valid git ref name"), "{err}");
    assert!(!sb.path().join("pwned").exists());
}

#[test]
fn completions_are_generated() {
    for shell in ["bash", "zsh", "fish"] {
        let sb = Sandbox::new();
        let mut cmd = sb.cmd();
        cmd.args(["completions", shell]);
        let (code, out, _) = run(cmd);
        assert_eq!(code, 0);
        assert!(out.contains("can-deploy"), "{shell}");
    }
}

#[test]
fn a_closed_stdout_ends_quietly_without_a_panic() {
    let sb = Sandbox::new();
    let mut c = sb.std_cmd();
    c.args(["completions", "bash"]).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    drop(child.stdout.take()); // the reader goes away, like `| head -1`
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}
