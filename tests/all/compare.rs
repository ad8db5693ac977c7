//! `stagegate compare A B`: the readiness score at its documented thresholds
//! (≥ 90 ready, 75–89 caution, < 75 not ready with exit 3).

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
    // Frozen: 90 is still ready.
    assert_eq!(compare(&sb, SATURDAY), (0, 90, "ready".into(), vec!["not-frozen".to_string()]));

    // A release that failed in staging: caution, 85; frozen as well: 75, still caution.
    assert_eq!(
        at(&sb, "2026-11-16T09:00:00Z", &["deploy", "--env", "dev", "--ref", "release/v2", "--release", "2.0.0-bad"]),
        0
    );
    assert_eq!(at(&sb, MONDAY, &["promote", "--from", "dev", "--to", "staging", "--release", "2.0.0-bad"]), 1);
    assert_eq!(compare(&sb, MONDAY), (0, 85, "caution".into(), vec!["no-failures".to_string()]));
    let (code, score, verdict, _) = compare(&sb, SATURDAY);
    assert_eq!((code, score, verdict.as_str()), (0, 75, "caution"));
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
