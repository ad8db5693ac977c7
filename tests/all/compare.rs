//! `stagegate compare A B`: the readiness score at its documented thresholds
//! (≥ 90 ready, 75–89 caution, < 75 not ready with exit 3), and never "ready"
//! where `plan` refuses: any refusal is "not ready" (exit 3) whatever the points.

use crate::support::{DEPLOY_HOOK, SHORT_TIMEOUTS, Sandbox, health_server, run, run_config_with, run_json};

fn sandbox() -> Sandbox {
    let sb = Sandbox::new();
    let port = health_server(sb.path());
    let staging = "    freeze: [\"SAT 00:00 - SUN 00:00 UTC\"]\n    soak: 1h\n";
    sb.write("stagegate.yml", run_config_with(port, staging, SHORT_TIMEOUTS));
    sb.write("deploy.sh", DEPLOY_HOOK);
    sb
}

const MONDAY: &str = "2026-11-16T12:00:00Z";
const SATURDAY: &str = "2026-11-21T12:00:00Z";

fn at(sb: &Sandbox, now: &str, args: &[&str]) -> i32 {
    let mut cmd = sb.sg(args);
    cmd.env("STAGEGATE_NOW", now);
    run(cmd).0
}

fn compare(sb: &Sandbox, now: &str) -> (i32, u64, String, Vec<String>) {
    let mut cmd = sb.sg(&["compare", "dev", "staging"]);
    cmd.env("STAGEGATE_NOW", now);
    let (code, json, _) = run_json(cmd);
    let failed = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    (code, json["score"].as_u64().unwrap(), json["verdict"].as_str().unwrap().to_string(), failed)
}

#[test]
fn scores_hit_the_thresholds_with_the_documented_verdicts() {
    let sb = sandbox();
    assert_eq!(
        at(&sb, "2026-11-16T09:00:00Z", &["deploy", "--env", "dev", "--ref", "release/v1", "--release", "1.0.0"]),
        0
    );
    assert_eq!(compare(&sb, MONDAY), (0, 100, "ready".into(), vec![]));
    // Frozen: 90 points, but `plan` refuses, so it is not ready.
    assert_eq!(compare(&sb, SATURDAY), (3, 90, "not_ready".into(), vec!["not-frozen".to_string()]));
    assert_eq!(at(&sb, SATURDAY, &["plan", "--from", "dev", "--to", "staging", "--release", "1.0.0"]), 3);

    // A release that failed in staging: caution, 85; frozen as well: 75 points, not ready.
    assert_eq!(
        at(&sb, "2026-11-16T09:00:00Z", &["deploy", "--env", "dev", "--ref", "release/v2", "--release", "2.0.0-bad"]),
        0
    );
    assert_eq!(at(&sb, MONDAY, &["promote", "--from", "dev", "--to", "staging", "--release", "2.0.0-bad"]), 1);
    assert_eq!(compare(&sb, MONDAY), (0, 85, "caution".into(), vec!["no-failures".to_string()]));
    let (code, score, verdict, _) = compare(&sb, SATURDAY);
    assert_eq!((code, score, verdict.as_str()), (3, 75, "not_ready"));
}

#[test]
fn below_75_is_not_ready_and_exits_3() {
    let sb = sandbox();
    // From `main` (staging takes release/* only), 30 minutes ago (soak 1h), on a frozen Saturday.
    assert_eq!(at(&sb, "2026-11-21T11:30:00Z", &["deploy", "--env", "dev", "--ref", "main", "--release", "1.0.0"]), 0);
    let (code, score, verdict, failed) = compare(&sb, SATURDAY);
    assert_eq!((code, score, verdict.as_str()), (3, 65, "not_ready"));
    assert_eq!(failed, ["ref", "not-frozen", "soak"]);
    let output = sb.write("output.txt", "");
    let summary = sb.write("summary.md", "");
    let mut cmd = sb.sg(&["compare", "dev", "staging"]);
    cmd.env("STAGEGATE_NOW", SATURDAY).env("GITHUB_OUTPUT", &output).env("GITHUB_STEP_SUMMARY", &summary);
    let (code, out, _) = run(cmd);
    assert_eq!(code, 3);
    assert_eq!(crate::support::outputs(&output), crate::support::pairs(&[("score", "65")]));
    let md = std::fs::read_to_string(summary).unwrap();
    assert!(md.contains("❌ readiness 65/100: not ready for promotion") && md.contains("| ❌ | soak | 0/10 |"), "{md}");
    assert!(out.contains("readiness 65/100: not ready for promotion"), "{out}");
    assert!(out.contains("in dev but not in staging: 1.0.0"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("branches") && l.contains("main, release/*")), "{out}");
    assert!(out.contains("1.0.0 has been healthy in dev for 30m; the soak time is 1h"), "{out}");
}

