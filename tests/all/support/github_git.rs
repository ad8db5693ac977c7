//! Git data and releases of the GitHub test server: refs, annotated tag
//! objects, commits and releases, as GitHub's REST API answers them.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::github::{Server, Srv, error, sha_of};

pub(super) fn routes() -> Router<std::sync::Arc<Server>> {
    Router::new()
        .route("/repos/{owner}/{repo}/git/matching-refs/{ref}", get(matching_refs))
        .route("/repos/{owner}/{repo}/git/ref/{ref}", get(get_ref))
        .route("/repos/{owner}/{repo}/git/refs", post(create_ref))
        .route("/repos/{owner}/{repo}/git/tags", post(create_tag_object))
        .route("/repos/{owner}/{repo}/commits/{ref}", get(get_commit))
        .route("/repos/{owner}/{repo}/releases", get(list_releases).post(create_release))
        .route("/repos/{owner}/{repo}/releases/{id}", get(get_release).patch(update_release).delete(delete_release))
}

async fn matching_refs(
    State(s): Srv,
    method: Method,
    Path((o, r, prefix)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, &format!("git/matching-refs/{prefix}")) {
        return e;
    }
    let repos = s.repos.lock().unwrap();
    let full = format!("refs/{prefix}");
    let all: Vec<Value> = repos
        .get(&format!("{o}/{r}"))
        .map(|repo| {
            repo.refs
                .iter()
                .filter(|(k, _)| k.starts_with(&full))
                .map(|(k, (sha, kind))| s.git_ref(&o, &r, k, sha, kind))
                .collect()
        })
        .unwrap_or_default();
    axum::Json(page(all, &q)).into_response()
}

fn page(all: Vec<Value>, q: &HashMap<String, String>) -> Vec<Value> {
    let per: usize = q.get("per_page").and_then(|v| v.parse().ok()).unwrap_or(30).clamp(1, 100);
    let page: usize = q.get("page").and_then(|v| v.parse().ok()).unwrap_or(1).max(1);
    all.into_iter().skip((page - 1) * per).take(per).collect()
}

async fn get_ref(State(s): Srv, method: Method, Path((o, r, name)): Path<(String, String, String)>) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, &format!("git/ref/{name}")) {
        return e;
    }
    let repos = s.repos.lock().unwrap();
    let full = format!("refs/{name}");
    match repos.get(&format!("{o}/{r}")).and_then(|repo| repo.refs.get(&full)) {
        Some((sha, kind)) => axum::Json(s.git_ref(&o, &r, &full, sha, kind)).into_response(),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn create_ref(State(s): Srv, method: Method, Path((o, r)): Path<(String, String)>, body: Bytes) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, "git/refs") {
        return e;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let (Some(name), Some(sha)) = (v["ref"].as_str(), v["sha"].as_str()) else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Invalid request");
    };
    let mut repos = s.repos.lock().unwrap();
    let repo = repos.entry(format!("{o}/{r}")).or_default();
    if repo.refs.contains_key(name) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Reference already exists");
    }
    let kind = if repo.tag_objects.contains_key(sha) { "tag" } else { "commit" };
    repo.refs.insert(name.to_owned(), (sha.to_owned(), kind));
    (StatusCode::CREATED, axum::Json(s.git_ref(&o, &r, name, sha, kind))).into_response()
}

async fn create_tag_object(
    State(s): Srv,
    method: Method,
    Path((o, r)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, "git/tags") {
        return e;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let sha = sha_of(&format!("{o}/{r}:{}", s.ids.fetch_add(1, Ordering::Relaxed)));
    let obj = v["object"].as_str().unwrap_or_default();
    let tag = json!({
        "node_id": "TAG_node", "tag": v["tag"], "sha": sha,
        "url": s.url(&format!("/repos/{o}/{r}/git/tags/{sha}")), "message": v["message"],
        "tagger": {"name": "stagegate", "email": "stagegate@example.com", "date": "2026-11-21T00:00:00Z"},
        "object": {"type": "commit", "sha": obj, "url": s.url(&format!("/repos/{o}/{r}/git/commits/{obj}"))},
    });
    s.repos.lock().unwrap().entry(format!("{o}/{r}")).or_default().tag_objects.insert(sha, tag.clone());
    (StatusCode::CREATED, axum::Json(tag)).into_response()
}

async fn get_commit(State(s): Srv, method: Method, Path((o, r, git_ref)): Path<(String, String, String)>) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, &format!("commits/{git_ref}")) {
        return e;
    }
    let sha = if git_ref.len() == 40 { git_ref.clone() } else { sha_of(&git_ref) };
    axum::Json(s.commit(&o, &r, &sha, "commit")).into_response()
}

