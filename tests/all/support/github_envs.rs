//! GitHub test server, continued: environments, deployment branch policies,
//! users and teams — enough of GitHub's behaviour for `environments sync`.

use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde_json::{Value, json};

use super::github::{Server, Srv, error, sha_of};

pub(super) fn routes() -> Router<std::sync::Arc<Server>> {
    Router::new()
        .route("/repos/{owner}/{repo}/environments", get(list_envs))
        .route("/repos/{owner}/{repo}/environments/{name}", get(get_env).put(put_env).delete(delete_env))
        .route(
            "/repos/{owner}/{repo}/environments/{name}/deployment-branch-policies",
            get(list_policies).post(create_policy),
        )
        .route("/repos/{owner}/{repo}/environments/{name}/deployment-branch-policies/{id}", delete(delete_policy))
        .route("/users/{login}", get(get_user))
        .route("/orgs/{org}/teams/{slug}", get(get_team))
}

fn id_of(s: &str) -> u64 {
    u64::from_str_radix(&sha_of(s)[..8], 16).unwrap()
}

fn team_json(s: &Server, org: &str, slug: &str) -> Value {
    let u = s.url(&format!("/orgs/{org}/teams/{slug}"));
    json!({
        "id": id_of(&format!("team:{org}/{slug}")), "node_id": "T_node", "url": u, "members_url": format!("{u}/members{{/member}}"),
        "name": slug, "slug": slug, "description": null, "permission": "pull", "html_url": format!("https://github.example/orgs/{org}/teams/{slug}"),
        "repositories_url": format!("{u}/repos"), "parent": null, "type": "organization"
    })
}

async fn get_user(State(s): Srv, Path(login): Path<String>) -> Response {
    if login.starts_with("ghost") {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let mut u = s.user(&login);
    u["id"] = json!(id_of(&format!("user:{login}")));
    s.reviewers.lock().unwrap().insert(("User".into(), u["id"].as_u64().unwrap()), u.clone());
    for (k, v) in [
        ("bio", Value::Null),
        ("blog", json!("")),
        ("company", Value::Null),
        ("email", Value::Null),
        ("hireable", Value::Null),
        ("location", Value::Null),
        ("name", json!(login)),
    ] {
        u[k] = v;
    }
    for k in ["followers", "following", "public_gists", "public_repos"] {
        u[k] = json!(0);
    }
    u["created_at"] = json!("2020-01-01T00:00:00Z");
    u["updated_at"] = json!("2020-01-01T00:00:00Z");
    u["user_view_type"] = json!("public");
    axum::Json(u).into_response()
}

async fn get_team(State(s): Srv, Path((org, slug)): Path<(String, String)>) -> Response {
    if slug.starts_with("ghost") {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let team = team_json(&s, &org, &slug);
    s.reviewers.lock().unwrap().insert(("Team".into(), team["id"].as_u64().unwrap()), team.clone());
    let mut full = team;
    full.as_object_mut().unwrap().remove("parent");
    let ou = s.url(&format!("/orgs/{org}"));
    full["created_at"] = json!("2020-01-01T00:00:00Z");
    full["updated_at"] = json!("2020-01-01T00:00:00Z");
    full["members_count"] = json!(3);
    full["repos_count"] = json!(1);
    full["organization"] = json!({
        "login": org, "url": ou, "id": id_of(&format!("org:{org}")), "node_id": "O_node", "repos_url": format!("{ou}/repos"),
        "events_url": format!("{ou}/events"), "hooks_url": format!("{ou}/hooks"), "issues_url": format!("{ou}/issues"),
        "members_url": format!("{ou}/members{{/member}}"), "public_members_url": format!("{ou}/public_members{{/member}}"),
        "avatar_url": format!("{ou}/avatar"), "description": null, "html_url": format!("https://github.example/{org}"),
        "has_organization_projects": true, "has_repository_projects": true, "public_repos": 1, "public_gists": 0,
        "followers": 0, "following": 0, "type": "Organization", "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2020-01-01T00:00:00Z", "archived_at": null
    });
    axum::Json(full).into_response()
}

async fn get_env(State(s): Srv, method: Method, Path((o, r, name)): Path<(String, String, String)>) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, &format!("environments/{name}")) {
        return e;
    }
    match s.repos.lock().unwrap().get(&format!("{o}/{r}")).and_then(|repo| repo.environments.get(&name)) {
        Some(env) => axum::Json(env.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

/// An environment with no protection, as a first deployment to its name creates it.
pub(super) fn bare(s: &Server, o: &str, r: &str, name: &str) -> Value {
    let u = s.url(&format!("/repos/{o}/{r}/environments/{}", name.replace('/', "%2F")));
    json!({
        "id": s.ids.fetch_add(1, Ordering::Relaxed), "node_id": "EN_node", "name": name, "url": u,
        "html_url": format!("https://github.example/{o}/{r}/deployments/activity_log?environments_filter={name}"),
        "created_at": "2026-11-21T00:00:00Z", "updated_at": "2026-11-21T00:00:00Z",
        "protection_rules": [], "deployment_branch_policy": null
    })
}

async fn list_envs(State(s): Srv, method: Method, Path((o, r)): Path<(String, String)>) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, "environments") {
        return e;
    }
    let repos = s.repos.lock().unwrap();
    let all: Vec<Value> =
        repos.get(&format!("{o}/{r}")).map(|x| x.environments.values().cloned().collect()).unwrap_or_default();
    axum::Json(json!({"total_count": all.len(), "environments": all})).into_response()
}

/// `DELETE …/environments/{name}`: 204. A repository marked
/// `env_delete_forbidden` answers as GitHub does a workflow token: 403
/// "Resource not accessible by integration".
async fn delete_env(State(s): Srv, method: Method, Path((o, r, name)): Path<(String, String, String)>) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, &format!("environments/{name}")) {
        return e;
    }
    let mut repos = s.repos.lock().unwrap();
    let repo = repos.entry(format!("{o}/{r}")).or_default();
    if repo.env_delete_forbidden {
        return error(StatusCode::FORBIDDEN, "Resource not accessible by integration");
    }
    repo.environments.remove(&name);
    repo.policies.remove(&name);
    StatusCode::NO_CONTENT.into_response()
}

