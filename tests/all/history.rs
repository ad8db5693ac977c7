//! `history`: who deployed what, when, from where, what became of it and who
//! approved it, newest first — a rolled-back failure is visible as such.

use crate::support::{SHORT_TIMEOUTS, Sandbox, run, run_json};

#[test]
fn history_lists_deployments_newest_first_with_rollbacks_and_approvers() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    let at = |t: &str, args: &[&str]| {
        let mut c = sb.sg(args);
        c.env("STAGEGATE_NOW", t);
        run(c)
    };
    assert_eq!(
        at("2026-12-01T09:00:00Z", &["deploy", "--env", "dev", "--ref", "release/v1", "--release", "1.0.0"]).0,
        0
    );
    let promote = |t: &str, from: &str, to: &str, release: &str, run_id: &str| {
        at(t, &["promote", "--from", from, "--to", to, "--release", release, "--run-id", run_id])
    };
    assert_eq!(promote("2026-12-01T10:00:00Z", "dev", "staging", "1.0.0", "1").0, 0);
    for who in ["alice", "bob"] {
        assert_eq!(at("2026-12-01T10:30:00Z", &["approve", "--env", "prod", "--as", who, "--run-id", "7"]).0, 0);
    }
    let (code, out, err) = promote("2026-12-01T11:00:00Z", "staging", "prod", "1.0.0", "7");
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        at("2026-12-01T12:00:00Z", &["deploy", "--env", "dev", "--ref", "release/v1", "--release", "1.1.0-bad"]).0,
        0
    );
    let (code, out, _) = promote("2026-12-01T13:00:00Z", "dev", "staging", "1.1.0-bad", "2");
    assert_eq!(code, 1, "the bad release fails its health check and is rolled back: {out}");

    let (code, json, err) = run_json(sb.sg(&["history"]));
    assert_eq!(code, 0, "{err}");
    let deps = json["deployments"].as_array().unwrap();
    let rows: Vec<(&str, &str, &str)> = deps
        .iter()
        .map(|d| (d["environment"].as_str().unwrap(), d["release"].as_str().unwrap(), d["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rows,
        [
            ("staging", "1.0.0", "live"),
            ("staging", "1.1.0-bad", "failed, rolled back"),
            ("dev", "1.1.0-bad", "live"),
            ("prod", "1.0.0", "live"),
            ("staging", "1.0.0", "replaced"),
            ("dev", "1.0.0", "replaced"),
        ],
        "{json:#}"
    );
    assert_eq!(deps[0]["rollback_of"], deps[1]["id"]);
    assert_eq!(deps[1]["rolled_back_by"], deps[0]["id"]);
    assert_eq!(deps[3]["from"], "staging");
    assert_eq!(deps[3]["approved_by"], serde_json::json!(["alice", "bob"]));
    assert_eq!(deps[3]["started_at"], "2026-12-01T11:00:00Z");
    assert_eq!(deps[3]["deployed_by"], "mallory");
    assert_eq!(deps[5]["approved_by"], serde_json::json!([]));

    let mut c = sb.sg(&["history", "--env", "staging", "--limit", "2"]);
    c.env("STAGEGATE_NOW", "2026-12-01T15:00:00Z");
    let (code, out, _) = run(c);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "a header and two deployments:\n{out}");
    assert!(lines[0].starts_with("ID") && lines[0].contains("APPROVED BY"), "{out}");
    assert!(lines[1].contains("2026-12-01 13:00Z (2 h ago)") && lines[1].contains("rollback of #"), "{out}");
    assert!(lines[2].contains("failed, rolled back (by #"), "{out}");
}

#[test]
fn history_of_nothing_says_so_and_an_unknown_environment_is_invalid() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    let (code, out, _) = run(sb.sg(&["history", "--env", "prod"]));
    assert_eq!((code, out.trim()), (0, "nothing was deployed to prod yet"));
    let (code, _, err) = run(sb.sg(&["history", "--env", "prdo"]));
    assert_eq!(code, 2);
    assert!(err.contains("prod"), "did you mean: {err}");
}
