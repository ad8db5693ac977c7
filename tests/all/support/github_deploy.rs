//! GitHub test server, continued: deployments and their statuses, a run's
//! review history, team members — what `promote`, `status` and `gate` read
//! and write on GitHub.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::github::{Server, Srv, error, sha_of};

pub(super) fn routes() -> Router<std::sync::Arc<Server>> {
    Router::new()
        .route("/repos/{owner}/{repo}/deployments", get(list).post(create))
        .route("/repos/{owner}/{repo}/deployments/{id}/statuses", get(list_statuses).post(create_status))
        .route("/repos/{owner}/{repo}/actions/runs/{run_id}/approvals", get(approvals))
        .route("/orgs/{org}/teams/{slug}/members", get(members))
        .route("/repos/{owner}/{repo}/compare/{basehead}", get(compare))
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

async fn list(
    State(s): Srv,
    method: Method,
    Path((o, r)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, "deployments") {
        return e;
    }
    let repos = s.repos.lock().unwrap();
    let mut all: Vec<Value> = repos.get(&format!("{o}/{r}")).map(|repo| repo.deployments.clone()).unwrap_or_default();
    if let Some(env) = q.get("environment") {
        all.retain(|d| d["environment"] == json!(env));
    }
    if let Some(task) = q.get("task") {
        all.retain(|d| d["task"] == json!(task));
    }
    all.reverse();
    let per: usize = q.get("per_page").and_then(|v| v.parse().ok()).unwrap_or(30);
    if !repos.get(&format!("{o}/{r}")).is_some_and(|repo| repo.whole_pages) {
        all.truncate(per);
    }
    axum::Json(all).into_response()
}

async fn create(State(s): Srv, method: Method, Path((o, r)): Path<(String, String)>, body: Bytes) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, "deployments") {
        return e;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let d = record(&s, &o, &r, &v, "stagegate-bot");
    (StatusCode::CREATED, axum::Json(d)).into_response()
}

/// Stores a new deployment as GitHub does for `POST …/deployments` — or for a
/// workflow job with `environment:` and no `deployment: false`.
pub(super) fn record(s: &Server, o: &str, r: &str, v: &Value, creator: &str) -> Value {
    let id = 5000 + s.ids.fetch_add(1, Ordering::Relaxed);
    let git_ref = v["ref"].as_str().unwrap_or_default().to_string();
    let sha = if git_ref.len() == 40 { git_ref.clone() } else { sha_of(&git_ref) };
    let u = s.url(&format!("/repos/{o}/{r}/deployments/{id}"));
    let at = now();
    let d = json!({
        "url": u, "id": id, "node_id": "DE_node", "sha": sha, "ref": git_ref, "task": v["task"].as_str().unwrap_or("deploy"),
        "payload": v.get("payload").cloned().unwrap_or(json!({})), "original_environment": v["environment"],
        "environment": v["environment"].as_str().unwrap_or("production"), "description": v["description"],
        "creator": s.user(creator), "created_at": at, "updated_at": at,
        "statuses_url": format!("{u}/statuses"), "repository_url": s.url(&format!("/repos/{o}/{r}")),
        "transient_environment": false, "production_environment": false
    });
    let mut repos = s.repos.lock().unwrap();
    let repo = repos.entry(format!("{o}/{r}")).or_default();
    repo.deployments.push(d.clone());
    // A deployment to a name GitHub has no environment of creates one.
    let name = d["environment"].as_str().unwrap_or("production").to_string();
    let env = super::github_envs::bare(s, o, r, &name);
    repo.environments.entry(name).or_insert(env);
    d
}

async fn list_statuses(State(s): Srv, method: Method, Path((o, r, id)): Path<(String, String, u64)>) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, &format!("deployments/{id}/statuses")) {
        return e;
    }
    let delay = s.repos.lock().unwrap().get(&format!("{o}/{r}")).and_then(|repo| repo.status_delay);
    if let Some(d) = delay {
        let now = s.status_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        s.status_max_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(d).await;
        s.status_in_flight.fetch_sub(1, Ordering::SeqCst);
    }
    let repos = s.repos.lock().unwrap();
    let mut all = repos.get(&format!("{o}/{r}")).and_then(|repo| repo.statuses.get(&id)).cloned().unwrap_or_default();
    all.reverse();
    axum::Json(all).into_response()
}

