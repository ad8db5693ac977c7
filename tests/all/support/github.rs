//! A stateful GitHub test server behind Prism.
//!
//! Every request the client under test sends goes: client → recording shim →
//! Prism (proxy mode, `--errors`, GitHub's own OpenAPI description) → this
//! server. Prism refuses requests that violate the description (422) and flags
//! responses that do (`sl-violations`); the shim records both per repository,
//! so each test asserts that *its* requests and responses were valid.
//!
//! One instance serves the whole test binary; tests keep apart by using a
//! repository of their own (`Harness::repo`).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::TcpListener as StdListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A failure the server answers with instead of handling the next request.
#[derive(Debug, Clone)]
pub struct Fault {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub message: &'static str,
    /// Only requests with this method (e.g. POST) trigger it.
    pub method: Option<Method>,
}

#[derive(Default)]
pub(super) struct Repo {
    /// `base...head` → commit messages `head` has that `base` lacks.
    pub(super) comparisons: HashMap<String, Vec<String>>,
    pub(super) deployments: Vec<Value>,
    pub(super) statuses: HashMap<u64, Vec<Value>>,
    /// Run id → GitHub's review history of that run.
    pub(super) approvals: HashMap<String, Vec<Value>>,
    pub(super) environments: BTreeMap<String, Value>,
    pub(super) policies: BTreeMap<String, Vec<Value>>,
    pub(super) refs: BTreeMap<String, (String, &'static str)>,
    pub(super) tag_objects: HashMap<String, Value>,
    pub(super) releases: Vec<Value>,
    faults: VecDeque<Fault>,
    calls: Vec<String>,
    /// What a GitHub App sees of the repository (`github_app`).
    pub(super) app: super::github_app::RepoApp,
    /// Pages of deployments ignore `per_page` (a server that sends them all).
    pub(super) whole_pages: bool,
    /// `DELETE …/environments/{name}` is refused as for a workflow token.
    pub(super) env_delete_forbidden: bool,
    /// Each status list takes this long to answer (to see requests overlap).
    pub(super) status_delay: Option<Duration>,
    /// GraphQL errors the next queries get (`Harness::graphql_error`).
    pub(super) graphql_errors: VecDeque<Value>,
}

#[derive(Default)]
pub(super) struct Server {
    pub(super) repos: Mutex<HashMap<String, Repo>>,
    pub(super) ids: AtomicU64,
    base: OnceLock<String>,
    /// Reviewers by (type, id), as GET /users and /orgs/…/teams handed them out.
    pub(super) reviewers: Mutex<HashMap<(String, u64), Value>>,
    /// `org/slug` → member logins.
    pub(super) teams: Mutex<HashMap<String, Vec<String>>>,
    /// Apps, their keys and the installation tokens handed out (`github_app`).
    pub(super) app: Mutex<super::github_app::AppState>,
    /// Status lists being answered now, and the most at once, for repositories
    /// with a `status_delay` (one such test at a time).
    pub(super) status_in_flight: AtomicU64,
    pub(super) status_max_in_flight: AtomicU64,
}

pub struct Harness {
    /// What the client under test uses as `GITHUB_API_URL`.
    pub url: String,
    pub(super) server: Arc<Server>,
    violations: Arc<Mutex<Vec<(String, String)>>>,
    counter: AtomicU64,
}

static HARNESS: OnceLock<Harness> = OnceLock::new();

/// The shared harness, started on first use (Prism takes a few seconds).
pub fn github() -> &'static Harness {
    HARNESS.get_or_init(start)
}

impl Harness {
    /// A repository no other test uses: `owner/repo`.
    pub fn repo(&self, name: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("acme/{name}-{n}")
    }

    /// `DELETE …/environments/{name}` on `repo` answers as to a workflow token (403).
    pub fn forbid_environment_deletes(&self, repo: &str) {
        self.server.repos.lock().unwrap().entry(repo.to_owned()).or_default().env_delete_forbidden = true;
    }

