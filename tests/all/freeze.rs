//! Freeze windows through the CLI: `plan`, `promote` and `deploy` refuse inside
//! a window and say when it ends; overrides only where allowed, and audited;
//! `check` points at a broken window.

use crate::support::{Sandbox, check_diagnostics, run, run_json};

const CONFIG: &str = r#"version: 1
environments:
  dev:
    auto_deploy: true
    freeze: ["2026-12-24 00:00 - 2026-12-27 00:00 Europe/London"]
  prod:
    freeze: ["FRI 16:00 - MON 08:00 Europe/London"]
    freeze_override: allowed
promotions:
  - { from: dev, to: prod }
steps:
  deploy: echo "deploy $STAGEGATE_ENV" >> hooks.log
"#;

fn sandbox() -> Sandbox {
    let sb = Sandbox::new();
    sb.write("stagegate.yml", CONFIG);
    sb
}

fn at(sb: &Sandbox, now: &str, args: &[&str]) -> (i32, String) {
    let mut cmd = sb.sg(args);
    cmd.env("STAGEGATE_NOW", now);
    let (code, out, err) = run(cmd);
    (code, out + &err)
}

#[test]
fn plan_refuses_inside_a_weekly_window_across_the_october_dst_change() {
    let sb = sandbox();
    let plan = ["plan", "--from", "dev", "--to", "prod"];
    // Friday 23 Oct 2026, BST: the window opens at 15:00 UTC.
    assert_eq!(at(&sb, "2026-10-23T14:59:59Z", &plan).0, 0);
    let (code, out) = at(&sb, "2026-10-23T15:00:00Z", &plan);
    assert_eq!(code, 3);
    // Clocks went back on the Sunday: Monday 08:00 London is 08:00 UTC.
    assert!(out.contains("prod is frozen (`FRI 16:00 - MON 08:00 Europe/London`) until Mon 2026-10-26 08:00 GMT (2026-10-26 08:00 UTC)"), "{out}");
    assert!(out.contains("override with --override-freeze --reason TEXT"), "{out}");
    assert_eq!(at(&sb, "2026-10-26T07:59:59Z", &plan).0, 3);
    assert_eq!(at(&sb, "2026-10-26T08:00:00Z", &plan).0, 0);
    // And in spring, Monday 08:00 BST is 07:00 UTC.
    assert_eq!(at(&sb, "2026-03-30T06:59:59Z", &plan).0, 3);
    assert_eq!(at(&sb, "2026-03-30T07:00:00Z", &plan).0, 0);
}

#[test]
fn deploy_refuses_inside_a_one_off_window_and_cannot_be_overridden_there() {
    let sb = sandbox();
    let deploy = ["deploy", "--env", "dev", "--ref", "main", "--release", "1"];
    let (code, out) = at(&sb, "2026-12-25T12:00:00Z", &deploy);
    assert_eq!(code, 3);
    assert!(
        out.contains(
            "dev is frozen (`2026-12-24 00:00 - 2026-12-27 00:00 Europe/London`) until Sun 2026-12-27 00:00 GMT"
        ),
        "{out}"
    );
    let mut args = deploy.to_vec();
    args.extend(["--override-freeze", "--reason", "hotfix"]);
    let (code, out) = at(&sb, "2026-12-25T12:00:00Z", &args);
    assert_eq!(code, 3);
    assert!(out.contains("does not allow overrides"), "{out}");
    assert!(!sb.path().join("hooks.log").exists());
    assert_eq!(at(&sb, "2026-12-27T00:00:00Z", &deploy).0, 0);
}

#[test]
fn an_override_where_allowed_needs_a_reason_and_is_audited() {
    let sb = sandbox();
    assert_eq!(at(&sb, "2026-11-18T12:00:00Z", &["deploy", "--env", "dev", "--ref", "main", "--release", "1"]).0, 0);
    let promote = ["promote", "--from", "dev", "--to", "prod", "--release", "1"];
    let saturday = "2026-11-21T12:00:00Z";
    let (code, out) = at(&sb, saturday, &promote);
    assert_eq!(code, 3, "{out}");
    let mut no_reason = promote.to_vec();
    no_reason.push("--override-freeze");
    let (code, out) = at(&sb, saturday, &no_reason);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--override-freeze needs --reason"), "{out}");
    // A reason alone overrides nothing, and says so rather than being ignored.
    let mut reason_only = promote.to_vec();
    reason_only.extend(["--reason", "INC-42 hotfix"]);
    let (code, out) = at(&sb, saturday, &reason_only);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--override-freeze"), "{out}");
    let mut args = no_reason.clone();
    args.extend(["--reason", "INC-42 hotfix"]);
    let (code, out) = at(&sb, saturday, &args);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("freeze `FRI 16:00 - MON 08:00 Europe/London` overridden: INC-42 hotfix"), "{out}");
    let audit = std::fs::read_to_string(sb.path().join(".stagegate/audit.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(last["freeze_override"]["reason"], "INC-42 hotfix");
    assert_eq!(last["at"], "2026-11-21T12:00:00Z");
}

#[test]
fn check_points_at_a_broken_window_and_unknown_override_values() {
    let sb = Sandbox::new();
    let cfg = sb.write(
        "bad.yml",
        "version: 1\nenvironments:\n  prod:\n    auto_deploy: true\n    freeze: [\"FRI 16:00 - MON 8h Europe/London\", \"FRI 16:00 - MON 08:00 Mars/Olympus\"]\n    freeze_override: sometimes\n    soak: 30\n",
    );
    let (code, diags) = check_diagnostics(&sb, &cfg);
    assert_eq!(code, 2);
    assert!(diags.iter().any(|(l, c, m)| *l == 5 && *c == 31 && m.contains("`8h` is not a time")), "{diags:?}");
    assert!(
        diags.iter().any(|(l, c, m)| *l == 5 && *c == 73 && m.contains("unknown time zone `Mars/Olympus`")),
        "{diags:?}"
    );
    assert!(
        diags.iter().any(|(l, _, m)| *l == 6 && m.contains("unknown `freeze_override` value `sometimes`")),
        "{diags:?}"
    );
    assert!(diags.iter().any(|(l, _, m)| *l == 7 && m.contains("invalid duration `30` for `soak`")), "{diags:?}");
}

#[test]
fn an_override_without_windows_is_a_warning() {
    let sb = Sandbox::new();
    let cfg =
        sb.write("w.yml", "version: 1\nenvironments:\n  prod:\n    auto_deploy: true\n    freeze_override: allowed\n");
    let mut cmd = sb.cmd();
    cmd.arg("-c").arg(&cfg).arg("check");
    let (code, json, _) = run_json(cmd);
    assert_eq!(code, 0);
    let d = &json["diagnostics"][0];
    assert_eq!((d["severity"].as_str(), d["line"].as_u64()), (Some("warning"), Some(3)));
    assert!(d["message"].as_str().unwrap().contains("allows freeze overrides but has no freeze windows"));
}
