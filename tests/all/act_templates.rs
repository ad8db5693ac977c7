//! Every workflow `stagegate init` writes (rendered at test time, from the
//! config below) runs end to end in nektos/act against the GitHub test server
//! behind Prism: deploy-dev-int on push, create-release (tag + draft),
//! promote-release on a 1-approval and a 2-approval path (approvals seeded on
//! the server for act's run id; too few fail the gate; an illegal path fails
//! the plan), rollback. Each promotion records exactly one deployment.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::act::{self, Act, Run, TOKEN};
use crate::support::github::github;
use crate::support::{Sandbox, run};

const CONFIG: &str = r#"version: 1
release: { scheme: calver, format: "YY.0M.0D.BUILD", tag_prefix: "", draft: true, generate_notes: true }
environments:
  dev-int: { branches: [main], auto_deploy: true }
  staging:
    branches: [main]
    approvals: { required: 1, reviewers: ["@alice", "@bob"] }
  prod:
    branches: [main]
    approvals: { required: 2, reviewers: ["@alice", "@bob", "@carol"], prevent_self_review: true }
promotions:
  - { from: dev-int, to: staging }
  - { from: staging, to: prod }
steps:
  deploy: echo "hook deploy $STAGEGATE_ENV $STAGEGATE_RELEASE"
  rollback: echo "hook rollback $STAGEGATE_ENV $STAGEGATE_RELEASE"
"#;

pub(crate) struct Repo {
    pub(crate) sb: Sandbox,
    pub(crate) name: String,
    cache: tempfile::TempDir,
    releases: act::Releases,
    bin: std::path::PathBuf,
}

/// act 0.2.89 (the newest on PyPI) validates workflows against a schema that
/// predates `environment: { name, deployment: false }` and refuses the key. act
/// creates no deployments for `environment:` jobs anyway, so under act the key
/// changes nothing: it is dropped here, and only here. That every environment job
/// carries it is checked on the unmodified files (`init`, `lint` and
/// `a_promotion_shows_one_deployment_in_githubs_view`).
fn without_deployment_key(dir: &std::path::Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let kept: Vec<&str> = text.lines().filter(|l| l.trim() != "deployment: false").collect();
        std::fs::write(&path, kept.join("\n") + "\n").unwrap();
    }
}

impl Repo {
    /// A repository with CONFIG and what `init` writes from it, pinned to the action under test.
    fn new(bin: std::path::PathBuf) -> Repo {
        Repo::with(bin, CONFIG, "act-templates")
    }

    /// A repository (`repo` on the GitHub test server) with `config` and what `init` writes from it.
    pub(crate) fn with(bin: std::path::PathBuf, config: &str, repo: &str) -> Repo {
        let sb = Sandbox::new();
        sb.write(".github/stagegate.yml", config);
        let mut c = sb.cmd();
        c.arg("init").arg("--dir").arg(sb.path()).args(["--action", &act::action_ref()]);
        let (code, out, err) = run(c);
        assert_eq!(code, 0, "init: {out}\n{err}");
        without_deployment_key(&sb.path().join(".github/workflows"));
        let name = github().repo(repo);
        act::git_repo(sb.path(), &name);
        let releases = act::release_server(act::release_files(env!("CARGO_PKG_VERSION"), true));
        Repo { sb, name, cache: tempfile::tempdir().unwrap(), releases, bin }
    }

    pub(crate) fn act<'a>(&'a self, event: &'a str, workflow: &'a str, run_id: &str) -> Act<'a> {
        Act {
            bin: &self.bin,
            repo_dir: self.sb.path(),
            event,
            workflow,
            inputs: vec![],
            env: vec![],
            secrets: vec![],
            cache_dir: self.cache.path(),
        }
        .env("GITHUB_API_URL", &github().url)
        .env("GITHUB_SERVER_URL", &self.releases.server.url())
        .env("GITHUB_RUN_ID", run_id)
    }

    /// The workflow `init` wrote, parsed.
    pub(crate) fn workflow(&self, name: &str) -> Value {
        let text = std::fs::read_to_string(self.sb.path().join(".github/workflows").join(name)).unwrap();
        serde_saphyr::from_str(&text).unwrap()
    }

    pub(crate) fn deployments(&self) -> Vec<(Value, Vec<String>)> {
        github().deployments(&self.name)
    }

    /// A new commit on main (a push).
    fn commit(&self, file: &str) {
        self.sb.write(file, file);
        for args in
            [&["add", "-A"][..], &["-c", "user.name=Eve", "-c", "user.email=eve@example.com", "commit", "-qm", file]]
        {
            assert!(
                std::process::Command::new("git").args(args).current_dir(self.sb.path()).status().unwrap().success()
            );
        }
    }

    fn head(&self, n: usize) -> String {
        let out =
            std::process::Command::new("git").args(["rev-parse", "HEAD"]).current_dir(self.sb.path()).output().unwrap();
        String::from_utf8_lossy(&out.stdout)[..n].to_owned()
    }
}

