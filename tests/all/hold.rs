//! Holds on the local forge: `hold set` stops promote, deploy, plan, compare
//! and gate for the environment with `stagegate::refused::held` until `hold
//! clear` or its `--until`; a rollback still runs unless the hold was set
//! with `--rollbacks-too`; every set and clear is in the audit trail and
//! `history`.

use crate::support::{SHORT_TIMEOUTS, Sandbox, run, run_json};

const HELD: &str = "stagegate::refused::held";

fn ok(sb: &Sandbox, args: &[&str]) {
    let (code, out, err) = run(sb.sg(args));
    assert_eq!(code, 0, "{args:?}\n{out}\n{err}");
}

fn deploy_dev(sb: &Sandbox, release: &str) -> (i32, serde_json::Value) {
    let (code, v, err) =
        run_json(sb.sg(&["--output", "json", "deploy", "--env", "dev", "--ref", "release/v1", "--release", release]));
    assert!(code == 0 || code == 3, "{v:#}{err}");
    (code, v)
}

fn live(sb: &Sandbox, env: &str) -> (String, serde_json::Value) {
    let (code, json, err) = run_json(sb.sg(&["--output", "json", "status", "--no-health"]));
    assert_eq!(code, 0, "{err}");
    let e = json["environments"].as_array().unwrap().iter().find(|e| e["environment"] == env).unwrap().clone();
    (e["release"].as_str().unwrap_or_default().to_string(), e["hold"].clone())
}

#[test]
fn a_hold_refuses_deploy_promote_plan_compare_and_gate_until_it_is_cleared() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    assert_eq!(deploy_dev(&sb, "1.0.0").0, 0);
    ok(&sb, &["hold", "set", "--env", "staging", "--reason", "INC-4711: checkout errors"]);
    ok(&sb, &["hold", "set", "--env", "dev", "--reason", "INC-4711: checkout errors"]);

    let (code, v) = deploy_dev(&sb, "1.1.0");
    assert_eq!(code, 3, "{v:#}");
    assert_eq!(v["refusal"]["code"], HELD, "{v:#}");
    let msg = v["refusal"]["message"].as_str().unwrap();
    assert!(msg.contains("dev is held by mallory since") && msg.ends_with("INC-4711: checkout errors"), "{msg}");
    assert_eq!(v["refusal"]["can_pass_later"], true, "{v:#}");
    assert_eq!(live(&sb, "dev").0, "1.0.0", "nothing was deployed");

    let promote = ["--output", "json", "promote", "--from", "dev", "--to", "staging", "--release", "1.0.0"];
    let (code, v, err) = run_json(sb.sg(&promote));
    assert_eq!(code, 3, "{v:#}{err}");
    assert_eq!(v["refusal"]["code"], HELD, "{v:#}");
    let (code, v, _) =
        run_json(sb.sg(&["--output", "json", "plan", "--from", "dev", "--to", "staging", "--release", "1.0.0"]));
    assert_eq!(code, 3, "{v:#}");
    assert!(v["blockers"].as_array().unwrap().iter().any(|b| b["code"] == HELD), "{v:#}");
    let (code, v, _) = run_json(sb.sg(&["--output", "json", "compare", "dev", "staging"]));
    assert_eq!(code, 3, "compare: not ready while held\n{v:#}");
    assert!(v["blockers"].as_array().unwrap().iter().any(|b| b["code"] == HELD), "{v:#}");
    let (code, v, _) = run_json(sb.sg(&["--output", "json", "gate", "--env", "staging"]));
    assert_eq!(code, 3, "{v:#}");
    assert_eq!(v["blockers"][0]["code"], HELD, "{v:#}");

    // status marks the held environments, in text and JSON.
    let (_, out, _) = run(sb.sg(&["status", "--no-health"]));
    assert!(out.contains("staging (held)") && out.contains("dev (held)"), "{out}");
    assert_eq!(live(&sb, "staging").1["reason"], "INC-4711: checkout errors");

    ok(&sb, &["hold", "clear", "--env", "dev", "--reason", "fixed in 1.1.0"]);
    ok(&sb, &["hold", "clear", "--env", "staging"]);
    assert_eq!(live(&sb, "staging").1, serde_json::Value::Null);
    assert_eq!(deploy_dev(&sb, "1.1.0").0, 0);
    let promote = ["promote", "--from", "dev", "--to", "staging", "--release", "1.1.0"];
    ok(&sb, &promote);
    assert_eq!(live(&sb, "staging").0, "1.1.0");
}

