//! `audit export` and `metrics`: evidence read from the forge's deployment
//! records and the journal store's trail — not from the runner's local files —
//! on the local forge, on the GitHub test server, and with journal operations
//! written by concurrent processes.

use std::process::Stdio;

use crate::release::SENTINEL;
use crate::support::github::github;
use crate::support::journal::{Backend, Pipeline};
use crate::support::{SHORT_TIMEOUTS, Sandbox, run, run_json};

/// dev → staging → prod of 1.0.0 (prod approved by alice and bob), then
/// 1.1.0-bad to dev and staging, where it fails its health check and is
/// rolled back, then prod rolled back by hand with a reason.
fn history(sb: &Sandbox) {
    let at = |t: &str, args: &[&str]| {
        let mut c = sb.sg(args);
        c.env("STAGEGATE_NOW", t);
        run(c)
    };
    let promote = |t: &str, from: &str, to: &str, release: &str, run_id: &str| {
        at(t, &["promote", "--from", from, "--to", to, "--release", release, "--run-id", run_id])
    };
    let deploy =
        |t: &str, release: &str| at(t, &["deploy", "--env", "dev", "--ref", "release/v1", "--release", release]);
    assert_eq!(deploy("2026-12-01T09:00:00Z", "1.0.0").0, 0);
    assert_eq!(promote("2026-12-01T10:00:00Z", "dev", "staging", "1.0.0", "1").0, 0);
    assert_eq!(deploy("2026-12-01T10:10:00Z", "1.0.1").0, 0);
    assert_eq!(promote("2026-12-01T10:20:00Z", "dev", "staging", "1.0.1", "3").0, 0);
    for who in ["alice", "bob"] {
        assert_eq!(at("2026-12-01T10:30:00Z", &["approve", "--env", "prod", "--as", who, "--run-id", "7"]).0, 0);
    }
    let (code, out, err) = promote("2026-12-01T11:00:00Z", "staging", "prod", "1.0.1", "7");
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(deploy("2026-12-02T12:00:00Z", "1.1.0-bad").0, 0);
    assert_eq!(promote("2026-12-02T13:00:00Z", "dev", "staging", "1.1.0-bad", "2").0, 1);
    let reason = "=HYPERLINK(\"https://evil.example\") INC-4711";
    let (code, out, err) = at("2026-12-03T08:00:00Z", &["rollback", "--env", "staging", "--reason", reason]);
    assert_eq!(code, 0, "{out}{err}");
}