    /// Queues a fault for the next matching request on `repo`.
    pub fn inject(&self, repo: &str, fault: Fault, times: usize) {
        let mut repos = self.server.repos.lock().unwrap();
        let r = repos.entry(repo.to_owned()).or_default();
        for _ in 0..times {
            r.faults.push_back(fault.clone());
        }
    }

    /// `METHOD /path` of every request that reached the server for `repo`.
    pub fn calls(&self, repo: &str) -> Vec<String> {
        self.server.repos.lock().unwrap().get(repo).map(|r| r.calls.clone()).unwrap_or_default()
    }

    /// Tag names of `repo`.
    pub fn tags(&self, repo: &str) -> Vec<String> {
        let repos = self.server.repos.lock().unwrap();
        let Some(r) = repos.get(repo) else { return vec![] };
        r.refs.keys().filter_map(|k| k.strip_prefix("refs/tags/").map(str::to_owned)).collect()
    }

    /// Releases of `repo` as the server holds them.
    pub fn releases(&self, repo: &str) -> Vec<Value> {
        self.server.repos.lock().unwrap().get(repo).map(|r| r.releases.clone()).unwrap_or_default()
    }

    /// Seeds tags (name → commit) as if pushed earlier.
    pub fn seed_tags(&self, repo: &str, tags: &[&str]) {
        let mut repos = self.server.repos.lock().unwrap();
        let r = repos.entry(repo.to_owned()).or_default();
        for t in tags {
            r.refs.insert(format!("refs/tags/{t}"), (sha_of(t), "commit"));
        }
    }

    /// What `GET compare/{base}...{head}` answers for `repo`.
    pub fn seed_compare(&self, repo: &str, base: &str, head: &str, messages: &[&str]) {
        let mut repos = self.server.repos.lock().unwrap();
        let r = repos.entry(repo.to_owned()).or_default();
        r.comparisons.insert(format!("{base}...{head}"), messages.iter().map(|m| m.to_string()).collect());
    }

    /// Sets a team's members (`org/slug`), as the organisation would.
    pub fn set_team(&self, team: &str, members: &[&str]) {
        self.server.teams.lock().unwrap().insert(team.to_owned(), members.iter().map(|m| m.to_string()).collect());
    }

    /// Records a review of `environments` in run `run_id`, as GitHub does when a
    /// reviewer approves (or rejects) pending deployments.
    pub fn review(&self, repo: &str, run_id: &str, environments: &[&str], login: &str, bot: bool, approved: bool) {
        let mut user = self.server.user(login);
        if bot {
            user["type"] = serde_json::json!("Bot");
        }
        let envs: Vec<Value> = environments
            .iter()
            .map(|e| serde_json::json!({"id": sha_of(e).len(), "node_id": "EN_node", "name": e, "url": self.server.url(&format!("/repos/{repo}/environments/{e}")), "html_url": "https://github.example", "created_at": "2026-11-21T00:00:00Z", "updated_at": "2026-11-21T00:00:00Z"}))
            .collect();
        let review = serde_json::json!({
            "environments": envs, "state": if approved { "approved" } else { "rejected" }, "user": user, "comment": ""
        });
        self.server
            .repos
            .lock()
            .unwrap()
            .entry(repo.to_owned())
            .or_default()
            .approvals
            .entry(run_id.to_owned())
            .or_default()
            .push(review);
    }

    /// Deployments of `repo` with their statuses (oldest first), as the server holds them.
    pub fn deployments(&self, repo: &str) -> Vec<(Value, Vec<String>)> {
        let repos = self.server.repos.lock().unwrap();
        let Some(r) = repos.get(repo) else { return vec![] };
        r.deployments
            .iter()
            .map(|d| {
                let id = d["id"].as_u64().unwrap();
                let states = r
                    .statuses
                    .get(&id)
                    .into_iter()
                    .flatten()
                    .map(|s| s["state"].as_str().unwrap_or("?").to_owned())
                    .collect();
                (d.clone(), states)
            })
            .collect()
    }

