//! GitHub test server, continued: what a GitHub App sees — installation
//! tokens (minted only for a JWT signed with the App's key), file contents
//! per ref, workflow runs, the deployment protection rule callback and the
//! environments' custom protection rules. Also the webhook payloads GitHub
//! sends the App, each checked against GitHub's own schema for it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Value, json};

use super::github::{Harness, Server, Srv, error, sha_of};

/// Per repository: files by (full ref name, path), runs, answers, protection rules.
#[derive(Default)]
pub(super) struct RepoApp {
    files: HashMap<(String, String), String>,
    runs: HashMap<u64, (String, String, String)>,
    /// A run's workflow file and the branch it ran from (default: deploy.yml on main).
    workflows: HashMap<u64, (String, String)>,
    /// Answers on the protection rule: (run id, environment, state, comment).
    answers: Vec<(u64, String, String, String)>,
    rules: BTreeMap<String, Vec<(u64, u64)>>,
}

/// The App side of the server: public keys of the Apps, tokens handed out.
#[derive(Default)]
pub(super) struct AppState {
    keys: HashMap<u64, String>,
    tokens: HashSet<String>,
    /// Installation ids tokens were minted for, in order.
    minted: Vec<u64>,
}

pub(super) fn routes() -> Router<std::sync::Arc<Server>> {
    Router::new()
        .route("/app/installations/{id}/access_tokens", post(access_token))
        .route("/repos/{owner}/{repo}/contents/{*path}", get(contents))
        .route("/repos/{owner}/{repo}/actions/runs/{run_id}", get(run))
        .route("/repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule", post(answer))
        .route("/repos/{owner}/{repo}/environments/{name}/deployment_protection_rules", get(list_rules).post(add_rule))
        .route("/repos/{owner}/{repo}/environments/{name}/deployment_protection_rules/{id}", delete(delete_rule))
}

impl Harness {
    /// Registers an App by its id and public key (PEM): tokens are minted for
    /// JWTs this key verifies.
    pub fn register_app(&self, app_id: u64, public_pem: &str) {
        self.server.app.lock().unwrap().keys.insert(app_id, public_pem.to_owned());
    }

    /// Installation ids installation tokens were minted for.
    pub fn minted(&self) -> Vec<u64> {
        self.server.app.lock().unwrap().minted.clone()
    }

    /// A file of `repo` on branch `branch` (whose head commit is made up once).
    pub fn put_file(&self, repo: &str, branch: &str, path: &str, text: &str) {
        self.put_ref_file(repo, &format!("refs/heads/{branch}"), path, text);
    }

    /// A file of `repo` at tag `tag` (whose commit is made up once).
    pub fn put_tag_file(&self, repo: &str, tag: &str, path: &str, text: &str) {
        self.put_ref_file(repo, &format!("refs/tags/{tag}"), path, text);
    }

    fn put_ref_file(&self, repo: &str, full: &str, path: &str, text: &str) {
        let mut repos = self.server.repos.lock().unwrap();
        let r = repos.entry(repo.to_owned()).or_default();
        r.refs.entry(full.to_owned()).or_insert_with(|| (sha_of(&format!("{repo}@{full}")), "commit"));
        r.app.files.insert((full.into(), path.into()), text.into());
    }

    /// A workflow run: its title (`run-name`), actor and triggering actor.
    pub fn put_run(&self, repo: &str, run_id: u64, title: &str, actor: &str, triggering: &str) {
        let mut repos = self.server.repos.lock().unwrap();
        repos
            .entry(repo.to_owned())
            .or_default()
            .app
            .runs
            .insert(run_id, (title.into(), actor.into(), triggering.into()));
    }

    /// A workflow run of the workflow file `path` as branch `branch` had it
    /// (the run's `head_sha` is that branch's commit).
    pub fn put_workflow_run(&self, repo: &str, run_id: u64, title: &str, actor: &str, path: &str, branch: &str) {
        self.put_run(repo, run_id, title, actor, actor);
        let mut repos = self.server.repos.lock().unwrap();
        let app = &mut repos.entry(repo.to_owned()).or_default().app;
        app.workflows.insert(run_id, (path.into(), branch.into()));
    }

    /// Answers given on the protection rule: (run id, environment, state, comment).
    pub fn answers(&self, repo: &str) -> Vec<(u64, String, String, String)> {
        self.server.repos.lock().unwrap().get(repo).map(|r| r.app.answers.clone()).unwrap_or_default()
    }