/// The sha256 an auditor computes from the export: Python's `json.dumps`
/// of the parsed events, compact.
fn python_sha256(export: &str) -> String {
    let script = "import hashlib, json, sys\nd = json.load(sys.stdin)\nprint(hashlib.sha256(json.dumps(d['events'], separators=(',', ':')).encode()).hexdigest())";
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(export.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn audit_export_lists_each_deployment_with_approvals_reasons_and_a_verifiable_sha256() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    history(&sb);
    // The local trail is gone, as on a runner after its job: the export reads the records.
    std::fs::remove_file(sb.path().join(".stagegate/audit.jsonl")).unwrap();
    let (code, out, err) = run(sb.sg(&["audit", "export"]));
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let events = doc["events"].as_array().unwrap();
    let rows: Vec<(&str, &str, &str, &str)> = events
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or("");
            (s("kind"), s("environment"), s("release"), s("outcome"))
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("deploy", "dev", "1.0.0", "replaced"),
            ("promotion", "staging", "1.0.0", "replaced"),
            ("deploy", "dev", "1.0.1", "replaced"),
            ("promotion", "staging", "1.0.1", "replaced"),
            ("promotion", "prod", "1.0.1", "live"),
            ("deploy", "dev", "1.1.0-bad", "live"),
            ("promotion", "staging", "1.1.0-bad", "failed, rolled back"),
            ("rollback", "staging", "1.0.1", "rolled back"),
            ("rollback", "staging", "1.0.0", "live"),
        ],
        "{doc:#}"
    );
    assert_eq!(events[4]["approved_by"], serde_json::json!(["alice", "bob"]));
    assert_eq!(events[4]["actor"], "mallory");
    assert_eq!(events[4]["at"], "2026-12-01T11:00:00Z");
    // The record's last status says how the run ended, with its hooks.
    let detail = events[4]["detail"].as_str().unwrap();
    assert!(detail.starts_with("1.0.1 is live in prod; hooks ok: ") && detail.contains("deploy"), "{doc:#}");
    let reasons =
        |i: usize| events[i]["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect::<Vec<_>>();
    assert!(reasons(7)[0].starts_with("rolled back because 1.1.0-bad failed: "), "{doc:#}");
    assert_eq!(reasons(8), ["asked for: =HYPERLINK(\"https://evil.example\") INC-4711"]);
    assert_eq!(doc["repository"], serde_json::Value::Null);
    let sha = doc["sha256"].as_str().unwrap();
    assert_eq!(python_sha256(&out), sha, "the documented way to check the digest agrees");

    // A range and one environment.
    let (code, json, _) = run_json(sb.sg(&[
        "audit",
        "export",
        "--env",
        "staging",
        "--since",
        "2026-12-02",
        "--until",
        "2026-12-02T23:59:59Z",
    ]));
    assert_eq!(code, 0);
    let kinds: Vec<&str> = json["events"].as_array().unwrap().iter().map(|e| e["release"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["1.1.0-bad", "1.0.1"], "{json:#}");
    assert_ne!(json["sha256"], doc["sha256"]);
    assert_eq!(json["since"], "2026-12-02T00:00:00Z");

    // CSV: a header and a row per event; a formula is neutralised.
    let (code, csv, err) = run(sb.sg(&["audit", "export", "--format", "csv"]));
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + events.len(), "{csv}");
    assert!(lines[0].starts_with("\"at\",\"kind\",\"actor\",\"environment\""), "{csv}");
    assert!(lines[5].contains("\"alice; bob\""), "{csv}");
    assert!(lines[9].contains("\"asked for: =HYPERLINK"), "{csv}");
    assert!(!csv.contains(",\"=") && !csv.contains(",\"+") && !csv.contains(",\"@"), "{csv}");

    let (code, _, err) = run(sb.sg(&["audit", "export", "--since", "2026-12-03", "--until", "2026-12-01"]));
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(sb.sg(&["audit", "export", "--env", "nowhere"]));
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(sb.sg(&["audit", "export", "--since", "yesterday"]));
    assert_eq!(code, 2, "{err}");
}

#[test]
fn metrics_count_deployments_failures_and_the_time_to_restore_per_environment() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    history(&sb);
    let mut c = sb.sg(&["metrics", "--since", "2026-11-30", "--until", "2026-12-07"]);
    c.env("STAGEGATE_NOW", "2026-12-07T00:00:00Z");
    let (code, json, err) = run_json(c);
    assert_eq!(code, 0, "{err}");
    let env = |name: &str| {
        json["environments"].as_array().unwrap().iter().find(|e| e["environment"] == name).unwrap().clone()
    };
    let staging = env("staging");
    assert_eq!(staging["deployments"], 5, "{json:#}");
    assert_eq!(staging["deployment_frequency_per_week"], 5.0);
    // 1.1.0-bad failed and was rolled back; 1.0.1 was rolled back by hand.
    assert_eq!(staging["change_failure_rate"], 0.4, "{json:#}");
    assert!(staging["time_to_restore_median_seconds"].as_i64().unwrap() > 0, "{json:#}");
    assert_eq!(staging["lead_time_median_seconds"], serde_json::Value::Null, "the local forge knows no commit times");
    assert_eq!(env("prod")["change_failure_rate"], 0.0);
    assert_eq!(env("prod")["deployments"], 1);

    let summary = sb.path().join("summary.md");
    let mut c =
        sb.sg(&["--forge", "local", "metrics", "--env", "staging", "--since", "2026-11-30", "--until", "2026-12-13"]);
    c.env("GITHUB_ACTIONS", "true").env("GITHUB_STEP_SUMMARY", &summary);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("staging") && out.contains("40.0%"), "{out}");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("```mermaid\nxychart-beta\n"), "{md}");
    assert!(md.contains("x-axis [\"11-30\", \"12-07\"]") && md.contains("bar [5, 0]"), "{md}");
}