    /// Every deployment status of `repo` as GitHub would list it (GitHub's
    /// JSON shape), deployment by deployment, oldest first.
    pub fn status_records(&self, repo: &str) -> Vec<Value> {
        let repos = self.server.repos.lock().unwrap();
        let Some(r) = repos.get(repo) else { return vec![] };
        let ids = r.deployments.iter().filter_map(|d| d["id"].as_u64());
        ids.flat_map(|id| r.statuses.get(&id).cloned().unwrap_or_default()).collect()
    }

    /// An environment of `repo` as the server holds it (GitHub's JSON shape).
    pub fn environment(&self, repo: &str, name: &str) -> Option<Value> {
        self.server.repos.lock().unwrap().get(repo)?.environments.get(name).cloned()
    }

    /// The deployment GitHub itself creates when a workflow job names an
    /// environment without `deployment: false`.
    pub fn actions_job_deployment(&self, repo: &str, env: &str, git_ref: &str) {
        let (o, r) = repo.split_once('/').unwrap();
        let v = json!({"ref": git_ref, "environment": env, "task": "deploy", "description": null});
        super::github_deploy::record(&self.server, o, r, &v, "github-actions[bot]");
    }

    /// A deployment as anyone allowed to create deployments could make it
    /// (`POST …/deployments` with this body), payload and all.
    pub fn add_deployment(&self, repo: &str, body: &Value, creator: &str) {
        let (o, r) = repo.split_once('/').unwrap();
        super::github_deploy::record(&self.server, o, r, body, creator);
    }

    /// The deployment branch and tag policies of an environment: (type, name), in creation order.
    pub fn policies(&self, repo: &str, env: &str) -> Vec<(String, String)> {
        let repos = self.server.repos.lock().unwrap();
        let list = repos.get(repo).and_then(|r| r.policies.get(env)).cloned().unwrap_or_default();
        list.iter()
            .map(|p| (p["type"].as_str().unwrap_or("?").into(), p["name"].as_str().unwrap_or("?").into()))
            .collect()
    }

    /// Changes an environment behind stagegate's back (someone in the UI).
    pub fn tamper_environment(&self, repo: &str, name: &str, f: impl FnOnce(&mut Value)) {
        let mut repos = self.server.repos.lock().unwrap();
        if let Some(e) = repos.get_mut(repo).and_then(|r| r.environments.get_mut(name)) {
            f(e);
        }
    }

    /// Violations Prism reported for requests on `repo`; `status_only` keeps out
    /// the warnings about undocumented statuses that injected faults cause.
    pub fn violations(&self, repo: &str) -> Vec<String> {
        let needle = format!("/repos/{repo}/");
        self.violations
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p.contains(&needle))
            .map(|(p, v)| format!("{p}: {v}"))
            .collect()
    }

    /// Violations other than "this status code is not in the description".
    pub fn schema_violations(&self, repo: &str) -> Vec<String> {
        self.violations(repo).into_iter().filter(|v| !v.contains("Unable to match the returned status code")).collect()
    }
}

pub(super) fn sha_of(s: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(s.as_bytes()).iter().take(20).map(|b| format!("{b:02x}")).collect()
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn prism_spec() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/prism");
    let full = root.join("node_modules/@octokit/openapi/generated/api.github.com.json");
    assert!(
        full.exists(),
        "GitHub's OpenAPI description is not installed: run `bash scripts/test.sh` (it runs npm ci in tests/prism)"
    );
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("github-trimmed-{}.json", std::process::id()));
    let status =
        Command::new("python3").arg(root.join("trim-spec.py")).arg(&full).arg(&out).status().expect("python3 runs");
    assert!(status.success(), "trimming the OpenAPI description failed");
    out
}

