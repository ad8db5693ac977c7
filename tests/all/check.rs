//! `stagegate check` over the broken-config corpus and the shipped examples.

use std::fs;

use crate::support::{Sandbox, example, repo_root, run, run_json};

/// Each file in tests/configs/broken starts with `# expect: line N: TEXT`.
#[test]
fn every_broken_config_is_rejected_at_the_right_line() {
    let dir = repo_root().join("tests/configs/broken");
    let mut seen = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = fs::read_to_string(&path).unwrap();
        let header = text.lines().next().unwrap();
        let spec = header.strip_prefix("# expect: line ").unwrap_or_else(|| panic!("{path:?} lacks an expect header"));
        let (line, want) = spec.split_once(": ").unwrap();
        let line: u64 = line.parse().unwrap();

        let sb = Sandbox::new();
        let mut cmd = sb.cmd();
        cmd.arg("-c").arg(&path).arg("check");
        let (code, json, _) = run_json(cmd);
        assert_eq!(code, 2, "{path:?} should exit 2");
        assert_eq!(json["valid"], false, "{path:?}");
        let diags = json["diagnostics"].as_array().unwrap();
        assert!(
            diags.iter().any(|d| d["severity"] == "error"
                && d["line"] == line
                && d["message"].as_str().unwrap().contains(want)),
            "{path:?}: no error at line {line} containing {want:?}; got {diags:#?}"
        );
        assert!(diags.iter().all(|d| d["column"].as_u64().unwrap() >= 1), "{path:?}: columns are 1-based");
        seen += 1;
    }
    assert!(seen >= 20, "the corpus has {seen} files");
}

#[test]
fn text_output_shows_the_file_line_and_a_help() {
    let sb = Sandbox::new();
    let path = repo_root().join("tests/configs/broken/unknown-env-key.yml");
    let mut cmd = sb.cmd();
    cmd.arg("-c").arg(&path).arg("check");
    let (code, _, err) = run(cmd);
    assert_eq!(code, 2);
    assert!(err.contains("unknown-env-key.yml:5:5"), "{err}");
    assert!(err.contains("did you mean `branches`?"), "{err}");
}

#[test]
fn all_problems_are_reported_in_one_run() {
    let sb = Sandbox::new();
    let cfg = sb.write(
        "many.yml",
        "version: 1\nenvironments:\n  dev:\n    brnches: [main]\n    auto_deploy: true\n  prod:\n    approvals: { required: 2 }\npromotions:\n  - { from: dev, to: prd }\n  - { from: dev, to: prod }\n  - { from: dev, to: prod }\n",
    );
    let mut cmd = sb.cmd();
    cmd.arg("-c").arg(cfg).arg("check");
    let (code, json, _) = run_json(cmd);
    assert_eq!(code, 2);
    let lines: Vec<u64> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| d["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![4, 7, 9, 11], "{json:#}");
}

#[test]
fn non_utf8_file_is_rejected_with_its_line() {
    let sb = Sandbox::new();
    let cfg = sb.write("latin1.yml", b"version: 1\nenvironments:\n  caf\xe9: {}\n");
    let mut cmd = sb.cmd();
    cmd.arg("-c").arg(cfg).arg("check");
    let (code, json, _) = run_json(cmd);
    assert_eq!(code, 2);
    assert_eq!(json["diagnostics"][0]["line"], 3);
    assert!(json["diagnostics"][0]["message"].as_str().unwrap().contains("UTF-8"));
}

#[test]
fn warnings_do_not_fail_the_check() {
    let sb = Sandbox::new();
    let cfg = sb.write(
        "warn.yml",
        "version: 1\nenvironments:\n  dev: { auto_deploy: true }\n  orphan: {}\n  qa:\n    approvals: { required: 1, reviewers: ['@acme/qa'] }\n  prod: {}\npromotions:\n  - { from: dev, to: qa }\n  - { from: qa, to: prod }\n",
    );
    let mut cmd = sb.cmd();
    cmd.arg("-c").arg(&cfg).arg("check");
    let (code, json, _) = run_json(cmd);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["valid"], true);
    let warnings: Vec<&str> =
        json["diagnostics"].as_array().unwrap().iter().map(|d| d["message"].as_str().unwrap()).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].contains("no promotion leads to `orphan`"));
    assert!(warnings[1].contains("`prod` requires 0 approval(s), fewer than `qa`"));
}

#[test]
fn a_change_no_deploy_can_give_is_warned_about() {
    let sb = Sandbox::new();
    let cfg = sb.write(
        "change.yml",
        "version: 1\nenvironments:\n  dev: { auto_deploy: true, change: required }\n  prod: { change: required }\npromotions:\n  - { from: dev, to: prod }\n",
    );
    let mut cmd = sb.cmd();
    cmd.arg("-c").arg(&cfg).arg("check");
    let (code, json, _) = run_json(cmd);
    assert_eq!(code, 0, "{json:#}");
    let said: Vec<(u64, &str)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["line"].as_u64().unwrap(), d["message"].as_str().unwrap()))
        .collect();
    assert!(said.iter().any(|(l, m)| *l == 3 && m.contains("`dev` deploys on push but requires")), "{said:?}");
    for env in ["dev", "prod"] {
        let m = format!("`{env}` requires a ServiceNow change, but no `servicenow:` is configured");
        assert!(said.iter().any(|(_, s)| s.contains(&m)), "{env}: {said:?}");
    }
    // The journal's change approval, likewise, at its line.
    let cfg =
        sb.write("journal.yml", "version: 1\nenvironments:\n  dev: {}\njournal:\n  change_approval: servicenow\n");
    let mut cmd = sb.cmd();
    cmd.arg("-c").arg(&cfg).arg("check");
    let (code, json, _) = run_json(cmd);
    assert_eq!(code, 0, "{json:#}");
    let d = &json["diagnostics"][0];
    assert_eq!((d["severity"].as_str(), d["line"].as_u64()), (Some("warning"), Some(5)), "{json:#}");
    assert!(d["message"].as_str().unwrap().contains("journal uploads require a ServiceNow change"), "{json:#}");
}

