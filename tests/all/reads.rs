//! Reads that stay cheap on GitHub: `status`, `history` and a read over a
//! quarter of deployments cost requests per page of 100 deployments (GraphQL,
//! statuses and payloads in the same answer), never one per deployment. Every
//! query is validated against GitHub's published GraphQL schema by the test
//! server; GitHub's GraphQL errors are clear messages.

use crate::release::SENTINEL;
use crate::support::github::github;
use crate::support::{Sandbox, run, run_json};

const ENVS: [&str; 6] = ["dev", "qa", "staging", "uat", "preprod", "prod"];

fn config() -> String {
    let mut c = String::from("version: 1\nenvironments:\n");
    for e in ENVS {
        c.push_str(&format!("  {e}: {{ branches: [\"main\"] }}\n"));
    }
    c
}

fn on_github(sb: &Sandbox, repo: &str, args: &[&str]) -> assert_cmd::Command {
    let cfg = sb.write("c.yml", config());
    let mut c = sb.cmd();
    c.env("GITHUB_API_URL", &github().url)
        .env("GITHUB_TOKEN", SENTINEL)
        .env("GITHUB_REPOSITORY", repo)
        .env("STAGEGATE_NOW", "2026-12-01T12:00:00Z")
        .args(["--forge", "github", "-c"])
        .arg(cfg)
        .args(args);
    c
}

/// `n` releases of `env`: `env-0` … `env-(n-1)`, oldest first.
fn releases(env: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{env}-{i}")).collect()
}

/// 500 deployments in each of six environments, one every 4 hours from
/// 2026-09-09 (about 83 days: a quarter), each with its status.
fn quarter(name: &str) -> String {
    let h = github();
    let r = h.repo(name);
    for e in ENVS {
        h.seed_history(&r, e, &releases(e, 500), "2026-09-09T00:00:00Z", chrono::Duration::hours(4));
    }
    r
}

/// Requests `f` sent to the server for `r`, and what it returned.
fn counted<T>(r: &str, f: impl FnOnce() -> T) -> (usize, T) {
    let before = github().calls(r).len();
    let out = f();
    (github().calls(r).len() - before, out)
}

#[test]
fn history_status_and_a_quarter_of_deployments_cost_a_few_requests() {
    let h = github();
    let r = quarter("reads-quarter");
    let sb = Sandbox::new();

    let (n, (code, json, err)) = counted(&r, || run_json(on_github(&sb, &r, &["history", "--limit", "100"])));
    assert_eq!(code, 0, "{err}");
    let deps = json["deployments"].as_array().unwrap();
    assert_eq!(deps.len(), 100);
    // The newest of all six environments come first, each with its status.
    for d in &deps[..6] {
        assert!(d["release"].as_str().unwrap().ends_with("-499") && d["state"] == "success", "{d:#}");
    }
    // One query for the deployments; each environment's holds are a REST list.
    assert!(n <= 7, "history --limit 100 of six environments: {n} requests");

    let (n, (code, json, err)) = counted(&r, || run_json(on_github(&sb, &r, &["status", "--no-health"])));
    assert_eq!(code, 0, "{err}");
    let envs = json["environments"].as_array().unwrap();
    assert_eq!(envs.len(), 6, "{json:#}");
    for (env, shown) in ENVS.iter().zip(envs) {
        assert_eq!(shown["release"], format!("{env}-499"), "{shown:#}");
    }
    assert!(n <= 7, "status of six environments: {n} requests");

    // Everything since the first deployment: 500 an environment, all six.
    let since = ["history", "--since", "2026-09-09T00:00:00Z", "--limit", "1000"];
    let (n, (code, json, err)) = counted(&r, || run_json(on_github(&sb, &r, &since)));
    assert_eq!(code, 0, "{err}");
    assert_eq!(json["deployments"].as_array().unwrap().len(), 1000);
    assert!(n <= 5 + 6, "3000 deployments: five pages of 100 for each of six environments, and the holds: {n}");
    let one = ["history", "--env", "qa", "--since", "90d", "--limit", "1000"];
    let (n, (code, json, err)) = counted(&r, || run_json(on_github(&sb, &r, &one)));
    assert_eq!(code, 0, "{err}");
    let deps = json["deployments"].as_array().unwrap();
    assert_eq!((deps.len(), deps[499]["release"].as_str()), (500, Some("qa-0")));
    assert!(n <= 5 + 1, "500 deployments of one environment (and its holds): {n}");

    assert!(!h.calls(&r).iter().any(|c| c.ends_with("/statuses")), "no status lists: {:?}", h.calls(&r));
    let v = h.violations(&r);
    assert!(v.is_empty(), "queries GitHub would refuse: {v:#?}");
}