    /// Integration ids whose custom protection rule is enabled on `env`.
    pub fn rule_apps(&self, repo: &str, env: &str) -> Vec<u64> {
        let repos = self.server.repos.lock().unwrap();
        let rules = repos.get(repo).and_then(|r| r.app.rules.get(env)).cloned().unwrap_or_default();
        rules.into_iter().map(|(_, app)| app).collect()
    }

    /// A successful deployment of `sha` to `env`, `secs_ago` seconds ago, as
    /// an earlier job left it.
    pub fn seed_success(&self, repo: &str, env: &str, sha: &str, release: &str, secs_ago: i64) {
        let (o, r) = repo.split_once('/').unwrap();
        let record = json!({
            "environment": env, "release": release, "ref": "refs/heads/main", "sha": sha, "creator": "eve",
            "description": format!("deploy {release}"), "run_id": "800", "from": null, "rollback_of": null,
            "at": "2026-11-21T00:00:00Z"
        });
        let v = json!({"ref": sha, "environment": env, "description": release, "payload": {"stagegate": record}});
        let d = super::github_deploy::record(&self.server, o, r, &v, "github-actions[bot]");
        let id = d["id"].as_u64().unwrap();
        let at = (chrono::Utc::now() - chrono::Duration::seconds(secs_ago))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let u = self.server.url(&format!("/repos/{repo}/deployments/{id}/statuses/1"));
        let status = json!({
            "url": u, "id": self.server.ids.fetch_add(1, Ordering::Relaxed), "node_id": "DS_node", "state": "success",
            "creator": self.server.user("github-actions[bot]"), "description": "", "environment": env,
            "target_url": "https://github.example/log", "created_at": at, "updated_at": at,
            "deployment_url": self.server.url(&format!("/repos/{repo}/deployments/{id}")),
            "repository_url": self.server.url(&format!("/repos/{repo}")), "log_url": "https://github.example/log"
        });
        let mut repos = self.server.repos.lock().unwrap();
        repos.get_mut(repo).unwrap().statuses.entry(id).or_default().push(status);
    }

    /// A hold on `env` as another tool (or a person with a token) might have
    /// written it: a deployment of task `stagegate:hold` with `payload`.
    pub fn seed_hold(&self, repo: &str, env: &str, payload: Value) {
        let (o, r) = repo.split_once('/').unwrap();
        let v = json!({"ref": "main", "task": "stagegate:hold", "environment": env, "description": "hold", "payload": payload});
        super::github_deploy::record(&self.server, o, r, &v, "mallory");
    }
}

fn authorized(s: &Server, headers: &HeaderMap) -> bool {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let token = auth.split_whitespace().last().unwrap_or_default();
    s.app.lock().unwrap().tokens.contains(token)
}

async fn access_token(State(s): Srv, headers: HeaderMap, Path(id): Path<u64>) -> Response {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let Some(jwt) = auth.strip_prefix("Bearer ") else {
        return error(StatusCode::UNAUTHORIZED, "A JSON web token could not be decoded");
    };
    let mut app = s.app.lock().unwrap();
    let verified = app.keys.iter().any(|(app_id, pem)| {
        let key = match jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes()) {
            Ok(k) => k,
            Err(e) => panic!("the App's public key: {e}"),
        };
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        v.set_required_spec_claims(&["exp", "iat"]);
        v.validate_aud = false;
        let decoded = jsonwebtoken::decode::<Value>(jwt, &key, &v);
        if let Err(e) = &decoded {
            eprintln!("JWT refused: {e}");
        }
        decoded.is_ok_and(|t| t.claims["iss"].to_string().trim_matches('"') == app_id.to_string())
    });
    if !verified {
        return error(StatusCode::UNAUTHORIZED, "A JSON web token could not be decoded");
    }
    let token = format!("ghs_{}", sha_of(&format!("token-{}", s.ids.fetch_add(1, Ordering::Relaxed))));
    app.tokens.insert(token.clone());
    app.minted.push(id);
    let expires = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let body = json!({
        "token": token, "expires_at": expires, "repository_selection": "all",
        "permissions": {"actions": "read", "contents": "read", "deployments": "write", "metadata": "read"}
    });
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