#[test]
fn shipped_examples_are_valid_and_warn_only_about_edges_no_ref_can_take() {
    // The six-environment model keeps dev-int (main) → future (release/*):
    // `check` says it cannot be taken. ETNA has no such edge any more (each
    // feature branch deploys its own instance; preview follows main).
    for (name, dead) in [
        ("seed-environments.yml", Some("dev-int → future")),
        ("starter.yml", Some("dev-int → future")),
        ("etna.yml", None),
        ("journal.yml", None),
    ] {
        let sb = Sandbox::new();
        let mut cmd = sb.cmd();
        cmd.arg("-c").arg(example(name)).arg("check");
        let (code, json, _) = run_json(cmd);
        assert_eq!(code, 0, "{name}: {json:#}");
        let messages: Vec<(&str, &str)> = json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["severity"].as_str().unwrap(), d["message"].as_str().unwrap()))
            .collect();
        let want: Vec<String> = dead.iter().map(|e| format!("promotion {e} can never succeed")).collect();
        assert_eq!(messages.len(), want.len(), "{name}: {json:#}");
        for ((severity, message), want) in messages.iter().zip(&want) {
            assert_eq!(*severity, "warning", "{name}");
            assert!(message.starts_with(want.as_str()), "{name}: {message}");
        }
    }
}

#[test]
fn promotion_edges_no_ref_can_take_are_warned_about() {
    let sb = Sandbox::new();
    let cfg = sb.write(
        "dead.yml",
        "version: 1\nenvironments:\n  dev: { auto_deploy: true, branches: [main] }\n  rc: { branches: [\"release/*\"], tags: [\"v*\"] }\n  qa: { branches: [main, \"release/*\"] }\n  prod: { branches: [\"release/*\"] }\npromotions:\n  - { from: dev, to: rc }\n  - { from: dev, to: qa }\n  - { from: qa, to: prod }\n",
    );
    let mut cmd = sb.cmd();
    cmd.arg("-c").arg(&cfg).arg("check");
    let (code, json, _) = run_json(cmd);
    assert_eq!(code, 0, "a warning, not an error: {json:#}");
    let diags = json["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "qa and prod share release/*: {json:#}");
    let d = &diags[0];
    assert_eq!((d["severity"].as_str(), d["line"].as_u64()), (Some("warning"), Some(8)));
    assert_eq!(
        d["message"],
        "promotion dev → rc can never succeed: no ref is allowed by both `dev` (branches main) and `rc` (branches release/*; tags v*)"
    );
    assert!(d["help"].as_str().unwrap().contains("e.g. `main` to `rc`'s branches"), "{d:#}");

    let mut cmd = sb.cmd();
    cmd.arg("-c").arg(&cfg).arg("check");
    let (code, _, err) = run(cmd);
    assert_eq!(code, 0);
    assert!(err.contains("dead.yml:8:5") && err.contains("add a pattern they share"), "{err}");
}

#[test]
fn the_embedded_default_is_used_when_the_repo_has_no_config() {
    let sb = Sandbox::new();
    let mut cmd = sb.cmd();
    cmd.arg("check");
    let (code, json, _) = run_json(cmd);
    assert_eq!(code, 0);
    assert_eq!(json["environments"], 6);
    assert_eq!(json["promotions"], 7);
}

#[test]
fn the_repository_config_wins_over_the_embedded_default() {
    let sb = Sandbox::new();
    sb.write(".github/stagegate.yml", "version: 1\nenvironments:\n  only: { auto_deploy: true }\n");
    let mut cmd = sb.cmd();
    cmd.arg("check");
    let (code, json, _) = run_json(cmd);
    assert_eq!(code, 0);
    assert_eq!(json["environments"], 1);
}

#[test]
fn a_missing_explicit_config_is_invalid_input() {
    let sb = Sandbox::new();
    let mut cmd = sb.cmd();
    cmd.args(["-c", "nope.yml", "check"]);
    let (code, _, err) = run(cmd);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read config `nope.yml`"), "{err}");
}

#[test]
fn actions_get_error_annotations() {
    let sb = Sandbox::new();
    let path = repo_root().join("tests/configs/broken/duplicate-edge.yml");
    let mut cmd = sb.cmd();
    cmd.env("GITHUB_ACTIONS", "true").arg("-c").arg(&path).arg("check");
    let (code, out, _) = run(cmd);
    assert_eq!(code, 2);
    assert!(out.contains("::error file="), "{out}");
    assert!(out.contains(",line=8,col=5,"), "{out}");
}