/// Job display names → succeeded; jobs act skipped are absent.
pub(crate) fn ok(run: &Run, jobs: &[(&str, bool)]) {
    let got = run.jobs();
    for (job, want) in jobs {
        assert_eq!(got.get(*job), Some(want), "job {job:?}: {got:?}\n{}", run.tail());
    }
    assert!(!run.log.contains(TOKEN), "the token leaked");
}

/// `name:` of every job of `wf` whose environment (a string or `{name}`) satisfies `f`.
fn jobs_with_env(wf: &Value, f: impl Fn(&str) -> bool) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (id, job) in wf["jobs"].as_object().unwrap() {
        let env = match &job["environment"] {
            Value::String(s) => s.clone(),
            Value::Object(o) => o.get("name").and_then(Value::as_str).unwrap_or("").to_owned(),
            _ => continue,
        };
        if f(&env) {
            out.insert(job["name"].as_str().unwrap_or(id).to_owned(), env);
        }
    }
    out
}

pub(crate) fn job_name(wf: &Value, id: &str) -> String {
    wf["jobs"][id]["name"].as_str().unwrap_or(id).to_owned()
}

/// Seeds one approval per environment a promotion to `target` waits on in run
/// `run_id`, by distinct reviewers: the approval jobs' environments, plus
/// `target`'s own when they are fewer than `required` (its reviewers count too).
pub(crate) fn approve(repo: &str, wf: &Value, target: &str, required: usize, run_id: &str, reviewers: &[&str]) {
    let prefix = format!("{target}-approval-");
    let mut envs: Vec<String> = jobs_with_env(wf, |e| e.starts_with(&prefix)).into_values().collect();
    if envs.len() < required {
        envs.push(target.to_owned());
    }
    assert_eq!(envs.len(), required, "{target}: approval environments {envs:?}");
    for (env, who) in envs.iter().zip(reviewers) {
        github().review(repo, run_id, &[env], who, false, true);
    }
}