fn on_github(sb: &Sandbox, repo: &str, run_id: &str, args: &[&str]) -> assert_cmd::Command {
    let cfg = sb.write(
        "c.yml",
        "version: 1\nenvironments:\n  active: { branches: [\"release/*\"] }\n  staging:\n    branches: [\"release/*\"]\n    approvals: { required: 1, reviewers: [\"@carol\"] }\npromotions:\n  - { from: active, to: staging }\n",
    );
    let mut c = sb.cmd();
    c.env("GITHUB_API_URL", &github().url)
        .env("GITHUB_SERVER_URL", "https://github.example.com")
        .env("GITHUB_TOKEN", SENTINEL)
        .env("GITHUB_REPOSITORY", repo)
        .env("GITHUB_RUN_ID", run_id)
        .env("GITHUB_ACTOR", "eve")
        .env("GITHUB_SHA", "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678")
        .args(["--forge", "github", "-c"])
        .arg(cfg)
        .args(args);
    c
}

#[test]
fn audit_export_and_metrics_read_githubs_deployment_records() {
    let h = github();
    let r = h.repo("audit-evidence");
    let sb = Sandbox::new();
    let deploy = ["deploy", "--env", "active", "--ref", "refs/heads/release/v1", "--release", "26.12.01.1"];
    let (code, out, err) = run(on_github(&sb, &r, "300", &deploy));
    assert_eq!(code, 0, "{out}{err}");
    h.review(&r, "301", &["staging"], "eve", false, true);
    h.review(&r, "301", &["staging"], "carol", false, true);
    let promote = ["promote", "--from", "active", "--to", "staging", "--release", "26.12.01.1"];
    let (code, out, err) = run(on_github(&sb, &r, "301", &promote));
    assert_eq!(code, 0, "{out}{err}");

    let (code, out, err) = run(on_github(&sb, &r, "302", &["audit", "export", "--env", "staging"]));
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["repository"], r.as_str());
    let e = &doc["events"][0];
    assert_eq!((e["kind"].as_str(), e["outcome"].as_str()), (Some("promotion"), Some("live")), "{doc:#}");
    assert_eq!(e["approved_by"], serde_json::json!(["carol"]));
    assert_eq!(e["not_counted"], serde_json::json!(["eve (self-review)"]));
    assert_eq!(e["run_url"], format!("https://github.example.com/{r}/actions/runs/301"));
    assert_eq!(e["sha"], "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678");
    assert_eq!(python_sha256(&out), doc["sha256"].as_str().unwrap());

    let before = h.calls(&r).len();
    let (code, json, err) = run_json(on_github(&sb, &r, "302", &["metrics", "--since", "3650d"]));
    assert_eq!(code, 0, "{err}");
    let calls = h.calls(&r)[before..].to_vec();
    let commits = calls.iter().filter(|c| c.starts_with("GET commits/")).count();
    assert_eq!(commits, 1, "one read per commit, not per deployment (it went live in two environments): {calls:#?}");
    let staging = json["environments"].as_array().unwrap().iter().find(|e| e["environment"] == "staging").unwrap();
    assert_eq!(staging["deployments"], 1, "{json:#}");
    // The commit's date on the test server is 2026-11-21: days before it went live.
    assert!(staging["lead_time_median_seconds"].as_i64().unwrap_or(0) > 86_400, "{json:#}");
    let v = h.schema_violations(&r);
    assert!(v.is_empty(), "Prism: {v:#?}");
}