#[test]
fn history_filters_by_time_and_release_on_github() {
    let h = github();
    let r = h.repo("reads-filters");
    let rel = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // prod: a, b, c, b again — one a day from 2026-11-20.
    h.seed_history(&r, "prod", &rel(&["a", "b", "c", "b"]), "2026-11-20T10:00:00Z", chrono::Duration::days(1));
    h.seed_history(&r, "qa", &rel(&["b"]), "2026-11-21T09:00:00Z", chrono::Duration::days(1));
    let sb = Sandbox::new();
    let ask = |args: &[&str]| {
        let (code, json, err) = run_json(on_github(&sb, &r, args));
        assert_eq!(code, 0, "{args:?}: {err}");
        let deps = json["deployments"].as_array().unwrap().clone();
        deps.iter()
            .map(|d| format!("{} {}", d["environment"].as_str().unwrap(), d["started_at"].as_str().unwrap()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ask(&["history", "--release", "b"]),
        ["prod 2026-11-23T10:00:00Z", "prod 2026-11-21T10:00:00Z", "qa 2026-11-21T09:00:00Z"]
    );
    assert_eq!(
        ask(&["history", "--since", "2026-11-21T10:00:00Z", "--until", "2026-11-23T10:00:00Z"]),
        ["prod 2026-11-22T10:00:00Z", "prod 2026-11-21T10:00:00Z"]
    );
    // Ten days before 2026-12-01T12:00Z, the clock of these runs.
    assert_eq!(ask(&["history", "--env", "prod", "--since", "10d", "--release", "b"]), ["prod 2026-11-23T10:00:00Z"]);
    let (code, out, _) = run(on_github(&sb, &r, &["history", "--release", "zzz"]));
    assert_eq!((code, out.trim()), (0, "no deployment to any environment of release zzz"));
    let (code, _, err) = run(on_github(&sb, &r, &["history", "--since", "yesterday"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--since"), "{err}");
    let v = h.violations(&r);
    assert!(v.is_empty(), "{v:#?}");
}

#[test]
fn a_graphql_error_in_a_200_is_a_clear_failure() {
    let h = github();
    let r = quarter("reads-limited");
    let sb = Sandbox::new();
    h.graphql_error(&r, "RATE_LIMITED", "API rate limit already exceeded for user ID 1.");
    let (code, out, err) = run(on_github(&sb, &r, &["status", "--no-health"]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("API rate limit already exceeded") && err.contains("wait for it to"), "{err}");
    assert!(!err.contains("panicked") && !err.contains(SENTINEL), "{err}");
    h.graphql_error(&r, "NOT_FOUND", "Could not resolve to a Repository with the name 'acme/x'.");
    let (code, _, err) = run(on_github(&sb, &r, &["history"]));
    assert_eq!(code, 1);
    assert!(err.contains("Could not resolve") && err.contains("GITHUB_REPOSITORY"), "{err}");
}

#[test]
fn the_test_server_refuses_a_query_github_would_refuse() {
    let h = github();
    let r = h.repo("reads-invalid");
    let (owner, name) = r.split_once('/').unwrap();
    // `sha` is REST's name; GitHub's GraphQL calls it `commitOid`.
    let query = "query($o: String!, $n: String!) { repository(owner: $o, name: $n) { \
                 deployments(first: 5) { nodes { sha } } } }";
    let body = serde_json::json!({"query": query, "variables": {"o": owner, "n": name}});
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let answer: serde_json::Value = rt.block_on(async {
        let sent = reqwest::Client::new().post(format!("{}/graphql", h.url)).bearer_auth(SENTINEL).json(&body).send();
        sent.await.unwrap().json().await.unwrap()
    });
    let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("Cannot query field \"sha\" on type \"Deployment\""), "{answer:#}");
    let v = h.violations(&r);
    assert!(v.len() == 1 && v[0].contains("sha"), "{v:#?}");
}
