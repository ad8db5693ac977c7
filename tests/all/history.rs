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
    // The recovery's record says what failed.
    let reason = deps[0]["verdict"]["rollback_reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("1.1.0-bad failed: ") && reason.contains("health"), "{json:#}");
    assert_eq!(deps[3]["from"], "staging");
    assert_eq!(deps[3]["approved_by"], serde_json::json!(["alice", "bob"]));
    assert_eq!(deps[3]["started_at"], "2026-12-01T11:00:00Z");
    assert_eq!(deps[3]["deployed_by"], "mallory");
    assert_eq!(deps[5]["approved_by"], serde_json::json!([]));

    let mut c = sb.sg(&["history", "--env", "staging", "--limit", "2"]);
    c.env("STAGEGATE_NOW", "2026-12-01T15:00:00Z");
    let (code, out, _) = run(c);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().take_while(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "a header and two deployments:\n{out}");
    let note = out.lines().last().unwrap();
    assert!(note.starts_with(&format!("#{}  rolled back because 1.1.0-bad failed: ", deps[0]["id"])), "{out}");
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

/// A promotion into prod as mallory in run 7: alice approves prod-approval-1
/// and prod, bob prod; mallory (the actor), zed (no reviewer) and a bot
/// approve too. Returns the sandbox.
fn promoted_with_reviews_that_do_not_count() -> Sandbox {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    let at = |t: &str, args: &[&str]| {
        let mut c = sb.sg(args);
        c.env("STAGEGATE_NOW", t);
        let (code, out, err) = run(c);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
    };
    at("2026-12-01T09:00:00Z", &["deploy", "--env", "dev", "--ref", "release/v1", "--release", "1.0.0"]);
    at("2026-12-01T09:10:00Z", &["promote", "--from", "dev", "--to", "staging", "--release", "1.0.0", "--run-id", "1"]);
    for (env, who) in [
        ("prod", "mallory"),
        ("prod-approval-1", "alice"),
        ("prod", "alice"),
        ("prod", "zed"),
        ("prod", "deploy[bot]"),
        ("prod", "bob"),
    ] {
        at("2026-12-01T10:00:00Z", &["approve", "--env", env, "--as", who, "--run-id", "7"]);
    }
    at(
        "2026-12-01T11:00:00Z",
        &["promote", "--from", "staging", "--to", "prod", "--release", "1.0.0", "--run-id", "7"],
    );
    sb
}

#[test]
fn history_lists_who_the_gate_counted_never_the_actors_own_approval() {
    let sb = promoted_with_reviews_that_do_not_count();
    let (code, json, err) = run_json(sb.sg(&["history", "--env", "prod"]));
    assert_eq!(code, 0, "{err}");
    let prod = &json["deployments"][0];
    assert_eq!(prod["approved_by"], serde_json::json!(["alice", "bob"]), "{json:#}");
    let not_counted: Vec<(&str, &str)> = prod["verdict"]["not_counted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["user"].as_str().unwrap(), r["why"].as_str().unwrap()))
        .collect();
    assert_eq!(
        not_counted,
        [("mallory", "self_review"), ("alice", "duplicate"), ("zed", "not_a_reviewer"), ("deploy[bot]", "bot")],
        "{json:#}"
    );
    assert_eq!(prod["verdict"]["required"], 2);
    // The audit trail of the same run names the same two.
    let audit = std::fs::read_to_string(sb.path().join(".stagegate/audit.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(last["approvals"], prod["approved_by"], "{last:#}");
    // `status` reads the same record.
    let (_, status, _) = run_json(sb.sg(&["status", "--env", "prod", "--no-health"]));
    assert_eq!(status["environments"][0]["approved_by"], prod["approved_by"], "{status:#}");

    let settings = crate::output::settings(sb.path());
    let _guard = settings.bind_to_scope();
    let shot = crate::output::shoot(&sb, sb.sg(&["history"]), "2026-12-01T12:00:00Z");
    insta::assert_snapshot!("history_verdict_text", shot.render());
}

#[test]
fn a_record_without_its_verdict_is_shown_as_unknown_not_guessed_from_reviews() {
    let sb = promoted_with_reviews_that_do_not_count();
    // A record as stagegate wrote them before records kept their verdict.
    let path = sb.path().join(".stagegate/forge.json");
    let mut forge: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for d in forge["deployments"].as_array_mut().unwrap() {
        d.as_object_mut().unwrap().remove("verdict");
    }
    std::fs::write(&path, serde_json::to_string_pretty(&forge).unwrap()).unwrap();
    let (code, json, err) = run_json(sb.sg(&["history", "--env", "prod"]));
    assert_eq!(code, 0, "{err}");
    assert!(json["deployments"][0]["approved_by"].is_null(), "{json:#}");
    assert!(json["deployments"][0]["verdict"].is_null(), "{json:#}");
    let (code, out, _) = run(sb.sg(&["history", "--env", "prod"]));
    assert_eq!(code, 0);
    assert!(out.lines().nth(1).unwrap().trim_end().ends_with("unknown"), "{out}");
    assert!(!out.contains("alice") && !out.contains("mallory (self"), "{out}");
}

#[test]
fn a_hostile_verdict_in_the_local_records_is_refused_with_a_clear_message() {
    let sb = promoted_with_reviews_that_do_not_count();
    let path = sb.path().join(".stagegate/forge.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("\"user\": \"bob\"", "\"user\": \"bob\\n::error::pwned\"")).unwrap();
    let (code, out, err) = run(sb.sg(&["history"]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("forge.json") && err.contains("verdict"), "{err}");
    assert!(!out.lines().chain(err.lines()).any(|l| l.starts_with("::error::")), "{out}{err}");
}

#[test]
fn history_filters_by_time_and_release() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    let at = |t: &str, args: &[&str]| {
        let mut c = sb.sg(args);
        c.env("STAGEGATE_NOW", t);
        run(c)
    };
    let deploy = |t: &str, release: &str| {
        let (code, out, err) = at(t, &["deploy", "--env", "dev", "--ref", "release/v1", "--release", release]);
        assert_eq!(code, 0, "{out}{err}");
    };
    deploy("2026-12-01T09:00:00Z", "1.0.0");
    let promote = ["promote", "--from", "dev", "--to", "staging", "--release", "1.0.0", "--run-id", "1"];
    assert_eq!(at("2026-12-01T10:00:00Z", &promote).0, 0);
    deploy("2026-12-01T12:00:00Z", "1.1.0");
    let ask = |args: &[&str]| {
        let mut c = sb.sg(args);
        c.env("STAGEGATE_NOW", "2026-12-01T13:30:00Z");
        let (code, json, err) = run_json(c);
        assert_eq!(code, 0, "{args:?}: {err}");
        let deps = json["deployments"].as_array().unwrap().clone();
        deps.iter()
            .map(|d| format!("{} {}", d["environment"].as_str().unwrap(), d["release"].as_str().unwrap()))
            .collect::<Vec<_>>()
    };
    assert_eq!(ask(&["history", "--release", "1.0.0"]), ["staging 1.0.0", "dev 1.0.0"]);
    assert_eq!(
        ask(&["history", "--since", "2026-12-01T10:00:00Z", "--until", "2026-12-01T12:00:00Z"]),
        ["staging 1.0.0"]
    );
    assert_eq!(ask(&["history", "--since", "2h"]), ["dev 1.1.0"]);
    assert_eq!(ask(&["history", "--until", "4h"]), ["dev 1.0.0"]);
    let (code, out, _) = run(sb.sg(&["history", "--env", "prod", "--release", "1.0.0"]));
    assert_eq!((code, out.trim()), (0, "no deployment to prod of release 1.0.0"));
    let (code, _, err) = run(sb.sg(&["history", "--until", "2026-13-01T00:00:00Z"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--until") && err.contains("RFC 3339"), "{err}");
}