async fn create_status(
    State(s): Srv,
    method: Method,
    Path((o, r, id)): Path<(String, String, u64)>,
    body: Bytes,
) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, &format!("deployments/{id}/statuses")) {
        return e;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let mut repos = s.repos.lock().unwrap();
    let repo = repos.entry(format!("{o}/{r}")).or_default();
    let Some(dep) = repo.deployments.iter().find(|d| d["id"] == id).cloned() else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let du = s.url(&format!("/repos/{o}/{r}/deployments/{id}"));
    let log = v["log_url"].as_str().map(str::to_owned).unwrap_or_else(|| du.clone());
    let at = now();
    let status = json!({
        "url": format!("{du}/statuses/{}", s.ids.fetch_add(1, Ordering::Relaxed)), "id": s.ids.fetch_add(1, Ordering::Relaxed),
        "node_id": "DS_node", "state": v["state"], "creator": s.user("stagegate-bot"),
        "description": v["description"].as_str().unwrap_or(""), "environment": dep["environment"],
        "target_url": log, "log_url": log, "created_at": at, "updated_at": at,
        "deployment_url": du, "repository_url": s.url(&format!("/repos/{o}/{r}"))
    });
    // GitHub keeps the environment's URL the status was posted with.
    let mut status = status;
    if let Some(url) = v["environment_url"].as_str().filter(|u| !u.is_empty()) {
        status["environment_url"] = json!(url);
    }
    repo.statuses.entry(id).or_default().push(status.clone());
    (StatusCode::CREATED, axum::Json(status)).into_response()
}

async fn approvals(State(s): Srv, method: Method, Path((o, r, run_id)): Path<(String, String, String)>) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, &format!("actions/runs/{run_id}/approvals")) {
        return e;
    }
    let repos = s.repos.lock().unwrap();
    let all = repos.get(&format!("{o}/{r}")).and_then(|repo| repo.approvals.get(&run_id)).cloned().unwrap_or_default();
    axum::Json(all).into_response()
}

async fn members(
    State(s): Srv,
    Path((org, slug)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(logins) = s.teams.lock().unwrap().get(&format!("{org}/{slug}")).cloned() else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let page: usize = q.get("page").and_then(|v| v.parse().ok()).unwrap_or(1);
    let per: usize = q.get("per_page").and_then(|v| v.parse().ok()).unwrap_or(30);
    let users: Vec<Value> = logins.iter().skip((page - 1) * per).take(per).map(|l| s.user(l)).collect();
    axum::Json(users).into_response()
}

async fn compare(State(s): Srv, method: Method, Path((o, r, basehead)): Path<(String, String, String)>) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, &format!("compare/{basehead}")) {
        return e;
    }
    let Some((base, head)) = basehead.split_once("...") else { return error(StatusCode::NOT_FOUND, "Not Found") };
    let messages = s
        .repos
        .lock()
        .unwrap()
        .get(&format!("{o}/{r}"))
        .and_then(|repo| repo.comparisons.get(&basehead).cloned())
        .unwrap_or_default();
    let commits: Vec<Value> =
        messages.iter().enumerate().map(|(i, m)| s.commit(&o, &r, &sha_of(&format!("{head}{i}")), m)).collect();
    let u = s.url(&format!("/repos/{o}/{r}/compare/{basehead}"));
    axum::Json(json!({
        "url": u, "html_url": u, "permalink_url": u, "diff_url": format!("{u}.diff"), "patch_url": format!("{u}.patch"),
        "base_commit": s.commit(&o, &r, base, "base"), "merge_base_commit": s.commit(&o, &r, base, "base"),
        "status": if commits.is_empty() { "identical" } else { "ahead" }, "ahead_by": commits.len(), "behind_by": 0,
        "total_commits": commits.len(), "commits": commits, "files": []
    }))
    .into_response()
}

impl super::github::Harness {
    /// `n` deployments to `env` that never got a status, listed whole on one
    /// page whatever `per_page` asks, each status list answering after
    /// `delay`: a history GitHub pages would never hand out at once.
    pub fn flood_deployments(&self, repo: &str, env: &str, n: usize, delay: std::time::Duration) {
        let (o, r) = repo.split_once('/').unwrap();
        for i in 0..n {
            let v =
                json!({"ref": sha_of(&format!("flood-{i}")), "environment": env, "description": format!("flood {i}")});
            record(&self.server, o, r, &v, "github-actions[bot]");
        }
        let mut repos = self.server.repos.lock().unwrap();
        let r = repos.get_mut(repo).unwrap();
        r.whole_pages = true;
        r.status_delay = Some(delay);
    }

    /// The most status lists answered at once since the last call (repositories
    /// with a delay only); resets the count.
    pub fn status_max_in_flight(&self) -> u64 {
        self.server.status_max_in_flight.swap(0, Ordering::SeqCst)
    }
}
