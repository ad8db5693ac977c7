//! Values with a syntax of their own (branch and tag patterns, freeze
//! windows, durations, the calver format) are parsed when the config loads: a
//! bad one is a config error at its line and column, and no command runs on
//! it — a window that does not parse must not mean "never frozen", nor a
//! pattern that does not parse "any ref".

use crate::support::{Sandbox, run, run_json};

const HEAD: &str = "version: 1\nrelease:\n  format: \"YY.0M.0D.BUILD\"\nenvironments:\n  dev: { auto_deploy: true, branches: [main] }\n";

/// (what, config after HEAD, line, column, message)
const BAD: &[(&str, &str, u64, u64, &str)] = &[
    (
        "freeze window",
        "  prod:\n    freeze: [\"FRI 16:00 - MON 8h Europe/London\"]\n",
        7,
        31,
        "invalid freeze window: `8h` is not a time",
    ),
    ("branch glob", "  prod:\n    branches: [main, \"release/[\"]\n", 7, 31, "invalid branch pattern `release/[`"),
    ("tag glob", "  prod:\n    tags: [\"v[]\"]\n", 7, 14, "invalid tag pattern `v[]`"),
    ("duration", "  prod:\n    soak: 2 days\n", 7, 11, "invalid duration `2 days` for `soak`"),
    ("wait timer", "  prod:\n    approvals: { wait_timer: 5 }\n", 7, 30, "invalid duration `5` for `wait_timer`"),
];

fn config(body: &str) -> String {
    format!("{HEAD}{body}promotions:\n  - {{ from: dev, to: prod }}\n")
}

#[test]
fn a_bad_value_is_an_error_at_its_line_and_column() {
    let mut cases: Vec<(&str, String, u64, u64, &str)> =
        BAD.iter().map(|(w, body, l, c, m)| (*w, config(body), *l, *c, *m)).collect();
    cases.push((
        "calver format",
        config("  prod: {}\n").replace("YY.0M.0D.BUILD", "YY.0M.XX.BUILD"),
        3,
        18,
        "invalid calver format `YY.0M.XX.BUILD`: unknown token at `XX.BUILD`",
    ));
    for (what, text, line, column, message) in cases {
        let sb = Sandbox::new();
        let cfg = sb.write("bad.yml", &text);
        let mut cmd = sb.cmd();
        cmd.arg("-c").arg(&cfg).arg("check");
        let (code, json, _) = run_json(cmd);
        assert_eq!(code, 2, "{what}: {json:#}");
        let d = &json["diagnostics"][0];
        assert_eq!(d["severity"], "error", "{what}: {json:#}");
        assert!(d["message"].as_str().unwrap().contains(message), "{what}: {json:#}");
        assert_eq!((d["line"].as_u64(), d["column"].as_u64()), (Some(line), Some(column)), "{what}: {json:#}");

        let mut cmd = sb.cmd();
        cmd.arg("-c").arg(&cfg).arg("check");
        let (code, _, err) = run(cmd);
        assert_eq!(code, 2);
        assert!(err.contains(&format!("bad.yml:{line}:{column}")), "{what}: {err}");
    }
}

#[test]
fn no_command_runs_on_a_window_or_pattern_that_does_not_parse() {
    let sb = Sandbox::new();
    // Every window unparseable: before, the environment would simply never freeze.
    let cfg = sb.write("freeze.yml", config("  prod:\n    freeze: [\"FRY 16:00 - MON 08:00 UTC\"]\n"));
    let mut cmd = sb.cmd();
    cmd.arg("-c").arg(&cfg).args(["plan", "--from", "dev", "--to", "prod"]);
    let (code, _, err) = run(cmd);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("invalid freeze window") && err.contains("freeze.yml:7:"), "{err}");

    // Every pattern unparseable: before, the environment would allow any ref.
    let cfg = sb.write("glob.yml", config("  prod:\n    branches: [\"release/[\"]\n"));
    let mut cmd = sb.cmd();
    cmd.arg("-c").arg(&cfg).args(["can-deploy", "--env", "prod", "--ref", "feature/x"]);
    let (code, _, err) = run(cmd);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("invalid branch pattern"), "{err}");
}

#[test]
fn a_semver_release_ignores_the_calver_format() {
    let sb = Sandbox::new();
    let text = config("  prod: {}\n").replace("format: \"YY.0M.0D.BUILD\"", "scheme: semver\n  format: whatever");
    let cfg = sb.write("semver.yml", text);
    let mut cmd = sb.cmd();
    cmd.arg("-c").arg(&cfg).arg("check");
    let (code, json, _) = run_json(cmd);
    assert_eq!(code, 0, "{json:#}");
}
