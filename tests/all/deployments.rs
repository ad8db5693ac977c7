//! One deployment record per promotion: stagegate records the deployment
//! itself, so every job `init` writes with an `environment:` says
//! `deployment: false` (GitHub still applies the environment's protection
//! rules and secrets), and a promotion on the GitHub test server — GitHub's
//! own job deployments included — leaves exactly one deployment.

use std::path::Path;

use serde_json::Value;

use crate::init::TEMPLATE_ACTION;
use crate::release::SENTINEL;
use crate::support::github::github;
use crate::support::{Sandbox, example, repo_root, run};

fn jobs(text: &str) -> Vec<(String, Value)> {
    let wf: Value = serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    wf["jobs"].as_object().map(|j| j.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()
}

fn written(cfg: &Path) -> Vec<(String, String)> {
    let sb = Sandbox::new();
    let mut c = sb.cmd();
    c.arg("-c").arg(cfg).arg("init").arg("--dir").arg(sb.path()).args(["--action", TEMPLATE_ACTION]);
    let (code, _, err) = run(c);
    assert_eq!(code, 0, "{err}");
    read_dir(&sb.path().join(".github/workflows"))
}

fn read_dir(dir: &Path) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .map(|p| (p.display().to_string(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    v.sort();
    v
}

#[test]
fn every_environment_job_init_writes_has_deployment_false() {
    let mut files = read_dir(&repo_root().join("workflows-templates"));
    for cfg in ["seed-environments.yml", "etna.yml", "journal.yml", "starter.yml"] {
        files.extend(written(&example(cfg)));
    }
    let mut checked = 0;
    for (file, text) in &files {
        for (id, job) in jobs(text) {
            let Some(env) = job.get("environment") else { continue };
            assert!(env["name"].is_string(), "{file}: job {id}: environment without a name: {env}");
            assert_eq!(env["deployment"], Value::Bool(false), "{file}: job {id} would make GitHub record a deployment");
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked} environment jobs");
}

const TWO_APPROVALS: &str = "version: 1\nenvironments:\n  active: { branches: [\"release/*\"] }\n  prod:\n    branches: [\"release/*\"]\n    approvals: { required: 2, reviewers: [\"@acme/sre\", \"@acme/eng-managers\"] }\npromotions:\n  - { from: active, to: prod }\n";

#[test]
fn a_promotion_leaves_exactly_one_deployment_on_github() {
    let h = github();
    h.set_team("acme/sre", &["dave"]);
    h.set_team("acme/eng-managers", &["carol"]);
    let repo = h.repo("one-deployment");
    let sb = Sandbox::new();
    let cfg = sb.write("c.yml", TWO_APPROVALS);
    let step = |run_id: &str, args: &[&str]| {
        let mut c = sb.cmd();
        c.env("GITHUB_API_URL", &h.url)
            .env("GITHUB_TOKEN", SENTINEL)
            .env("GITHUB_REPOSITORY", &repo)
            .env("GITHUB_RUN_ID", run_id)
            .env("GITHUB_ACTOR", "eve")
            .args(["--forge", "github", "-c"])
            .arg(&cfg)
            .args(args);
        let (code, out, err) = run(c);
        assert_eq!(code, 0, "{args:?}: {out}\n{err}");
        out
    };
    step("700", &["deploy", "--env", "active", "--ref", "refs/heads/release/v1", "--release", "26.12.01.1"]);
    let before = h.deployments(&repo).len();

    // Run 701 of promote-release.yml, target prod: GitHub records a deployment
    // for every job that names an environment without `deployment: false`.
    let promote = written(&cfg).into_iter().find(|(f, _)| f.ends_with("promote-release.yml")).unwrap().1;
    let mut approval_jobs = Vec::new();
    for (id, job) in jobs(&promote) {
        let Some(env) = job.get("environment") else { continue };
        let name = env["name"].as_str().unwrap().replace("${{ inputs.target }}", "prod");
        if name != "prod" {
            approval_jobs.push(name.clone());
        }
        if env["deployment"] != Value::Bool(false) {
            h.actions_job_deployment(&repo, &name, "refs/heads/release/v1");
        }
        assert!(job["permissions"].is_object(), "{id}");
    }
    assert_eq!(approval_jobs, ["prod-approval-1"], "2 approvals: one approval job, then prod's own");
    h.review(&repo, "701", &["prod-approval-1"], "dave", false, true);
    h.review(&repo, "701", &["prod"], "carol", false, true);
    let gate = step("701", &["gate", "--env", "prod"]);
    assert!(gate.contains("gate passed: prod (2/2"), "{gate}");
    step("701", &["promote", "--from", "active", "--to", "prod", "--release", "26.12.01.1"]);

    let deployments = h.deployments(&repo);
    let made: Vec<&(Value, Vec<String>)> = deployments[before..].iter().collect();
    let summary: Vec<String> =
        made.iter().map(|(d, _)| format!("{} by {}", d["environment"], d["creator"]["login"])).collect();
    assert_eq!(made.len(), 1, "deployments per promotion: {summary:?}");
    let (d, states) = made[0];
    assert_eq!(
        (d["environment"].as_str(), d["payload"]["stagegate"]["release"].as_str()),
        (Some("prod"), Some("26.12.01.1"))
    );
    assert_eq!(states, &["in_progress", "success"]);
    let v = h.schema_violations(&repo);
    assert!(v.is_empty(), "Prism: {v:#?}");
}
