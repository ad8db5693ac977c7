//! Every refusal carries a stable code — in the JSON report, in `plan`'s JSON
//! and in the action's `refusal` output — so a workflow can branch on why a
//! run was refused without parsing its message.

use crate::support::{SHORT_TIMEOUTS, Sandbox, outputs, run, run_json};

fn deploy_dev(sb: &Sandbox, release: &str) {
    let (code, out, err) = run(sb.sg(&["deploy", "--env", "dev", "--ref", "release/v1", "--release", release]));
    assert_eq!(code, 0, "{out}\n{err}");
}

/// Runs `args` with `--json` and returns the exit code and the refusal's code.
fn refused(sb: &Sandbox, args: &[&str]) -> (i32, String, serde_json::Value) {
    let (code, json, err) = run_json(sb.sg(args));
    assert_eq!(json["outcome"], "refused", "{json:#}\n{err}");
    let message = json["refusal"]["message"].as_str().unwrap_or_default();
    assert!(json["message"].as_str().unwrap().contains(message), "{json:#}");
    assert_eq!(json["blockers"][0], json["refusal"], "the first blocker is the refusal: {json:#}");
    (code, json["refusal"]["code"].as_str().unwrap_or_default().to_owned(), json)
}

#[test]
fn each_kind_of_refusal_has_its_own_code() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    let case = |args: &[&str]| {
        let (code, refusal, _) = refused(&sb, args);
        assert_eq!(code, 3, "{args:?}");
        refusal
    };
    let promote = |from: &'static str, to: &'static str, release: &'static str| {
        ["promote", "--from", from, "--to", to, "--release", release]
    };
    assert_eq!(case(&promote("dev", "prod", "1")), "stagegate::refused::path");
    assert_eq!(case(&promote("dev", "staging", "9.9.9")), "stagegate::refused::unknown_release");
    deploy_dev(&sb, "1.0.0");
    deploy_dev(&sb, "1.1.0");
    assert_eq!(case(&promote("dev", "staging", "1.0.0")), "stagegate::refused::not_current");
    let direct = ["deploy", "--env", "prod", "--ref", "release/v1", "--release", "1.1.0"];
    assert_eq!(case(&direct), "stagegate::refused::promotion_only");
    assert_eq!(case(&["deploy", "--env", "dev", "--ref", "feature/x", "--release", "2"]), "stagegate::refused::ref");
    assert_eq!(case(&["rollback", "--env", "staging"]), "stagegate::refused::no_rollback_target");
    let (code, json, _) = run_json(sb.sg(&promote("dev", "staging", "1.1.0")));
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["refusal"], serde_json::Value::Null, "a run that was not refused says so with null");
    assert_eq!(case(&promote("staging", "prod", "1.1.0")), "stagegate::refused::approvals");
}

#[test]
fn a_freeze_is_refused_with_its_code_in_the_report_the_plan_and_the_action_output() {
    let sb = Sandbox::new();
    sb.write(
        "stagegate.yml",
        r#"version: 1
environments:
  dev: { auto_deploy: true }
  prod: { freeze: ["SAT 00:00 - MON 00:00 UTC"] }
promotions:
  - { from: dev, to: prod }
"#,
    );
    let saturday = "2026-11-21T12:00:00Z";
    let mut c = sb.sg(&["deploy", "--env", "dev", "--ref", "main", "--release", "1"]);
    c.env("STAGEGATE_NOW", saturday);
    assert_eq!(run(c).0, 0);
    let output = sb.path().join("github-output");
    std::fs::write(&output, "").unwrap();
    let mut c = sb.sg(&["--forge", "local", "promote", "--from", "dev", "--to", "prod", "--release", "1"]);
    c.env("STAGEGATE_NOW", saturday).env("GITHUB_OUTPUT", &output).env("GITHUB_ACTIONS", "true");
    let (code, json, err) = run_json(c);
    assert_eq!(code, 3);
    // An annotation on the run's page, on stderr so stdout stays JSON.
    let note = err.lines().find(|l| l.starts_with("::error ")).unwrap_or_else(|| panic!("no annotation:\n{err}"));
    assert!(
        note.starts_with("::error title=stagegate promote%3A 1 to prod refused::promotion refused: prod is frozen"),
        "{note}"
    );
    assert_eq!(json["refusal"]["code"], "stagegate::refused::frozen", "{json:#}");
    assert!(json["refusal"]["message"].as_str().unwrap().starts_with("prod is frozen"), "{json:#}");
    let outs = outputs(&output);
    assert!(outs.contains(&("refusal".into(), "stagegate::refused::frozen".into())), "{outs:?}");
    assert!(outs.contains(&("outcome".into(), "refused".into())), "{outs:?}");

    let mut c = sb.sg(&["plan", "--from", "dev", "--to", "prod"]);
    c.env("STAGEGATE_NOW", saturday);
    let (code, json, _) = run_json(c);
    assert_eq!(code, 3, "{json:#}");
    assert_eq!(json["codes"], serde_json::json!(["stagegate::refused::frozen"]), "{json:#}");
    assert_eq!(json["reasons"].as_array().unwrap().len(), 1);
}
