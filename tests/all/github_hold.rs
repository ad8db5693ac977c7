//! Holds on GitHub (the test server behind Prism, which checks every request
//! against GitHub's OpenAPI description): a hold is a deployment of task
//! `stagegate:hold` in the held environment, cleared by an `inactive` status;
//! ordinary deployment readers never see it; the App keeps a held
//! environment's deployment pending and approves at its next recheck once
//! the hold is cleared.

use crate::release::SENTINEL;
use crate::serve::{config, no_violations, setup};
use crate::support::github::github;
use crate::support::serve::{SHA, Service, answers, logged};
use crate::support::{Sandbox, run, run_json};

/// `stagegate -c stagegate.yml ARGS` on GitHub as run 900 of `repo`, by `actor`.
fn on_github(sb: &Sandbox, repo: &str, actor: &str, args: &[&str]) -> assert_cmd::Command {
    let mut c = sb.cmd();
    c.env("GITHUB_API_URL", &github().url)
        .env("GITHUB_TOKEN", SENTINEL)
        .env("GITHUB_REPOSITORY", repo)
        .env("GITHUB_RUN_ID", "900")
        .env("GITHUB_SHA", SHA)
        .env("GITHUB_ACTOR", actor)
        .args(["--forge", "github", "-c", "stagegate.yml"])
        .args(args);
    c
}

#[test]
fn a_hold_on_github_is_a_deployment_of_its_own_task_that_readers_of_deployments_ignore() {
    let r = setup("hold-cli", &config(""));
    let sb = Sandbox::new();
    sb.write("stagegate.yml", config(""));
    let (code, out, err) =
        run(on_github(&sb, &r, "alice", &["hold", "set", "--env", "prod", "--reason", "INC-7 errors"]));
    assert_eq!(code, 0, "{out}{err}");
    let (code, v, err) = run_json(on_github(&sb, &r, "eve", &["--output", "json", "hold", "list"]));
    assert_eq!(code, 0, "{err}");
    let holds = v["holds"].as_array().unwrap();
    assert_eq!(holds.len(), 1, "{v:#}");
    assert_eq!((&holds[0]["environment"], &holds[0]["by"]), (&"prod".into(), &"alice".into()), "{v:#}");

    // status: staging still runs its release, prod runs nothing and is held.
    let (code, v, err) = run_json(on_github(&sb, &r, "eve", &["--output", "json", "status", "--no-health"]));
    assert_eq!(code, 0, "{err}");
    let envs = v["environments"].as_array().unwrap();
    assert_eq!(envs[0]["release"], "26.11.21.1", "{v:#}");
    assert_eq!((&envs[1]["release"], &envs[1]["latest"]), (&serde_json::Value::Null, &serde_json::Value::Null));
    assert_eq!(envs[1]["hold"]["reason"], "INC-7 errors", "{v:#}");

    let (code, v, _) = run_json(on_github(&sb, &r, "eve", &["--output", "json", "gate", "--env", "prod"]));
    assert_eq!(code, 3, "{v:#}");
    assert!(v["blockers"].as_array().unwrap().iter().any(|b| b["code"] == "stagegate::refused::held"), "{v:#}");

    let (code, out, err) = run(on_github(&sb, &r, "bob", &["hold", "clear", "--env", "prod", "--reason", "fixed"]));
    assert_eq!(code, 0, "{out}{err}");
    let (_, v, _) = run_json(on_github(&sb, &r, "eve", &["--output", "json", "hold", "list"]));
    assert_eq!(v["holds"], serde_json::json!([]));
    let (_, v, _) = run_json(on_github(&sb, &r, "eve", &["--output", "json", "history", "--env", "prod"]));
    assert_eq!(v["deployments"], serde_json::json!([]), "a hold is not a deployment\n{v:#}");
    let events: Vec<&str> = v["holds"].as_array().unwrap().iter().map(|h| h["reason"].as_str().unwrap()).collect();
    assert_eq!(events, ["cleared by bob: fixed", "INC-7 errors"], "{v:#}");
    no_violations(&r);
}

#[test]
fn a_hold_written_by_someone_else_is_shown_escaped() {
    let h = github();
    let r = setup("hold-hostile", &config(""));
    h.seed_hold(&r, "prod", serde_json::json!({"reason": "\u{1b}[2Jgone\r\nforged line", "by": "x\u{7}"}));
    let sb = Sandbox::new();
    sb.write("stagegate.yml", config(""));
    let (code, out, err) = run(on_github(&sb, &r, "eve", &["hold", "list"]));
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}') && !out.contains("\r\n"), "{out:?}");
    assert!(out.contains("\\u{1b}[2Jgone"), "{out}");
    // It holds: the App and the CLI read it alike.
    let (code, _, _) = run(on_github(&sb, &r, "eve", &["gate", "--env", "prod"]));
    assert_eq!(code, 3);
}

#[test]
fn the_app_keeps_a_held_environment_pending_and_approves_once_the_hold_is_cleared() {
    let h = github();
    let r = setup("hold-serve", &config(""));
    h.review(&r, "900", &["prod-approval-1"], "alice", false, true);
    h.review(&r, "900", &["prod"], "bob", false, true);
    let sb = Sandbox::new();
    sb.write("stagegate.yml", config(""));
    let (code, out, err) = run(on_github(&sb, &r, "carol", &["hold", "set", "--env", "prod", "--reason", "INC-8"]));
    assert_eq!(code, 0, "{out}{err}");
    let svc = Service::start(&sb, &["--recheck", "1s"], &[]);
    svc.deliver("deployment_protection_rule", "d-1", &h.rule_requested(&r, 900, "prod", "refs/heads/main", SHA));
    logged(&svc, "pending", 2);
    assert!(svc.logs().contains("prod is held by carol"), "{}", svc.logs());
    assert!(h.answers(&r).is_empty(), "answered while prod is held");
    let (code, out, err) = run(on_github(&sb, &r, "carol", &["hold", "clear", "--env", "prod"]));
    assert_eq!(code, 0, "{out}{err}");
    let a = answers(&r, 1, &svc);
    assert_eq!(a[0].2, "approved", "{a:#?}");
    no_violations(&r);
    svc.stop();
}