async fn contents(
    State(s): Srv,
    method: Method,
    headers: HeaderMap,
    Path((o, r, path)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, &format!("contents/{path}")) {
        return e;
    }
    if !authorized(&s, &headers) {
        return error(StatusCode::UNAUTHORIZED, "Bad credentials");
    }
    let git_ref = q.get("ref").cloned().unwrap_or_else(|| "main".into());
    let repos = s.repos.lock().unwrap();
    let repo = repos.get(&format!("{o}/{r}"));
    let full = repo.and_then(|x| resolve(&x.refs, &git_ref));
    let Some(text) = full.and_then(|f| repo?.app.files.get(&(f, path.clone()))) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    use base64::Engine;
    let content = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let sha = sha_of(text);
    let u = s.url(&format!("/repos/{o}/{r}/contents/{path}?ref={git_ref}"));
    let name = path.rsplit('/').next().unwrap_or(&path).to_owned();
    let html = format!("https://github.example/{o}/{r}/blob/{git_ref}/{path}");
    let git = s.url(&format!("/repos/{o}/{r}/git/blobs/{sha}"));
    axum::Json(json!({
        "type": "file", "encoding": "base64", "size": text.len(), "name": name, "path": path, "content": content,
        "sha": sha, "url": u, "git_url": git, "html_url": html, "download_url": html,
        "_links": {"self": u, "git": git, "html": html}
    }))
    .into_response()
}

/// The full ref name `git_ref` stands for, as git resolves a name: a commit
/// sha is the ref at that commit; a short name is tried as `refs/NAME`, then
/// `refs/tags/NAME`, then `refs/heads/NAME` — a tag wins over a branch of the
/// same name (gitrevisions(7)).
fn resolve(refs: &BTreeMap<String, (String, &'static str)>, git_ref: &str) -> Option<String> {
    if git_ref.len() == 40 && git_ref.bytes().all(|b| b.is_ascii_hexdigit()) {
        return refs.iter().find(|(_, (sha, _))| sha == git_ref).map(|(name, _)| name.clone());
    }
    [format!("refs/{git_ref}"), format!("refs/tags/{git_ref}"), format!("refs/heads/{git_ref}")]
        .into_iter()
        .find(|full| refs.contains_key(full))
}

/// A repository in the shape both the REST API and the webhooks use.
pub(super) fn repository(s: &Server, full: &str) -> Value {
    let (owner, name) = full.split_once('/').unwrap();
    let u = s.url(&format!("/repos/{full}"));
    let mut v = json!({
        "id": 4242, "node_id": "R_node", "name": name, "full_name": full, "private": false,
        "owner": s.user(owner), "html_url": format!("https://github.example/{full}"), "description": null,
        "fork": false, "url": u, "homepage": null, "language": null, "forks": 0, "forks_count": 0,
        "stargazers_count": 0, "watchers_count": 0, "watchers": 0, "size": 1, "default_branch": "main",
        "open_issues_count": 0, "open_issues": 0, "has_issues": true, "has_projects": false, "has_wiki": false,
        "has_pages": false, "has_downloads": false, "archived": false, "disabled": false, "license": null,
        "pushed_at": "2026-11-21T00:00:00Z", "created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-11-21T00:00:00Z",
        "mirror_url": null, "git_url": format!("git://github.example/{full}.git"),
        "ssh_url": format!("git@github.example:{full}.git"), "clone_url": format!("https://github.example/{full}.git"),
        "svn_url": format!("https://github.example/{full}"),
    });
    for k in [
        "archive",
        "assignees",
        "blobs",
        "branches",
        "collaborators",
        "comments",
        "commits",
        "compare",
        "contents",
        "contributors",
        "deployments",
        "downloads",
        "events",
        "forks",
        "git_commits",
        "git_refs",
        "git_tags",
        "hooks",
        "issue_comment",
        "issue_events",
        "issues",
        "keys",
        "labels",
        "languages",
        "merges",
        "milestones",
        "notifications",
        "pulls",
        "releases",
        "stargazers",
        "statuses",
        "subscribers",
        "subscription",
        "tags",
        "teams",
        "trees",
    ] {
        v[format!("{k}_url")] = json!(format!("{u}/{k}"));
    }
    v
}

async fn run(
    State(s): Srv,
    method: Method,
    headers: HeaderMap,
    Path((o, r, id)): Path<(String, String, u64)>,
) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, &format!("actions/runs/{id}")) {
        return e;
    }
    if !authorized(&s, &headers) {
        return error(StatusCode::UNAUTHORIZED, "Bad credentials");
    }
    let full = format!("{o}/{r}");
    let found = s.repos.lock().unwrap().get(&full).and_then(|x| {
        let (path, branch) =
            x.app.workflows.get(&id).cloned().unwrap_or_else(|| (".github/workflows/deploy.yml".into(), "main".into()));
        let head = x.refs.get(&format!("refs/heads/{branch}")).map_or_else(|| sha_of("main"), |(sha, _)| sha.clone());
        x.app.runs.get(&id).cloned().map(|r| (r, (path, branch, head)))
    });
    let Some(((title, actor, triggering), workflow)) = found else { return error(StatusCode::NOT_FOUND, "Not Found") };
    axum::Json(run_json(&s, &full, id, (&title, &actor, &triggering), &workflow)).into_response()
}

