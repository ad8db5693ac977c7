//! Ephemeral environments: one instance per branch of a template, created on
//! its first deploy, torn down by `destroy` and `prune` — on the local forge
//! and on the GitHub test server behind Prism.

use serde_json::Value;

use crate::support::github::github;
use crate::support::{Sandbox, run, run_json};

const CFG: &str = r#"version: 1
environments:
  feature:
    branches: ["feature/**/*"]
    ephemeral: true
    auto_deploy: true
  preview:
    branches: [main]
    auto_deploy: true
steps:
  create: "sh -c 'echo create $STAGEGATE_ENV >> hooks.log'"
  deploy: "sh -c 'echo deploy $STAGEGATE_ENV $STAGEGATE_RELEASE >> hooks.log'"
  destroy: "sh -c 'echo destroy $STAGEGATE_ENV >> hooks.log'"
"#;

fn local(sb: &Sandbox, args: &[&str]) -> (i32, String, String) {
    let mut c = sb.cmd();
    c.args(["--forge", "local", "-c", "c.yml"]).args(args);
    run(c)
}

fn deploy(sb: &Sandbox, branch: &str, release: &str) {
    let (code, out, err) =
        local(sb, &["deploy", "--env", "feature", "--ref", branch, "--release", release, "--sha", "abcdef1"]);
    assert_eq!(code, 0, "{out}\n{err}");
}