fn start() -> Harness {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("github-harness".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let server = Arc::new(Server::default());
                let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let upstream_port = upstream.local_addr().unwrap().port();
                tokio::spawn(axum::serve(upstream, routes(server.clone())).into_future());

                let prism_port = free_port();
                let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/prism/node_modules/.bin/prism");
                assert!(
                    bin.exists(),
                    "Prism is not installed: run `bash scripts/test.sh` (it runs npm ci in tests/prism)"
                );
                let log = std::fs::File::create(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("prism.log")).unwrap();
                let mut cmd = Command::new(bin);
                cmd.args(["proxy", "--errors"])
                    .arg(prism_spec())
                    .arg(format!("http://127.0.0.1:{upstream_port}"))
                    .args(["-h", "127.0.0.1", "-p", &prism_port.to_string()])
                    .stdin(Stdio::null())
                    .stdout(log.try_clone().unwrap())
                    .stderr(log);
                // Prism dies with this (long-lived) thread's process.
                unsafe {
                    cmd.pre_exec(|| {
                        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                        Ok(())
                    });
                }
                let mut child = cmd.spawn().expect("Prism starts");
                std::thread::spawn(move || child.wait());
                let prism = format!("http://127.0.0.1:{prism_port}");
                stagegate::tls::install();
                let client = reqwest::Client::new();
                let mut up = false;
                for _ in 0..300 {
                    if client.get(format!("{prism}/users/ready")).send().await.is_ok() {
                        up = true;
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                assert!(up, "Prism did not start within 30 s (see target/tmp/prism.log)");

                let violations = Arc::new(Mutex::new(Vec::new()));
                let shim = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let url = format!("http://127.0.0.1:{}", shim.local_addr().unwrap().port());
                server.base.set(url.clone()).unwrap();
                let graphql = super::github_graphql::start(&format!("http://127.0.0.1:{upstream_port}"));
                let shim_state = ShimState { client, prism, graphql, violations: violations.clone() };
                tokio::spawn(axum::serve(shim, Router::new().fallback(forward).with_state(shim_state)).into_future());
                tx.send(Harness { url, server, violations, counter: AtomicU64::new(0) }).unwrap();
                std::future::pending::<()>().await;
            });
        })
        .unwrap();
    rx.recv_timeout(Duration::from_secs(60)).expect("the GitHub harness starts")
}

#[derive(Clone)]
struct ShimState {
    client: reqwest::Client,
    prism: String,
    /// GitHub's GraphQL endpoint (`github_graphql`): Prism knows only REST.
    graphql: String,
    violations: Arc<Mutex<Vec<(String, String)>>>,
}

/// Forwards to Prism and records what Prism says about the exchange.
async fn forward(State(s): State<ShimState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path_and_query().map_or("/".to_string(), |p| p.to_string());
    // `{url}/api/v3` is the same server as a GitHub Enterprise Server's API
    // (where stagegate reads over REST, not GraphQL).
    let path = path.strip_prefix("/api/v3").filter(|p| p.starts_with('/')).map_or(path.clone(), str::to_owned);
    let body = axum::body::to_bytes(body, 64 << 20).await.unwrap_or_default();
    let target = if parts.uri.path() == "/graphql" { &s.graphql } else { &s.prism };
    let mut out = s.client.request(parts.method.clone(), format!("{target}{path}")).body(body);
    for (k, v) in &parts.headers {
        if k != "host" {
            out = out.header(k, v);
        }
    }
    let resp = match out.send().await {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_GATEWAY, format!("shim: {e}")).into_response(),
    };
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.unwrap_or_default();
    let call = format!("{} {path}", parts.method);
    if let Some(v) = headers.get("sl-violations") {
        s.violations.lock().unwrap().push((call.clone(), v.to_str().unwrap_or("?").to_owned()));
    }
    if let Some(v) = headers.get("x-graphql-violations") {
        let repo = headers.get("x-graphql-repo").and_then(|r| r.to_str().ok()).unwrap_or("?");
        let call = format!("{call} /repos/{repo}/");
        s.violations.lock().unwrap().push((call, v.to_str().unwrap_or("?").to_owned()));
    }
    if headers.get("content-type").is_some_and(|c| c.as_bytes().starts_with(b"application/problem+json")) {
        s.violations.lock().unwrap().push((call, String::from_utf8_lossy(&bytes).into_owned()));
    }
    let mut r = Response::builder().status(status);
    for (k, v) in &headers {
        if k != "transfer-encoding" && k != "content-length" && k != "connection" {
            r = r.header(k, v);
        }
    }
    r.body(axum::body::Body::from(bytes)).unwrap()
}