const FROZEN_PROD: &str = r#"version: 1
environments:
  dev-int: { branches: [main, "release/*"] }
  staging: { branches: ["release/*"] }
  prod:
    branches: ["release/*"]
    freeze: ["SAT 00:00 - MON 00:00 UTC"]
promotions:
  - { from: dev-int, to: staging }
  - { from: staging, to: prod }
"#;

/// Wednesday 2 December 2026, and the Saturday after it (prod frozen).
const WEDNESDAY: &str = "2026-12-02T10:00:00Z";
const FROZEN: &str = "2026-12-05T10:00:00Z";

/// Release 1.0.0 deployed to dev-int and promoted to staging.
fn in_staging() -> Sandbox {
    let sb = Sandbox::new();
    sb.write("stagegate.yml", FROZEN_PROD);
    assert_eq!(at(&sb, WEDNESDAY, &["deploy", "--env", "dev-int", "--ref", "release/v1", "--release", "1.0.0"]), 0);
    assert_eq!(at(&sb, WEDNESDAY, &["promote", "--from", "dev-int", "--to", "staging", "--release", "1.0.0"]), 0);
    sb
}

fn json_at(sb: &Sandbox, now: &str, args: &[&str]) -> (i32, serde_json::Value) {
    let mut cmd = sb.sg(args);
    cmd.env("STAGEGATE_NOW", now);
    let (code, json, _) = run_json(cmd);
    (code, json)
}

fn codes(json: &serde_json::Value) -> Vec<String> {
    json["blockers"].as_array().unwrap().iter().map(|b| b["code"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn prod_inside_a_freeze_is_not_ready_as_plan_says() {
    let sb = in_staging();
    let settings = crate::output::settings(sb.path());
    let _guard = settings.bind_to_scope();
    let plan = ["plan", "--from", "staging", "--to", "prod", "--release", "1.0.0"];
    let (code, json) = json_at(&sb, FROZEN, &plan);
    assert_eq!((code, codes(&json)), (3, vec!["stagegate::refused::frozen".to_string()]), "{json:#}");
    let (code, json) = json_at(&sb, FROZEN, &["compare", "staging", "prod"]);
    assert_eq!((code, json["verdict"].as_str()), (3, Some("not_ready")), "{json:#}");
    assert_eq!(codes(&json), ["stagegate::refused::frozen"], "{json:#}");
    assert_eq!(json["score"], 90, "the points still rank it: only the freeze is missing");
    insta::assert_snapshot!(
        "compare_frozen_text",
        crate::output::shoot(&sb, sb.sg(&["compare", "staging", "prod"]), FROZEN).render()
    );
    // On Wednesday both agree it may go.
    assert_eq!(json_at(&sb, WEDNESDAY, &plan).0, 0);
    let (code, json) = json_at(&sb, WEDNESDAY, &["compare", "staging", "prod"]);
    assert_eq!((code, json["verdict"].as_str(), json["score"].as_u64()), (0, Some("ready"), Some(100)));
}

#[test]
fn a_path_that_does_not_exist_is_not_ready() {
    let sb = in_staging();
    let settings = crate::output::settings(sb.path());
    let _guard = settings.bind_to_scope();
    let (code, json) = json_at(&sb, WEDNESDAY, &["compare", "dev-int", "prod"]);
    assert_eq!((code, json["verdict"].as_str()), (3, Some("not_ready")), "{json:#}");
    assert_eq!(codes(&json), ["stagegate::refused::path"], "{json:#}");
    let (code, json) = json_at(&sb, WEDNESDAY, &["plan", "--from", "dev-int", "--to", "prod", "--release", "1.0.0"]);
    assert_eq!((code, codes(&json)), (3, vec!["stagegate::refused::path".to_string()]), "{json:#}");
    insta::assert_snapshot!(
        "compare_no_path_text",
        crate::output::shoot(&sb, sb.sg(&["compare", "dev-int", "prod"]), WEDNESDAY).render()
    );
}