fn run_json(s: &Server, full: &str, id: u64, who: (&str, &str, &str), workflow: &(String, String, String)) -> Value {
    let (title, actor, triggering) = who;
    let (path, branch, head) = workflow;
    let u = s.url(&format!("/repos/{full}/actions/runs/{id}"));
    let repo = repository(s, full);
    json!({
        "id": id, "node_id": "WFR_node", "name": "deploy", "head_branch": branch, "head_sha": head,
        "path": path, "run_number": 7, "run_attempt": 1, "event": "workflow_dispatch",
        "display_title": title, "status": "waiting", "conclusion": null, "workflow_id": 99, "url": u,
        "html_url": format!("https://github.example/{full}/actions/runs/{id}"), "pull_requests": [],
        "created_at": "2026-11-21T00:00:00Z", "updated_at": "2026-11-21T00:00:00Z",
        "run_started_at": "2026-11-21T00:00:00Z", "actor": s.user(actor), "triggering_actor": s.user(triggering),
        "jobs_url": format!("{u}/jobs"), "logs_url": format!("{u}/logs"), "check_suite_url": format!("{u}/check-suite"),
        "artifacts_url": format!("{u}/artifacts"), "cancel_url": format!("{u}/cancel"), "rerun_url": format!("{u}/rerun"),
        "workflow_url": s.url(&format!("/repos/{full}/actions/workflows/99")), "head_commit": null,
        "check_suite_id": 11, "check_suite_node_id": "CS_node",
        "repository": repo, "head_repository": repo,
    })
}

async fn answer(
    State(s): Srv,
    method: Method,
    headers: HeaderMap,
    Path((o, r, id)): Path<(String, String, u64)>,
    body: Bytes,
) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, &format!("actions/runs/{id}/deployment_protection_rule")) {
        return e;
    }
    if !authorized(&s, &headers) {
        return error(StatusCode::UNAUTHORIZED, "Bad credentials");
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let field = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let mut repos = s.repos.lock().unwrap();
    repos.entry(format!("{o}/{r}")).or_default().app.answers.push((
        id,
        field("environment_name"),
        field("state"),
        field("comment"),
    ));
    StatusCode::NO_CONTENT.into_response()
}

fn rule_json(id: u64, app: u64) -> Value {
    json!({"id": id, "node_id": "DPR_node", "enabled": true,
           "app": {"id": app, "node_id": "A_node", "slug": format!("app-{app}"), "integration_url": format!("https://github.example/apps/app-{app}")}})
}

async fn list_rules(State(s): Srv, method: Method, Path((o, r, env)): Path<(String, String, String)>) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, &format!("environments/{env}/deployment_protection_rules")) {
        return e;
    }
    let repos = s.repos.lock().unwrap();
    let rules = repos.get(&format!("{o}/{r}")).and_then(|x| x.app.rules.get(&env)).cloned().unwrap_or_default();
    let list: Vec<Value> = rules.iter().map(|(id, app)| rule_json(*id, *app)).collect();
    axum::Json(json!({"total_count": list.len(), "custom_deployment_protection_rules": list})).into_response()
}

async fn add_rule(
    State(s): Srv,
    method: Method,
    Path((o, r, env)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, &format!("environments/{env}/deployment_protection_rules")) {
        return e;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let Some(app) = v["integration_id"].as_u64() else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "integration_id");
    };
    let id = 700 + s.ids.fetch_add(1, Ordering::Relaxed);
    let mut repos = s.repos.lock().unwrap();
    repos.entry(format!("{o}/{r}")).or_default().app.rules.entry(env).or_default().push((id, app));
    (StatusCode::CREATED, axum::Json(rule_json(id, app))).into_response()
}

