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
    assert_eq!(json["environments"], 4);
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

/// Every command's `--help`, groups and nested commands included, ends with
/// two or three examples and what its exit codes mean.
#[test]
fn every_help_has_examples_and_exit_codes() {
    let sb = Sandbox::new();
    for path in [
        "plan",
        "approve",
        "team",
        "serve",
        "completions",
        "init",
        "release",
        "release publish",
        "environments",
        "environments sync",
        "journal",
        "journal watch",
        "app",
        "app manifest",
    ] {
        let mut cmd = sb.cmd();
        cmd.args(path.split(' ')).arg("--help");
        let (code, out, _) = run(cmd);
        assert_eq!(code, 0, "{path}");
        let examples = out.split("Examples:\n").nth(1).unwrap_or_else(|| panic!("{path}: no examples\n{out}"));
        let (examples, exits) = examples.split_once("\nExit codes:\n").unwrap_or_else(|| panic!("{path}\n{out}"));
        let n = examples.lines().filter(|l| l.starts_with(&format!("  stagegate {path}"))).count();
        assert!((2..=3).contains(&n), "{path}: {n} examples\n{out}");
        assert!(
            exits.lines().any(|l| l.starts_with("  0  ")) && exits.lines().any(|l| l.starts_with("  2  ")),
            "{out}"
        );
    }
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

/// `--version` names the commit of a build from this repository's checkout
/// (and the version alone elsewhere).
#[test]
fn version_names_the_commit() {
    let root = crate::support::repo_root();
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(&root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let in_checkout = git(&["rev-parse", "--show-toplevel"])
        .is_some_and(|top| std::path::Path::new(&top).canonicalize().ok() == root.canonicalize().ok());
    let sb = Sandbox::new();
    let mut c = sb.cmd();
    c.arg("--version");
    let (code, out, _) = run(c);
    assert_eq!(code, 0);
    let version = env!("CARGO_PKG_VERSION");
    match git(&["rev-parse", "--short=12", "HEAD"]).filter(|_| in_checkout) {
        Some(commit) => assert_eq!(out.trim(), format!("stagegate {version} ({commit})")),
        None => assert_eq!(out.trim(), format!("stagegate {version}")),
    }
}

/// Colour where it is asked for — `FORCE_COLOR`/`CLICOLOR_FORCE`, as in an
/// Actions log, which is no terminal — and `NO_COLOR` always wins; none on a
/// pipe otherwise.
#[test]
fn colour_is_forced_by_force_color_and_clicolor_force_and_never_with_no_color() {
    let sb = Sandbox::new();
    let plan = |vars: &[(&str, &str)]| {
        let mut c = sb.seed();
        c.env_remove("NO_COLOR").args(["plan", "--from", "active", "--to", "staging"]);
        for (k, v) in vars {
            c.env(k, v);
        }
        let (code, out, _) = run(c);
        assert_eq!(code, 0, "{out}");
        out.contains("\x1b[")
    };
    assert!(!plan(&[]), "a pipe gets no colour");
    assert!(plan(&[("FORCE_COLOR", "1")]));
    assert!(plan(&[("CLICOLOR_FORCE", "1")]));
    assert!(!plan(&[("FORCE_COLOR", "0")]));
    assert!(!plan(&[("FORCE_COLOR", "")]));
    assert!(!plan(&[("FORCE_COLOR", "1"), ("NO_COLOR", "1")]));
}