pub(super) type Srv = State<Arc<Server>>;

fn routes(server: Arc<Server>) -> Router {
    Router::new()
        .merge(super::github_git::routes())
        .merge(super::github_envs::routes())
        .merge(super::github_deploy::routes())
        .merge(super::github_app::routes())
        .merge(super::github_graphql::routes())
        .with_state(server)
}

pub(super) fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"message": message, "documentation_url": "https://docs.github.com/rest"})))
        .into_response()
}

impl Server {
    /// Records the call; returns the response of a queued fault if one matches.
    pub(super) fn enter(&self, owner: &str, repo: &str, method: &Method, what: &str) -> Option<Response> {
        self.enter_as(owner, repo, method, method, what)
    }

    /// `enter`, with faults matched as if the request were `fault_method`: a
    /// GraphQL query is a POST that reads, so faults meant for writes pass it by.
    pub(super) fn enter_as(
        &self,
        owner: &str,
        repo: &str,
        method: &Method,
        fault_method: &Method,
        what: &str,
    ) -> Option<Response> {
        let mut repos = self.repos.lock().unwrap();
        let r = repos.entry(format!("{owner}/{repo}")).or_default();
        r.calls.push(format!("{method} {what}"));
        let pos = r.faults.iter().position(|f| f.method.as_ref().is_none_or(|m| m == fault_method));
        if let Some(f) = pos.and_then(|i| r.faults.remove(i)) {
            let mut resp = error(StatusCode::from_u16(f.status).unwrap(), f.message);
            if let Some(s) = f.retry_after {
                resp.headers_mut().insert("retry-after", HeaderValue::from_str(&s.to_string()).unwrap());
            }
            return Some(resp);
        }
        None
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.get().map_or("http://127.0.0.1", String::as_str))
    }

    pub(super) fn user(&self, login: &str) -> Value {
        let encoded: String = login
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() || b == b'-' { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect();
        let u = self.url(&format!("/users/{encoded}"));
        json!({
            "login": login, "id": 1, "node_id": "MDQ6VXNlcjE=", "avatar_url": format!("{u}/avatar"),
            "gravatar_id": "", "url": u, "html_url": u, "followers_url": format!("{u}/followers"),
            "following_url": format!("{u}/following"), "gists_url": format!("{u}/gists"),
            "starred_url": format!("{u}/starred"), "subscriptions_url": format!("{u}/subscriptions"),
            "organizations_url": format!("{u}/orgs"), "repos_url": format!("{u}/repos"),
            "events_url": format!("{u}/events"), "received_events_url": format!("{u}/received_events"),
            "type": "User", "site_admin": false
        })
    }

    /// A commit in GitHub's `commit` shape.
    pub(super) fn commit(&self, o: &str, r: &str, sha: &str, message: &str) -> Value {
        let u = self.url(&format!("/repos/{o}/{r}/commits/{sha}"));
        let person = json!({"name": "dev", "email": "dev@example.com", "date": "2026-11-21T00:00:00Z"});
        json!({
            "url": u, "sha": sha, "node_id": "C_node", "html_url": u, "comments_url": format!("{u}/comments"),
            "commit": {"url": u, "author": person, "committer": person, "message": message, "comment_count": 0,
                       "tree": {"sha": sha, "url": u}},
            "author": null, "committer": null, "parents": []
        })
    }

    pub(super) fn git_ref(&self, owner: &str, repo: &str, name: &str, sha: &str, kind: &str) -> Value {
        json!({
            "ref": name, "node_id": "REF_node",
            "url": self.url(&format!("/repos/{owner}/{repo}/git/{name}")),
            "object": {"type": kind, "sha": sha, "url": self.url(&format!("/repos/{owner}/{repo}/git/{kind}s/{sha}"))}
        })
    }
}
