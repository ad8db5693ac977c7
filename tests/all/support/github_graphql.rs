//! GitHub test server, continued: GitHub's GraphQL endpoint.
//!
//! `POST /graphql` goes (through the recording shim) to
//! `tests/prism/graphql-server.js`, which validates every query against
//! GitHub's published schema (`@octokit/graphql-schema`) and executes it with
//! graphql-js over this server's state, read from `GET /_graphql/{owner}/{repo}`
//! — one recorded call (`POST graphql`) per query, where faults apply as on
//! a GET. A query GitHub would refuse is a violation, as Prism's
//! are for REST.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::github::{Server, Srv};

pub(super) fn routes() -> Router<Arc<Server>> {
    Router::new().route("/_graphql/{owner}/{repo}", get(state))
}

/// What one query may read of a repository: its deployments and their statuses
/// (oldest first, GitHub's REST shapes), or the GraphQL error queued for it.
async fn state(State(s): Srv, Path((o, r)): Path<(String, String)>) -> Response {
    // A query reads: faults aimed at writes (POST) leave it alone.
    if let Some(e) = s.enter_as(&o, &r, &Method::POST, &Method::GET, "graphql") {
        return e;
    }
    let mut repos = s.repos.lock().unwrap();
    let repo = repos.entry(format!("{o}/{r}")).or_default();
    if let Some(e) = repo.graphql_errors.pop_front() {
        return axum::Json(json!({"graphql_error": e})).into_response();
    }
    let statuses: serde_json::Map<String, Value> =
        repo.statuses.iter().map(|(id, list)| (id.to_string(), Value::from(list.clone()))).collect();
    axum::Json(json!({"deployments": repo.deployments, "statuses": statuses, "whole_pages": repo.whole_pages}))
        .into_response()
}

/// Starts the GraphQL endpoint over the server at `upstream`; its URL.
pub(super) fn start(upstream: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/prism");
    assert!(
        root.join("node_modules/@octokit/graphql-schema/schema.json").exists(),
        "GitHub's GraphQL schema is not installed: run `bash scripts/test.sh` (it runs npm ci in tests/prism)"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cmd = Command::new("node");
    cmd.arg(root.join("graphql-server.js"))
        .arg(port.to_string())
        .arg(upstream)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // It dies with this (long-lived) thread's process.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("node runs the GraphQL endpoint");
    let mut ready = String::new();
    let stdout = child.stdout.take().unwrap();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut ready).unwrap();
    assert_eq!(ready.trim(), "ready", "the GraphQL endpoint did not start");
    std::thread::spawn(move || child.wait());
    format!("http://127.0.0.1:{port}")
}

impl super::github::Harness {
    /// The next GraphQL query on `repo` is answered as GitHub answers one it
    /// refuses after accepting it: 200 with `errors: [{type, message}]`.
    pub fn graphql_error(&self, repo: &str, kind: &str, message: &str) {
        let mut repos = self.server.repos.lock().unwrap();
        let r = repos.entry(repo.to_owned()).or_default();
        r.graphql_errors.push_back(json!({"type": kind, "message": message}));
    }

    /// `releases.len()` deployments of `env` as stagegate records them (payload
    /// and all), the i-th of `releases[i]` created at `start + i * step` and
    /// `success` then: weeks of history in a moment.
    pub fn seed_history(&self, repo: &str, env: &str, releases: &[String], start: &str, step: chrono::Duration) {
        let (o, r) = repo.split_once('/').unwrap();
        let start: chrono::DateTime<chrono::Utc> = start.parse().unwrap();
        for (i, release) in releases.iter().enumerate() {
            let at = (start + step * i as i32).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let record = json!({
                "environment": env, "release": release, "ref": "refs/heads/main", "sha": null,
                "creator": "carol", "description": format!("deploy {release}"), "run_id": format!("{i}"),
                "from": null, "rollback_of": null, "at": at
            });
            let body =
                json!({"ref": "main", "environment": env, "description": "seeded", "payload": {"stagegate": record}});
            let d = super::github_deploy::record(&self.server, o, r, &body, "carol");
            let id = d["id"].as_u64().unwrap();
            let mut repos = self.server.repos.lock().unwrap();
            let repo = repos.get_mut(repo).unwrap();
            let stored = repo.deployments.iter_mut().find(|d| d["id"] == id).unwrap();
            stored["created_at"] = json!(at);
            stored["updated_at"] = json!(at);
            let du = self.server.url(&format!("/repos/{o}/{r}/deployments/{id}"));
            let status = json!({
                "url": format!("{du}/statuses/1"), "id": id, "node_id": "DS_node", "state": "success",
                "creator": self.server.user("stagegate-bot"), "description": format!("{release} is live"),
                "environment": env, "target_url": du, "log_url": du, "created_at": at, "updated_at": at,
                "deployment_url": du, "repository_url": self.server.url(&format!("/repos/{o}/{r}"))
            });
            repo.statuses.entry(id).or_default().push(status);
        }
    }
}
