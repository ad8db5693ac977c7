//! `stagegate environments diff|sync` against the GitHub test server behind Prism.

use serde_json::json;

use crate::release::SENTINEL;
use crate::support::github::github;
use crate::support::{Sandbox, run, run_json};

fn gh(sb: &Sandbox, repo: &str, args: &[&str]) -> assert_cmd::Command {
    let mut c = sb.seed();
    c.env("GITHUB_API_URL", &github().url)
        .env("GITHUB_TOKEN", SENTINEL)
        .env("GITHUB_REPOSITORY", repo)
        .args(["--forge", "github"])
        .args(args);
    c
}

fn mutations(repo: &str) -> Vec<String> {
    github().calls(repo).into_iter().filter(|c| !c.starts_with("GET")).collect()
}

#[test]
fn sync_then_diff_reports_no_drift_and_a_second_sync_changes_nothing() {
    let h = github();
    let repo = h.repo("envs");
    let sb = Sandbox::new();
    let (code, before, _) = run_json(gh(&sb, &repo, &["environments", "diff"]));
    assert_eq!(code, 3, "everything is missing at first");
    assert_eq!(before["drift"], true);

    let (code, out, err) = run(gh(&sb, &repo, &["environments", "sync"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("✓ created prod-approval-1"), "{out}");
    assert!(!out.contains("prod-approval-2"), "2 approvals: prod's own and one approval environment: {out}");

    let (code, after, _) = run_json(gh(&sb, &repo, &["environments", "diff"]));
    assert_eq!(code, 0, "{after:#}");
    assert_eq!(after["drift"], false);

    let made = mutations(&repo).len();
    let (code, out, _) = run(gh(&sb, &repo, &["environments", "sync"]));
    assert_eq!(code, 0);
    assert!(out.contains("✓ 7 environments match the config"), "{out}");
    assert_eq!(mutations(&repo).len(), made, "an idempotent sync makes no change");

    // What GitHub holds is what the config says.
    let prod = h.environment(&repo, "prod").unwrap();
    let rules = prod["protection_rules"].as_array().unwrap();
    assert!(rules.iter().any(|r| r["type"] == "wait_timer" && r["wait_timer"] == 30), "{prod:#}");
    // GitHub itself enforces one of prod's two approvals, on the job that holds
    // prod's secrets, even for a workflow edited to leave the gate out.
    for name in ["prod", "prod-approval-1"] {
        let env = h.environment(&repo, name).unwrap();
        let reviewers = env["protection_rules"].as_array().unwrap().iter().find(|r| r["type"] == "required_reviewers");
        let reviewers = reviewers.unwrap_or_else(|| panic!("{name} has no required reviewers: {env:#}"));
        assert_eq!(reviewers["prevent_self_review"], true, "{name}");
        let slugs: Vec<&str> = reviewers["reviewers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["reviewer"]["slug"].as_str().unwrap())
            .collect();
        assert_eq!(slugs, ["senior-engineers", "eng-managers", "sre"], "{name}");
    }
    assert!(h.environment(&repo, "prod-approval-2").is_none());
    assert_eq!(prod["deployment_branch_policy"], json!({"protected_branches": false, "custom_branch_policies": true}));
    assert!(
        h.violations(&repo).iter().all(|v| v.contains("Unable to match the returned status code")),
        "{:#?}",
        h.violations(&repo)
    );
    assert!(h.schema_violations(&repo).is_empty());
}

#[test]
fn drift_made_in_the_ui_is_shown_and_repaired() {
    let h = github();
    let repo = h.repo("drift");
    let sb = Sandbox::new();
    assert_eq!(run(gh(&sb, &repo, &["environments", "sync"])).0, 0);
    h.tamper_environment(&repo, "prod", |e| {
        e["protection_rules"].as_array_mut().unwrap().retain(|r| r["type"] != "wait_timer");
    });
    let (code, out, _) = run(gh(&sb, &repo, &["environments", "diff"]));
    assert_eq!(code, 3);
    let line = out.lines().find(|l| l.starts_with("prod ")).unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("wait timer") && line.contains("0m") && line.contains("30m"), "{line}");
    assert!(out.contains("1 of 7 environments drifted"), "{out}");
    assert_eq!(run(gh(&sb, &repo, &["environments", "sync"])).0, 0);
    assert_eq!(run(gh(&sb, &repo, &["environments", "diff"])).0, 0);
    assert!(h.schema_violations(&repo).is_empty(), "{:#?}", h.schema_violations(&repo));
}

#[test]
fn branch_policies_are_created_and_deleted_to_match() {
    let h = github();
    let repo = h.repo("policies");
    let sb = Sandbox::new();
    let cfg = sb.write(
        "c.yml",
        "version: 1\nenvironments:\n  staging:\n    auto_deploy: true\n    branches: [main, \"release/*\"]\n",
    );
    let run_with = |cfg: &std::path::Path, args: &[&str]| {
        let mut c = gh(&sb, &repo, args);
        c.arg("-c").arg(cfg);
        run(c)
    };
    assert_eq!(run_with(&cfg, &["environments", "sync"]).0, 0);
    let cfg2 = sb.write("c2.yml", "version: 1\nenvironments:\n  staging:\n    auto_deploy: true\n    branches: [\"release/*\"]\n    tags: [\"v*\"]\n");
    let (code, out, _) = run_with(&cfg2, &["environments", "diff"]);
    assert_eq!(code, 3);
    assert!(out.contains("main, release/*") && out.contains("release/*, tag:v*"), "{out}");
    assert_eq!(run_with(&cfg2, &["environments", "sync"]).0, 0);
    assert_eq!(run_with(&cfg2, &["environments", "diff"]).0, 0);
    assert!(h.calls(&repo).iter().any(|c| c.starts_with("DELETE environments/staging/deployment-branch-policies/")));
    assert!(h.schema_violations(&repo).is_empty(), "{:#?}", h.schema_violations(&repo));
}

/// GitHub matches the policies itself, with its own glob rule; `check` warns
/// about the surprising ones, and sync pushes every pattern exactly as written.
#[test]
fn sync_pushes_the_patterns_verbatim() {
    let h = github();
    let repo = h.repo("verbatim");
    let sb = Sandbox::new();
    let branches = ["release/**", "hotfix/{a,b}", "feat/[a-z]*", "a\\*b", "**/x"];
    let cfg = sb.write(
        "c.yml",
        format!(
            "version: 1\nenvironments:\n  staging:\n    auto_deploy: true\n    branches: [{}]\n    tags: ['v[0-9]*']\n",
            branches.iter().map(|b| format!("'{b}'")).collect::<Vec<_>>().join(", ")
        ),
    );
    let mut c = gh(&sb, &repo, &["environments", "sync"]);
    c.arg("-c").arg(&cfg);
    let (code, _, err) = run(c);
    assert_eq!(code, 0, "{err}");
    let mut want: Vec<(String, String)> = branches.iter().map(|b| ("branch".to_string(), b.to_string())).collect();
    want.push(("tag".into(), "v[0-9]*".into()));
    let mut got = h.policies(&repo, "staging");
    got.sort();
    want.sort();
    assert_eq!(got, want);
    assert!(h.schema_violations(&repo).is_empty(), "{:#?}", h.schema_violations(&repo));
}

#[test]
fn dry_run_sync_only_says_what_it_would_do() {
    let h = github();
    let repo = h.repo("envdry");
    let sb = Sandbox::new();
    let (code, out, _) = run(gh(&sb, &repo, &["--dry-run", "environments", "sync"]));
    assert_eq!(code, 0);
    assert!(out.contains("would create environment `prod-approval-1`"), "{out}");
    assert!(out.contains("would set wait timer of `prod`: 0m → 30m"), "{out}");
    assert!(mutations(&repo).is_empty());
}

#[test]
fn an_unknown_reviewer_is_invalid_input() {
    let h = github();
    let repo = h.repo("ghost");
    let sb = Sandbox::new();
    let cfg = sb.write("c.yml", "version: 1\nenvironments:\n  prod:\n    auto_deploy: true\n    approvals: { required: 1, reviewers: [\"@ghost-user\"] }\n");
    let mut c = gh(&sb, &repo, &["environments", "sync"]);
    c.arg("-c").arg(cfg);
    let (code, _, err) = run(c);
    assert_eq!(code, 2);
    assert!(err.contains("reviewer @ghost-user not found"), "{err}");
}

#[test]
fn private_repositories_get_a_plan_warning() {
    let h = github();
    let repo = h.repo("private");
    let sb = Sandbox::new();
    let event = sb.write("event.json", r#"{"repository": {"private": true}}"#);
    let mut c = gh(&sb, &repo, &["environments", "diff"]);
    c.env("GITHUB_EVENT_PATH", event);
    let (_, _, err) = run(c);
    assert!(err.contains("required reviewers on private repositories need GitHub Team or Enterprise"), "{err}");
}

#[test]
fn the_local_forge_mirrors_environments_offline() {
    let sb = Sandbox::new();
    let mut c = sb.seed();
    c.args(["environments", "sync"]);
    assert_eq!(run(c).0, 0);
    let mut c = sb.seed();
    c.args(["environments", "diff"]);
    let (code, json, _) = run_json(c);
    assert_eq!(code, 0);
    assert_eq!(json["environments"].as_array().unwrap().len(), 7);
}