async fn delete_rule(
    State(s): Srv,
    method: Method,
    Path((o, r, env, id)): Path<(String, String, String, u64)>,
) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, &format!("environments/{env}/deployment_protection_rules/{id}")) {
        return e;
    }
    let mut repos = s.repos.lock().unwrap();
    if let Some(rules) = repos.get_mut(&format!("{o}/{r}")).and_then(|x| x.app.rules.get_mut(&env)) {
        rules.retain(|(i, _)| *i != id);
    }
    StatusCode::NO_CONTENT.into_response()
}

/// Checks `payload` against GitHub's schema for webhook `name` (`x-webhooks`
/// in @octokit/openapi); panics with the violations.
pub fn check_webhook(name: &str, payload: &Value) {
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/prism/check-webhook.js");
    let mut child = Command::new("node")
        .arg(script)
        .arg(name)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs (scripts/test.sh installs it)");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(payload.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the {name} payload is not what GitHub sends:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Harness {
    /// The `deployment_protection_rule.requested` payload GitHub sends when a
    /// job of run `run_id` waits to enter `env`.
    pub fn rule_requested(&self, repo: &str, run_id: u64, env: &str, git_ref: &str, sha: &str) -> Value {
        let s = &self.server;
        let dep_url = s.url(&format!("/repos/{repo}/deployments/1"));
        let p = json!({
            "action": "requested", "environment": env, "event": "workflow_dispatch", "sha": sha, "ref": git_ref,
            "deployment_callback_url": s.url(&format!("/repos/{repo}/actions/runs/{run_id}/deployment_protection_rule")),
            "deployment": {
                "url": dep_url, "id": 1, "node_id": "DE_node", "sha": sha, "ref": git_ref, "task": "deploy",
                "payload": {}, "original_environment": env, "environment": env, "description": null,
                "creator": s.user("github-actions[bot]"), "created_at": "2026-11-21T00:00:00Z",
                "updated_at": "2026-11-21T00:00:00Z", "statuses_url": format!("{dep_url}/statuses"),
                "repository_url": s.url(&format!("/repos/{repo}"))
            },
            "pull_requests": [], "repository": repository(s, repo), "installation": {"id": 77, "node_id": "I_node"},
            "sender": s.user("mallory"),
        });
        check_webhook("deployment-protection-rule-requested", &p);
        p
    }

    /// The `deployment_review` payload after someone reviewed run `run_id`.
    pub fn review_event(&self, repo: &str, run_id: u64, env: &str, approver: &str, approved: bool) -> Value {
        let s = &self.server;
        let action = if approved { "approved" } else { "rejected" };
        let workflow = (".github/workflows/deploy.yml".to_string(), "main".to_string(), sha_of("main"));
        let mut run = run_json(s, repo, run_id, ("deploy", "mallory", "mallory"), &workflow);
        for k in [
            "repository",
            "head_repository",
            "head_commit",
            "jobs_url",
            "logs_url",
            "check_suite_url",
            "artifacts_url",
            "cancel_url",
            "rerun_url",
            "workflow_url",
        ] {
            run.as_object_mut().unwrap().remove(k);
        }
        let owner = repo.split_once('/').unwrap().0;
        let org = s.url(&format!("/orgs/{owner}"));
        let p = json!({
            "action": action, "since": "2026-11-21T00:00:00Z", "workflow_run": run,
            "approver": s.user(approver), "comment": "", "reviewers": [],
            "workflow_job_runs": [{"id": 1, "name": "deploy", "status": "waiting", "conclusion": null,
                                   "environment": env, "html_url": "https://github.example/job", "created_at": "2026-11-21T00:00:00Z", "updated_at": "2026-11-21T00:00:00Z"}],
            "repository": repository(s, repo), "installation": {"id": 77, "node_id": "I_node"},
            "organization": {"login": owner, "id": 9, "node_id": "O_node", "url": org, "repos_url": format!("{org}/repos"),
                             "events_url": format!("{org}/events"), "hooks_url": format!("{org}/hooks"),
                             "issues_url": format!("{org}/issues"), "members_url": format!("{org}/members{{/member}}"),
                             "public_members_url": format!("{org}/public_members{{/member}}"),
                             "avatar_url": format!("{org}/avatar"), "description": null},
            "sender": s.user(approver),
        });
        check_webhook(&format!("deployment-review-{action}"), &p);
        p
    }
}