#[test]
fn journal_operations_of_concurrent_writers_are_all_in_the_stores_trail() {
    for backend in Backend::ALL {
        let p = Pipeline::new(backend);
        let upload = |i: usize| {
            let file = p.sb.write(&format!("j{i}.jnl"), format!("journal {i}"));
            let mut c = p.std_cmd();
            c.env("GITHUB_ACTOR", format!("writer{i}"));
            c.args(["journal", "upload", file.to_str().unwrap(), "--cluster", "dev-modelling"]);
            c.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()
        };
        // The uploads race on files; s3s-fs checks the versions' own
        // preconditions without a lock, so there they run one after another.
        // The trail's entries never share a key (time and 128 random bits)
        // and are written create-only on both.
        let outputs: Vec<_> = match backend {
            Backend::Files => {
                (0..6).map(upload).collect::<Vec<_>>().into_iter().map(|c| c.wait_with_output()).collect()
            }
            Backend::Remote => (0..3).map(|i| upload(i).wait_with_output()).collect(),
        };
        let ok = outputs.into_iter().map(Result::unwrap).filter(|o| o.status.success()).count();
        assert_eq!(ok, if backend == Backend::Files { 6 } else { 3 }, "{backend:?}");
        let (code, seed, err) = p.json(&["journal", "seed"]);
        assert_eq!(code, 0, "{err}");
        let moved: Vec<&str> = seed["lanes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["moved"] == true)
            .map(|l| l["lane"].as_str().unwrap())
            .collect();
        let (code, out, err) = p.run(&["audit", "export"]);
        assert_eq!(code, 0, "{backend:?}: {err}");
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        let events = doc["events"].as_array().unwrap();
        let uploads: Vec<&serde_json::Value> = events.iter().filter(|e| e["kind"] == "journal_upload").collect();
        assert_eq!(uploads.len(), ok, "{backend:?}: every upload that succeeded left its entry: {doc:#}");
        let mut actors: Vec<&str> = uploads.iter().map(|e| e["actor"].as_str().unwrap()).collect();
        actors.sort();
        actors.dedup();
        assert_eq!(actors.len(), ok, "{backend:?}: {doc:#}");
        assert!(uploads.iter().all(|e| e["detail"] == "cluster dev-modelling"), "{doc:#}");
        let seeded: Vec<&str> =
            events.iter().filter(|e| e["kind"] == "journal_seed").map(|e| e["lane"].as_str().unwrap()).collect();
        assert_eq!(seeded, moved, "{backend:?}: {doc:#}");
        assert_eq!(seeded[0], "dev");
        let (code, out, _) = p.run(&["audit", "export", "--env", "dev"]);
        assert_eq!(code, 0);
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["events"].as_array().unwrap().len(), 1, "{doc:#}");
    }
}

#[test]
fn holds_set_and_cleared_are_events_of_the_export_with_who_and_why() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    let at = |t: &str, args: &[&str]| {
        let mut c = sb.sg(args);
        c.env("STAGEGATE_NOW", t).env("GITHUB_ACTOR", "alice");
        let (code, out, err) = run(c);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
    };
    at("2026-12-01T09:00:00Z", &["hold", "set", "--env", "prod", "--reason", "INC-4711 checkout errors"]);
    at("2026-12-01T11:30:00Z", &["hold", "clear", "--env", "prod", "--reason", "fixed by 1.0.2"]);
    let mut c = sb.sg(&["audit", "export", "--env", "prod", "--since", "2026-12-01", "--until", "2026-12-02"]);
    c.env("STAGEGATE_NOW", "2026-12-05T00:00:00Z");
    let (code, doc, err) = run_json(c);
    assert_eq!(code, 0, "{err}");
    let holds: Vec<_> = doc["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "hold").collect();
    assert_eq!(holds.len(), 2, "{doc}");
    assert_eq!((holds[0]["outcome"].as_str(), holds[0]["at"].as_str()), (Some("set"), Some("2026-12-01T09:00:00Z")));
    assert_eq!(holds[0]["reasons"][0], "INC-4711 checkout errors");
    assert_eq!(
        (holds[1]["outcome"].as_str(), holds[1]["at"].as_str()),
        (Some("cleared"), Some("2026-12-01T11:30:00Z"))
    );
    assert!(holds[1]["detail"].as_str().unwrap().contains("fixed by 1.0.2"), "{}", holds[1]);
    assert_eq!(holds[0]["environment"], "prod");
    assert_eq!((holds[0]["actor"].as_str(), holds[1]["actor"].as_str()), (Some("alice"), Some("alice")), "{holds:?}");
    // Outside the range, no hold events.
    let mut c = sb.sg(&["audit", "export", "--since", "2026-12-02"]);
    c.env("STAGEGATE_NOW", "2026-12-05T00:00:00Z");
    let (_, doc, _) = run_json(c);
    assert!(doc["events"].as_array().unwrap().iter().all(|e| e["kind"] != "hold"), "{doc}");
}