fn release_json(s: &Server, o: &str, r: &str, id: u64, v: &Value) -> Value {
    let u = s.url(&format!("/repos/{o}/{r}/releases/{id}"));
    let tag = v["tag_name"].as_str().unwrap_or_default();
    json!({
        "url": u, "html_url": format!("https://github.example/{o}/{r}/releases/tag/{tag}"),
        "assets_url": format!("{u}/assets"), "upload_url": format!("{u}/assets{{?name,label}}"),
        "tarball_url": format!("{u}/tarball"), "zipball_url": format!("{u}/zipball"),
        "id": id, "node_id": "RE_node", "tag_name": tag,
        "target_commitish": v["target_commitish"].as_str().unwrap_or("main"),
        "name": v["name"].as_str().unwrap_or(tag), "body": v["body"],
        "draft": v["draft"].as_bool().unwrap_or(false), "prerelease": false,
        "created_at": "2026-11-21T00:00:00Z",
        "published_at": if v["draft"].as_bool().unwrap_or(false) { Value::Null } else { json!("2026-11-21T00:00:00Z") },
        "author": s.user("stagegate-bot"), "assets": []
    })
}

async fn list_releases(
    State(s): Srv,
    method: Method,
    Path((o, r)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, "releases") {
        return e;
    }
    let repos = s.repos.lock().unwrap();
    let mut all = repos.get(&format!("{o}/{r}")).map(|repo| repo.releases.clone()).unwrap_or_default();
    all.reverse();
    axum::Json(page(all, &q)).into_response()
}

async fn create_release(State(s): Srv, method: Method, Path((o, r)): Path<(String, String)>, body: Bytes) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, "releases") {
        return e;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let id = 1000 + s.ids.fetch_add(1, Ordering::Relaxed);
    let mut rel = release_json(&s, &o, &r, id, &v);
    if v["generate_release_notes"].as_bool() == Some(true) && v["body"].is_null() {
        rel["body"] = json!(format!("## What's Changed\n\n**Full Changelog**: {}", v["tag_name"]));
    }
    s.repos.lock().unwrap().entry(format!("{o}/{r}")).or_default().releases.push(rel.clone());
    (StatusCode::CREATED, axum::Json(rel)).into_response()
}

fn find_release(s: &Server, o: &str, r: &str, id: u64) -> Option<Value> {
    let repos = s.repos.lock().unwrap();
    repos.get(&format!("{o}/{r}"))?.releases.iter().find(|x| x["id"] == id).cloned()
}

async fn get_release(State(s): Srv, method: Method, Path((o, r, id)): Path<(String, String, u64)>) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, &format!("releases/{id}")) {
        return e;
    }
    match find_release(&s, &o, &r, id) {
        Some(v) => axum::Json(v).into_response(),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn update_release(
    State(s): Srv,
    method: Method,
    Path((o, r, id)): Path<(String, String, u64)>,
    body: Bytes,
) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, &format!("releases/{id}")) {
        return e;
    }
    let patch: Value = serde_json::from_slice(&body).unwrap_or_default();
    let mut repos = s.repos.lock().unwrap();
    let Some(rel) =
        repos.get_mut(&format!("{o}/{r}")).and_then(|repo| repo.releases.iter_mut().find(|x| x["id"] == id))
    else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    if patch["draft"] == json!(false) && rel["draft"] == json!(true) {
        rel["draft"] = json!(false);
        rel["published_at"] = json!("2026-11-21T12:00:00Z");
    }
    if let Some(latest) = patch["make_latest"].as_str() {
        rel["make_latest_requested"] = json!(latest);
    }
    let mut out = rel.clone();
    out.as_object_mut().unwrap().remove("make_latest_requested");
    axum::Json(out).into_response()
}

async fn delete_release(
    State(s): Srv,
    method: Method,
    Path((o, r, id)): Path<(String, String, u64)>,
    _h: HeaderMap,
) -> Response {
    if let Some(e) = s.enter(&o, &r, &method, &format!("releases/{id}")) {
        return e;
    }
    let mut repos = s.repos.lock().unwrap();
    let Some(repo) = repos.get_mut(&format!("{o}/{r}")) else { return error(StatusCode::NOT_FOUND, "Not Found") };
    let before = repo.releases.len();
    repo.releases.retain(|x| x["id"] != id);
    if repo.releases.len() == before {
        error(StatusCode::NOT_FOUND, "Not Found")
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}