#[test]
fn set_list_and_clear_answer_in_json_and_are_in_the_audit_trail_and_history() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    let (code, v, _) = run_json(sb.sg(&["--output", "json", "hold", "list"]));
    assert_eq!((code, v), (0, serde_json::json!({"holds": []})));
    let mut set = sb.sg(&[
        "--output",
        "json",
        "hold",
        "set",
        "--env",
        "prod",
        "--reason",
        "year-end close",
        "--until",
        "2031-01-04T08:00:00Z",
        "--rollbacks-too",
    ]);
    set.env("STAGEGATE_NOW", "2030-12-20T09:00:00Z");
    let (code, v, err) = run_json(set);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["hold"]["environment"], "prod", "{v:#}");

    let mut list = sb.sg(&["--output", "json", "hold", "list"]);
    list.env("STAGEGATE_NOW", "2030-12-21T09:00:00Z");
    let (code, v, _) = run_json(list);
    assert_eq!(code, 0);
    assert_eq!(
        v,
        serde_json::json!({"holds": [{
            "environment": "prod", "reason": "year-end close", "by": "mallory",
            "at": "2030-12-20T09:00:00Z", "until": "2031-01-04T08:00:00Z", "rollbacks_too": true
        }]})
    );
    let mut clear = sb.sg(&["hold", "clear", "--env", "prod", "--reason", "closed early", "--actor", "carol"]);
    clear.env("STAGEGATE_NOW", "2030-12-22T09:00:00Z");
    let (code, out, err) = run(clear);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("prod is no longer held"), "{out}");
    let (_, out, _) = run(sb.sg(&["hold", "clear", "--env", "prod"]));
    assert!(out.contains("prod is not held: nothing to clear"), "{out}");

    let audit = std::fs::read_to_string(sb.path().join(".stagegate/audit.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = audit.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let said: Vec<(&str, &str, &str, &str)> = lines
        .iter()
        .map(|l| {
            let s = |k: &str| l[k].as_str().unwrap_or_default();
            (s("command"), s("actor"), s("reason"), s("at"))
        })
        .collect();
    assert_eq!(
        said,
        [
            ("hold set", "mallory", "year-end close", "2030-12-20T09:00:00Z"),
            ("hold clear", "carol", "closed early", "2030-12-22T09:00:00Z")
        ]
    );
    let (code, v, _) = run_json(sb.sg(&["--output", "json", "history", "--env", "prod"]));
    assert_eq!(code, 0);
    let events: Vec<(&str, &str)> = v["holds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["event"].as_str().unwrap(), h["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(events, [("cleared", "cleared by carol: closed early"), ("set", "year-end close")]);
}

#[test]
fn a_rollback_runs_into_a_held_environment_unless_the_hold_holds_rollbacks_too() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    for r in ["1.0.0", "1.1.0", "1.2.0"] {
        assert_eq!(deploy_dev(&sb, r).0, 0);
    }
    ok(&sb, &["hold", "set", "--env", "dev", "--reason", "INC-1 checkout errors"]);
    let (code, out, err) = run(sb.sg(&["rollback", "--env", "dev", "--reason", "INC-1"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("dev is held (INC-1 checkout errors), but rollbacks still run"), "{out}");
    assert_eq!(live(&sb, "dev").0, "1.1.0");

    ok(&sb, &["hold", "set", "--env", "dev", "--reason", "data migration", "--rollbacks-too"]);
    let (code, v, err) = run_json(sb.sg(&["--output", "json", "rollback", "--env", "dev"]));
    assert_eq!(code, 3, "{v:#}{err}");
    assert_eq!(v["refusal"]["code"], HELD, "{v:#}");
    assert!(v["refusal"]["message"].as_str().unwrap().contains("(rollbacks too): data migration"), "{v:#}");
    assert_eq!(live(&sb, "dev").0, "1.1.0");
}

#[test]
fn a_hold_past_its_until_no_longer_holds() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    let at = |now: &str, args: &[&str]| {
        let mut c = sb.sg(args);
        c.env("STAGEGATE_NOW", now);
        c
    };
    let set = ["hold", "set", "--env", "dev", "--reason", "window", "--until", "2030-06-01T12:00:00Z"];
    let (code, out, err) = run(at("2030-06-01T13:00:00Z", &set));
    assert_eq!(code, 2, "an until in the past is refused\n{out}{err}");
    assert!(err.contains("is not in the future"), "{err}");
    assert_eq!(run(at("2030-06-01T10:00:00Z", &set)).0, 0);
    let deploy = ["--output", "json", "deploy", "--env", "dev", "--ref", "release/v1", "--release", "1.0.0"];
    let (code, v, _) = run_json(at("2030-06-01T11:59:59Z", &deploy));
    assert_eq!((code, &v["refusal"]["code"]), (3, &serde_json::json!(HELD)), "{v:#}");
    assert_eq!(v["refusal"]["until"], "2030-06-01T12:00:00Z", "{v:#}");
    let (code, v, _) = run_json(at("2030-06-01T12:00:00Z", &deploy));
    assert_eq!(code, 0, "{v:#}");
    let (_, v, _) = run_json(at("2030-06-01T12:00:00Z", &["--output", "json", "hold", "list"]));
    assert_eq!(v["holds"], serde_json::json!([]));
}

#[test]
fn unknown_environments_and_bad_reasons_are_invalid_input() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    for args in [
        &["hold", "set", "--env", "nope", "--reason", "x"][..],
        &["hold", "clear", "--env", "nope"],
        &["hold", "list", "--env", "nope"],
        &["hold", "set", "--env", "dev", "--reason", "  "],
        &["hold", "set", "--env", "dev", "--reason", "two\nlines"],
        &["hold", "set", "--env", "dev", "--reason", "bell\u{7}"],
        &["hold", "set", "--env", "dev", "--reason", "x", "--until", "tomorrow"],
        &["hold", "set", "--env", "dev", "--reason", "x", "--now", "2030-01-01T00:00:00Z"],
    ] {
        let (code, out, err) = run(sb.sg(args));
        assert_eq!(code, 2, "{args:?}\n{out}{err}");
    }
    let (_, v, _) = run_json(sb.sg(&["--output", "json", "hold", "list"]));
    assert_eq!(v["holds"], serde_json::json!([]), "nothing was held");
    let (code, out, err) = run(sb.sg(&["hold", "set", "--env", "nope", "--reason", "x"]));
    assert_eq!(code, 2);
    assert!(format!("{out}{err}").contains("unknown environment `nope`"), "{err}");
}

#[test]
fn markdown_in_a_reason_is_neutralised_in_the_step_summary() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    let reason = "INC-9 <img src=x onerror=alert(1)> [click](https://evil.example) | col";
    ok(&sb, &["hold", "set", "--env", "prod", "--reason", reason]);
    let summary = sb.path().join("summary.md");
    let mut status = sb.sg(&["status", "--no-health"]);
    status.env("GITHUB_STEP_SUMMARY", &summary);
    let (code, _, err) = run(status);
    assert_eq!(code, 0, "{err}");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("**prod is held**"), "{md}");
    assert!(!md.contains("<img") && !md.contains("](https://evil"), "{md}");
}
