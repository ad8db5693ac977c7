//! Promotions into an environment with `change: required` need an approved
//! ServiceNow change inside its implement window, checked against
//! the ServiceNow Table API test server (or a real instance, see support).

use chrono::{Duration, Utc};

use crate::support::servicenow::{ServiceNow, change};
use crate::support::{Sandbox, run};

#[test]
fn promotions_into_change_controlled_environments_need_an_approved_change() {
    let fmt = |d: chrono::DateTime<Utc>| d.format("%Y-%m-%d %H:%M:%S").to_string();
    let (before, after) = (fmt(Utc::now() - Duration::hours(1)), fmt(Utc::now() + Duration::hours(1)));
    let sn = ServiceNow::start(vec![
        change("CHG0000001", "requested", "-3", &before, &after),
        change("CHG0000002", "approved", "-1", &before, &after),
        change("CHG0000003", "approved", "-1", "2020-01-01 00:00:00", "2020-01-02 00:00:00"),
    ]);
    let sb = Sandbox::new();
    let cfg = sb.write(
        "c.yml",
        format!(
            "version: 1\nenvironments:\n  active: {{ branches: [\"release/*\"] }}\n  staging: {{ branches: [\"release/*\"], change: required }}\npromotions:\n  - {{ from: active, to: staging }}\nservicenow:\n  instance: {}\n",
            sn.url
        ),
    );
    let stagegate = |args: &[&str]| {
        let mut c = sb.cmd();
        c.env("SERVICENOW_USER", &sn.user).env("SERVICENOW_PASSWORD", &sn.password).arg("-c").arg(&cfg).args(args);
        run(c)
    };
    let (code, _, err) = stagegate(&["deploy", "--env", "active", "--ref", "release/v1", "--release", "26.11.21.1"]);
    assert_eq!(code, 0, "{err}");

    // The plan, made before anyone approves, says what promote would: no
    // change, no promotion; an approved one in its window passes.
    let (code, out, _) = stagegate(&["plan", "--from", "active", "--to", "staging", "--release", "26.11.21.1"]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("staging requires an approved ServiceNow change: pass --change CHG"), "{out}");

    let promote = ["promote", "--from", "active", "--to", "staging", "--release", "26.11.21.1"];
    let (code, out, err) = stagegate(&promote);
    assert_eq!(code, 3, "{out}{err}");
    assert!(format!("{out}{err}").contains("requires an approved ServiceNow change"), "{out}{err}");

    for (number, why) in [("CHG0000001", "not approved"), ("CHG0000003", "window"), ("CHG0000009", "not found")] {
        let Some(n) = sn.number(why, number) else { continue };
        let (code, out, err) = stagegate(&[&promote[..], &["--change", &n]].concat());
        assert_eq!(code, 3, "{number}: {out}{err}");
    }
    let n = sn.number("approved", "CHG0000002").expect("an approved change to test with");
    let (code, out, _) =
        stagegate(&["plan", "--from", "active", "--to", "staging", "--release", "26.11.21.1", "--change", &n]);
    assert_eq!(code, 0, "{out}");
    assert!(out.lines().any(|l| l.contains("check-change") && l.contains(&format!("{n} approved"))), "{out}");
    let (code, out, err) = stagegate(&[&promote[..], &["--change", &n]].concat());
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("{n} approved")), "{out}");
    assert!(!format!("{out}{err}").contains(&sn.password), "the ServiceNow password never shows");
}

#[test]
fn a_direct_deploy_into_a_change_controlled_environment_needs_the_change_too() {
    let fmt = |d: chrono::DateTime<Utc>| d.format("%Y-%m-%d %H:%M:%S").to_string();
    let (before, after) = (fmt(Utc::now() - Duration::hours(1)), fmt(Utc::now() + Duration::hours(1)));
    let sn = ServiceNow::start(vec![
        change("CHG0000001", "requested", "-3", &before, &after),
        change("CHG0000002", "approved", "-1", &before, &after),
    ]);
    let sb = Sandbox::new();
    // No approvals, so a direct deploy is allowed: only the change stands in the way.
    let cfg = sb.write(
        "c.yml",
        format!(
            "version: 1\nenvironments:\n  staging: {{ branches: [\"release/*\"], change: required }}\nsteps:\n  deploy: echo \"deploying under $STAGEGATE_CHANGE\"\nservicenow:\n  instance: {}\n",
            sn.url
        ),
    );
    let deploy = |extra: &[&str]| {
        let mut c = sb.cmd();
        c.env("SERVICENOW_USER", &sn.user).env("SERVICENOW_PASSWORD", &sn.password).arg("-c").arg(&cfg);
        c.args(["deploy", "--env", "staging", "--ref", "release/v1", "--release", "26.11.21.1"]).args(extra);
        run(c)
    };
    let (code, out, err) = deploy(&[]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(format!("{out}{err}").contains("requires an approved ServiceNow change"), "{out}{err}");
    if let Some(n) = sn.number("not approved", "CHG0000001") {
        assert_eq!(deploy(&["--change", &n]).0, 3);
    }
    // Refused before anything ran: nothing is recorded in staging.
    let mut c = sb.cmd();
    c.arg("-c").arg(&cfg).args(["--output", "json", "status", "--env", "staging", "--no-health"]);
    let (code, status, err) = crate::support::run_json(c);
    assert_eq!(code, 0, "{err}");
    assert_eq!(status["environments"][0]["latest"], serde_json::Value::Null, "{status}");
    let n = sn.number("approved", "CHG0000002").expect("an approved change to test with");
    let (code, out, err) = deploy(&["--change", &n]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.lines().any(|l| l.contains("check-change") && l.contains(&format!("{n} approved"))), "{out}");
    // The deploy hook knows which change it runs under.
    assert!(out.lines().any(|l| l.contains(&format!("deploying under {n}"))), "{out}");
}