#[test]
fn every_template_init_writes_runs_end_to_end_with_one_deployment_per_promotion() {
    let Some(bin) = act::act_bin() else { return };
    let r = Repo::new(bin);
    let names: Vec<String> = std::fs::read_dir(r.sb.path().join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for want in ["create-release.yml", "deploy-dev-int.yml", "promote-release.yml", "rollback.yml"] {
        assert!(names.iter().any(|n| n == want), "init wrote {names:?}");
    }
    let (first, second) = deploys_every_push_to_dev_int(&r);
    drafts_the_next_calver_release(&r);
    promotes_through_the_gates(&r, &second);
    rolls_back_to_the_previous_good_release(&r, &first);
    let v = github().schema_violations(&r.name);
    assert!(v.is_empty(), "Prism: {v:#?}");
}

/// deploy-dev-int.yml on a push to main, twice: two releases in dev-int.
/// Returns the two releases (short commits).
fn deploys_every_push_to_dev_int(r: &Repo) -> (String, String) {
    let deploy = r.workflow("deploy-dev-int.yml");
    let first = r.head(12);
    let run = r.act("push", "deploy-dev-int.yml", "5001").run();
    ok(&run, &[(&job_name(&deploy, "deploy"), true)]);
    r.commit("second.txt");
    let second = r.head(12);
    ok(&r.act("push", "deploy-dev-int.yml", "5002").run(), &[(&job_name(&deploy, "deploy"), true)]);
    let deps = r.deployments();
    assert_eq!(deps.len(), 2, "{deps:#?}");
    assert_eq!(deps[1].0["environment"], "dev-int");
    assert_eq!(deps[1].0["payload"]["stagegate"]["release"], second.as_str());
    assert_eq!(deps[1].1.last().map(String::as_str), Some("success"));
    (first, second)
}

/// create-release.yml: the next calver tag and a draft release for it.
fn drafts_the_next_calver_release(r: &Repo) {
    let create = r.workflow("create-release.yml");
    let run = r.act("workflow_dispatch", "create-release.yml", "5003").run();
    ok(&run, &[(&job_name(&create, "release"), true)]);
    let tags = github().tags(&r.name);
    assert_eq!(tags.len(), 1, "{tags:?}\n{}", run.tail());
    let releases = github().releases(&r.name);
    assert_eq!(releases.len(), 1, "{releases:#?}");
    assert_eq!(
        (releases[0]["tag_name"].as_str(), releases[0]["draft"].as_bool()),
        (Some(tags[0].as_str()), Some(true))
    );
}

/// promote-release.yml: an illegal path is refused by the plan; staging
/// takes one approval; prod takes two distinct reviewers, and one person
/// approving twice is not enough. One deployment per promotion.
fn promotes_through_the_gates(r: &Repo, second: &str) {
    let promote = r.workflow("promote-release.yml");
    let (plan, promote_job, summary) =
        (job_name(&promote, "plan"), job_name(&promote, "promote"), job_name(&promote, "summary"));
    let promote_run = |run_id: &str, from: &str, to: &str| {
        r.act("workflow_dispatch", "promote-release.yml", run_id)
            .input("release", second)
            .input("source", from)
            .input("target", to)
            .run()
    };
    let before = r.deployments().len();
    let run = promote_run("5004", "dev-int", "prod");
    ok(&run, &[(&plan, false)]);
    assert!(!run.jobs().contains_key(&promote_job), "promote ran after a refused plan:\n{}", run.tail());
    assert_eq!(r.deployments().len(), before);

    approve(&r.name, &promote, "staging", 1, "5005", &["alice"]);
    let run = promote_run("5005", "dev-int", "staging");
    ok(&run, &[(&plan, true), (&promote_job, true), (&summary, true)]);
    assert!(run.printed().iter().any(|l| l.contains(&format!("hook deploy staging {second}"))), "{}", run.tail());
    let deps = r.deployments();
    assert_eq!(deps.len(), before + 1, "one deployment per promotion: {:#?}", &deps[before..]);
    assert_eq!(
        (deps[before].0["environment"].as_str(), deps[before].1.last().map(String::as_str)),
        (Some("staging"), Some("success"))
    );

    let approval_jobs = jobs_with_env(&promote, |e| e.starts_with("prod-approval-"));
    assert!(!approval_jobs.is_empty(), "no approval job for prod");
    approve(&r.name, &promote, "prod", 2, "5006", &["alice", "alice"]);
    let run = promote_run("5006", "staging", "prod");
    ok(&run, &[(&plan, true), (&promote_job, false)]);
    assert_eq!(r.deployments().len(), before + 1, "a refused gate deployed:\n{}", run.tail());
    approve(&r.name, &promote, "prod", 2, "5007", &["alice", "bob"]);
    let run = promote_run("5007", "staging", "prod");
    let mut want: Vec<(&str, bool)> = vec![(&plan, true), (&promote_job, true), (&summary, true)];
    want.extend(approval_jobs.keys().map(|j| (j.as_str(), true)));
    ok(&run, &want);
    assert!(run.printed().iter().any(|l| l.contains(&format!("hook deploy prod {second}"))), "{}", run.tail());
    let deps = r.deployments();
    assert_eq!(deps.len(), before + 2, "one deployment per promotion: {:#?}", &deps[before + 1..]);
    assert_eq!(deps[before + 1].0["environment"], "prod");
}

/// rollback.yml: dev-int back to the previous good release.
fn rolls_back_to_the_previous_good_release(r: &Repo, first: &str) {
    let rollback = r.workflow("rollback.yml");
    let run =
        r.act("workflow_dispatch", "rollback.yml", "5008").input("environment", "dev-int").input("release", "").run();
    ok(&run, &[(&job_name(&rollback, "rollback"), true)]);
    assert!(run.printed().iter().any(|l| l.contains(&format!("hook rollback dev-int {first}"))), "{}", run.tail());
    let deps = r.deployments();
    let last = deps.last().unwrap();
    assert_eq!(
        (last.0["environment"].as_str(), last.0["payload"]["stagegate"]["release"].as_str()),
        (Some("dev-int"), Some(first))
    );
}

/// GitHub itself records a deployment for every job with `environment:` unless
/// it says `deployment: false`; act does not, so this counts them in what
/// `init` writes: on a promotion to prod, stagegate's own record must be the
/// only one.
#[test]
fn a_promotion_shows_one_deployment_in_githubs_view() {
    let sb = Sandbox::new();
    sb.write(".github/stagegate.yml", CONFIG);
    let mut c = sb.cmd();
    c.arg("init").arg("--dir").arg(sb.path()).args(["--action", &act::action_ref()]);
    assert_eq!(run(c).0, 0);
    for name in ["promote-release.yml", "rollback.yml"] {
        let text = std::fs::read_to_string(sb.path().join(".github/workflows").join(name)).unwrap();
        let wf: Value = serde_saphyr::from_str(&text).unwrap();
        let implicit: Vec<&String> = wf["jobs"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, j)| !j["environment"].is_null() && j["environment"]["deployment"] != Value::Bool(false))
            .map(|(id, _)| id)
            .collect();
        assert!(implicit.is_empty(), "{name}: GitHub records a deployment for {implicit:?} besides stagegate's own");
    }
}