#[test]
fn two_branches_get_environments_of_their_own_and_one_is_destroyed() {
    let sb = Sandbox::new();
    sb.write("c.yml", CFG);
    deploy(&sb, "feature/login", "l1");
    deploy(&sb, "feature/pay", "p1");
    deploy(&sb, "feature/login", "l2");
    let hooks = std::fs::read_to_string(sb.path().join("hooks.log")).unwrap();
    assert_eq!(
        hooks.lines().collect::<Vec<_>>(),
        [
            "create feature/login",
            "deploy feature/login l1",
            "create feature/pay",
            "deploy feature/pay p1",
            "deploy feature/login l2"
        ],
        "create runs before an instance's first deploy only; pay does not replace login"
    );
    let mut c = sb.cmd();
    c.args(["--forge", "local", "-c", "c.yml", "status", "--no-health"]);
    let (code, json, _) = run_json(c);
    assert_eq!(code, 0);
    let rows: Vec<(&str, &str, &str)> = json["environments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["template"].is_null())
        .map(|e| (e["environment"].as_str().unwrap(), e["template"].as_str().unwrap(), e["release"].as_str().unwrap()))
        .collect();
    assert_eq!(rows, [("feature/login", "feature", "l2"), ("feature/pay", "feature", "p1")]);

    let (code, out, err) = local(&sb, &["destroy", "--env", "feature", "--ref", "feature/login"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("feature/login is destroyed"), "{out}");
    assert!(std::fs::read_to_string(sb.path().join("hooks.log")).unwrap().ends_with("destroy feature/login\n"));
    let (_, out, _) = local(&sb, &["status", "--no-health"]);
    assert!(out.contains("feature/pay") && !out.contains("feature/login"), "{out}");
    let (_, out, _) = local(&sb, &["history", "--env", "feature/login"]);
    assert!(out.contains("l2") && !out.contains("live"), "every deployment of login is inactive: {out}");
    let audit = std::fs::read_to_string(sb.path().join(".stagegate/audit.jsonl")).unwrap();
    let last: Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!((last["command"].as_str(), last["env"].as_str()), (Some("destroy"), Some("feature/login")));

    // Deployed again after the destroy: the instance is created again.
    deploy(&sb, "feature/login", "l3");
    assert!(
        std::fs::read_to_string(sb.path().join("hooks.log"))
            .unwrap()
            .contains("destroy feature/login\ncreate feature/login\n")
    );
}

#[test]
fn a_ref_the_template_does_not_match_is_refused_and_a_declared_environment_is_no_template() {
    let sb = Sandbox::new();
    sb.write("c.yml", CFG);
    let (code, out, _) =
        local(&sb, &["deploy", "--env", "feature", "--ref", "main", "--release", "x", "--sha", "abcdef1"]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("branch main is not allowed to deploy to feature"), "{out}");
    let (code, _, err) = local(&sb, &["destroy", "--env", "preview", "--ref", "main"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`preview` is not an ephemeral environment"), "{err}");
    let (code, _, err) = local(&sb, &["history", "--env", "hotfix/x"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn prune_destroys_the_instances_with_no_recent_deployment() {
    let sb = Sandbox::new();
    sb.write("c.yml", CFG);
    let at = |when: &str, branch: &str, release: &str| {
        let mut c = sb.cmd();
        c.env("STAGEGATE_NOW", when)
            .args(["--forge", "local", "-c", "c.yml", "deploy", "--env", "feature", "--ref", branch]);
        c.args(["--release", release, "--sha", "abcdef1"]);
        assert_eq!(run(c).0, 0);
    };
    at("2026-11-01T10:00:00Z", "feature/old", "o1");
    at("2026-11-20T10:00:00Z", "feature/new", "n1");
    let mut c = sb.cmd();
    c.env("STAGEGATE_NOW", "2026-11-21T10:00:00Z").args([
        "--forge",
        "local",
        "-c",
        "c.yml",
        "prune",
        "--env",
        "feature",
        "--older-than",
        "14d",
    ]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("feature/old is destroyed") && !out.contains("feature/new"), "{out}");
    let hooks = std::fs::read_to_string(sb.path().join("hooks.log")).unwrap();
    assert!(hooks.ends_with("destroy feature/old\n"), "{hooks}");
}

fn on_github(sb: &Sandbox, repo: &str, args: &[&str]) -> (i32, String, String) {
    let h = github();
    let mut c = sb.cmd();
    c.env("GITHUB_API_URL", &h.url)
        .env("GITHUB_TOKEN", "test-token")
        .env("GITHUB_REPOSITORY", repo)
        .env("GITHUB_RUN_ID", "900")
        .env("GITHUB_ACTOR", "eve")
        .args(["--forge", "github", "-c", "c.yml"])
        .args(args);
    run(c)
}

#[test]
fn on_github_the_first_deploy_creates_the_environment_and_destroy_deletes_it() {
    let h = github();
    let repo = h.repo("ephemeral");
    let sb = Sandbox::new();
    sb.write("c.yml", CFG);
    let deploy = ["deploy", "--env", "feature", "--ref", "feature/login", "--release", "l1", "--sha", "abcdef1"];
    let (code, out, err) = on_github(&sb, &repo, &deploy);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(h.environment(&repo, "feature/login").is_some(), "GitHub made the instance's environment");
    let (code, out, err) = on_github(&sb, &repo, &["destroy", "--env", "feature", "--ref", "feature/login"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(h.environment(&repo, "feature/login").is_none(), "deleted: {out}");
    let states: Vec<Vec<String>> = h.deployments(&repo).into_iter().map(|(_, s)| s).collect();
    assert_eq!(states, [vec!["in_progress", "success", "inactive"]]);
    assert!(
        h.calls(&repo)
            .iter()
            .any(|c| c == "DELETE environments/feature%2Flogin" || c == "DELETE environments/feature/login"),
        "{:?}",
        h.calls(&repo)
    );
    let v = h.schema_violations(&repo);
    assert!(v.is_empty(), "Prism: {v:#?}");
}

#[test]
fn without_an_admin_token_destroy_does_the_rest_and_says_what_it_needs() {
    let h = github();
    let repo = h.repo("ephemeral-token");
    h.forbid_environment_deletes(&repo);
    let sb = Sandbox::new();
    sb.write("c.yml", CFG);
    let deploy = ["deploy", "--env", "feature", "--ref", "feature/pay", "--release", "p1", "--sha", "abcdef1"];
    assert_eq!(on_github(&sb, &repo, &deploy).0, 0);
    let (code, out, err) = on_github(&sb, &repo, &["destroy", "--env", "feature", "--ref", "feature/pay"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("its GitHub environment stays") && out.contains("admin token"), "{out}");
    assert!(h.environment(&repo, "feature/pay").is_some());
    let states: Vec<Vec<String>> = h.deployments(&repo).into_iter().map(|(_, s)| s).collect();
    assert_eq!(states, [vec!["in_progress", "success", "inactive"]], "the deployments are inactive all the same");
}

#[test]
fn completions_offer_the_instances_the_local_forge_has_deployed() {
    let sb = Sandbox::new();
    let cfg = sb.write("c.yml", CFG);
    deploy(&sb, "feature/login", "l1");
    let mut c = sb.cmd();
    c.env("COMPLETE", "bash").env("STAGEGATE_CONFIG", &cfg).env("_CLAP_COMPLETE_INDEX", "3");
    c.args(["--", "stagegate", "history", "--env", "feature"]);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{err}");
    let offered: Vec<&str> = out.split(['\u{b}', '\n']).filter(|s| !s.is_empty()).collect();
    assert_eq!(offered, ["feature", "feature/login"]);
}