async fn put_env(
    State(s): Srv,
    method: Method,
    Path((o, r, name)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, &format!("environments/{name}")) {
        return e;
    }
    let v: Value = if body.is_empty() { json!({}) } else { serde_json::from_slice(&body).unwrap_or_default() };
    let mut rules = Vec::new();
    let next = || s.ids.fetch_add(1, Ordering::Relaxed);
    let wait = v["wait_timer"].as_u64().unwrap_or(0);
    if wait > 0 {
        rules.push(json!({"id": next(), "node_id": "PR_node", "type": "wait_timer", "wait_timer": wait}));
    }
    let reviewers: Vec<Value> = {
        let known = s.reviewers.lock().unwrap();
        v["reviewers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| {
                let kind = x["type"].as_str().unwrap_or("User").to_string();
                let who = known.get(&(kind.clone(), x["id"].as_u64().unwrap_or(0))).cloned().unwrap_or(Value::Null);
                json!({"type": kind, "reviewer": who})
            })
            .collect()
    };
    if !reviewers.is_empty() {
        rules.push(json!({
            "id": next(), "node_id": "PR_node", "type": "required_reviewers",
            "prevent_self_review": v["prevent_self_review"].as_bool().unwrap_or(false), "reviewers": reviewers
        }));
    }
    let dbp = v.get("deployment_branch_policy").cloned().unwrap_or(Value::Null);
    if !dbp.is_null() {
        rules.push(json!({"id": next(), "node_id": "PR_node", "type": "branch_policy"}));
    }
    let u = s.url(&format!("/repos/{o}/{r}/environments/{name}"));
    let mut repos = s.repos.lock().unwrap();
    let repo = repos.entry(format!("{o}/{r}")).or_default();
    let id = repo.environments.get(&name).and_then(|e| e["id"].as_u64()).unwrap_or_else(next);
    let env = json!({
        "id": id, "node_id": "EN_node", "name": name, "url": u,
        "html_url": format!("https://github.example/{o}/{r}/deployments/activity_log?environments_filter={name}"),
        "created_at": "2026-11-21T00:00:00Z", "updated_at": "2026-11-21T00:00:00Z",
        "protection_rules": rules, "deployment_branch_policy": dbp
    });
    if dbp.is_null() {
        repo.policies.remove(&name);
    }
    repo.environments.insert(name, env.clone());
    axum::Json(env).into_response()
}

async fn list_policies(State(s): Srv, method: Method, Path((o, r, name)): Path<(String, String, String)>) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, &format!("environments/{name}/deployment-branch-policies")) {
        return e;
    }
    let repos = s.repos.lock().unwrap();
    let all = repos.get(&format!("{o}/{r}")).and_then(|repo| repo.policies.get(&name)).cloned().unwrap_or_default();
    axum::Json(json!({"total_count": all.len(), "branch_policies": all})).into_response()
}

async fn create_policy(
    State(s): Srv,
    method: Method,
    Path((o, r, name)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, &format!("environments/{name}/deployment-branch-policies")) {
        return e;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let mut repos = s.repos.lock().unwrap();
    let repo = repos.entry(format!("{o}/{r}")).or_default();
    let custom = repo
        .environments
        .get(&name)
        .is_some_and(|e| e["deployment_branch_policy"]["custom_branch_policies"] == json!(true));
    if !custom {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let list = repo.policies.entry(name).or_default();
    let kind = v["type"].as_str().unwrap_or("branch");
    if list.iter().any(|p| p["name"] == v["name"] && p["type"] == kind) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed: name already exists");
    }
    let p = json!({"id": s.ids.fetch_add(1, Ordering::Relaxed), "node_id": "BP_node", "name": v["name"], "type": kind});
    list.push(p.clone());
    axum::Json(p).into_response()
}

async fn delete_policy(
    State(s): Srv,
    method: Method,
    Path((o, r, name, id)): Path<(String, String, String, u64)>,
) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, &format!("environments/{name}/deployment-branch-policies/{id}")) {
        return e;
    }
    let mut repos = s.repos.lock().unwrap();
    let Some(list) = repos.get_mut(&format!("{o}/{r}")).and_then(|repo| repo.policies.get_mut(&name)) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let before = list.len();
    list.retain(|p| p["id"] != id);
    if list.len() == before {
        error(StatusCode::NOT_FOUND, "Not Found")
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}
