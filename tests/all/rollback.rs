//! `rollback --env E` goes back, never forth: each rollback without `--to`
//! returns to the newest good release older than what E runs now, skipping
//! releases E was rolled back from, and is refused (exit 3) at the bottom.

use crate::support::{SHORT_TIMEOUTS, Sandbox, run, run_json};

fn deploy_dev(sb: &Sandbox, release: &str) {
    let (code, out, err) = run(sb.sg(&["deploy", "--env", "dev", "--ref", "release/v1", "--release", release]));
    assert_eq!(code, 0, "{out}\n{err}");
}

fn live(sb: &Sandbox) -> String {
    let (code, json, err) = run_json(sb.sg(&["status", "--no-health"]));
    assert_eq!(code, 0, "{err}");
    let env = json["environments"].as_array().unwrap().iter().find(|e| e["environment"] == "dev").unwrap();
    env["release"].as_str().unwrap_or_default().to_string()
}

fn rollback(sb: &Sandbox) -> (i32, String) {
    let (code, out, err) = run(sb.sg(&["rollback", "--env", "dev"]));
    (code, format!("{out}{err}"))
}

#[test]
fn rolling_back_twice_goes_back_twice_then_is_refused() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    for r in ["1.0.0", "1.1.0", "1.2.0"] {
        deploy_dev(&sb, r);
    }
    let (code, out) = rollback(&sb);
    assert_eq!((code, live(&sb)), (0, "1.1.0".to_string()), "{out}");
    // Not back to 1.2.0, the release just rolled away from.
    let (code, out) = rollback(&sb);
    assert_eq!((code, live(&sb)), (0, "1.0.0".to_string()), "{out}");
    let before = std::fs::read(sb.path().join(".stagegate/forge.json")).unwrap();
    let (code, out) = rollback(&sb);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("nothing older than 1.0.0"), "{out}");
    assert_eq!(live(&sb), "1.0.0");
    // A refusal records no deployment.
    let after: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sb.path().join(".stagegate/forge.json")).unwrap()).unwrap();
    let before: serde_json::Value = serde_json::from_slice(&before).unwrap();
    assert_eq!(after["deployments"], before["deployments"]);
}

#[test]
fn a_release_rolled_away_from_is_skipped_after_a_new_deploy_too() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    for r in ["1.0.0", "1.1.0", "1.2.0"] {
        deploy_dev(&sb, r);
    }
    assert_eq!(rollback(&sb).0, 0);
    assert_eq!(live(&sb), "1.1.0");
    deploy_dev(&sb, "1.3.0");
    // From 1.3.0 back to 1.1.0 (what ran before it), then past 1.2.0 (rolled
    // away from) to 1.0.0, then nothing.
    assert_eq!(rollback(&sb).0, 0);
    assert_eq!(live(&sb), "1.1.0");
    assert_eq!(rollback(&sb).0, 0);
    assert_eq!(live(&sb), "1.0.0");
    assert_eq!(rollback(&sb).0, 3);
    let deploys: Vec<String> = sb.hook_log().into_iter().filter(|l| l.starts_with("deploy dev")).collect();
    assert_eq!(
        deploys,
        ["1.0.0", "1.1.0", "1.2.0", "1.1.0", "1.3.0", "1.1.0", "1.0.0"].map(|r| format!("deploy dev {r}"))
    );
}

#[test]
fn a_rollback_reason_is_in_the_record_the_audit_trail_and_history() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    for r in ["1.0.0", "1.1.0"] {
        deploy_dev(&sb, r);
    }
    for bad in ["", "  ", "two\nlines"] {
        let (code, out, err) = run(sb.sg(&["rollback", "--env", "dev", "--reason", bad]));
        assert_eq!(code, 2, "--reason {bad:?}: {out}{err}");
    }
    assert_eq!(live(&sb), "1.1.0");
    let (code, out, err) = run(sb.sg(&["rollback", "--env", "dev", "--reason", " INC-4711 checkout errors "]));
    assert_eq!(code, 0, "{out}{err}");
    let forge: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sb.path().join(".stagegate/forge.json")).unwrap()).unwrap();
    let records = forge["deployments"].to_string();
    assert_eq!(records.matches("\"reason\":\"INC-4711 checkout errors\"").count(), 1, "{records}");
    let audit = std::fs::read_to_string(sb.path().join(".stagegate/audit.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(
        (last["command"].as_str(), last["reason"].as_str()),
        (Some("rollback"), Some("INC-4711 checkout errors"))
    );
    let (_, json, _) = run_json(sb.sg(&["history", "--env", "dev"]));
    assert_eq!(json["deployments"][0]["reason"], "INC-4711 checkout errors");
    assert_eq!(json["deployments"][1]["reason"], serde_json::Value::Null);
    let (_, out, _) = run(sb.sg(&["history", "--env", "dev"]));
    assert!(out.contains("(rollback of #2: INC-4711 checkout errors)"), "{out}");
}
