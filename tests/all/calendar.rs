//! Calendars through the CLI: windows of every kind merge into one closed
//! period whose end is the next open moment (`plan`, `compare`, `calendar`),
//! yearly windows wrap the year end, deploy windows close an environment
//! outside them across DST changes, `override: never` refuses
//! `--override-freeze`, and `check` points at every bad entry.

use crate::support::{Sandbox, check_diagnostics, run, run_json};

fn sandbox(prod: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.write(
        "stagegate.yml",
        format!(
            "version: 1\nenvironments:\n  dev:\n    auto_deploy: true\n  prod:\n{prod}promotions:\n  - {{ from: dev, to: prod }}\nsteps:\n  deploy: echo \"deploy $STAGEGATE_ENV\" >> hooks.log\n"
        ),
    );
    sb
}

fn at(sb: &Sandbox, now: &str, args: &[&str]) -> (i32, String) {
    let mut cmd = sb.sg(args);
    cmd.env("STAGEGATE_NOW", now);
    let (code, out, err) = run(cmd);
    (code, out + &err)
}

fn json_at(sb: &Sandbox, now: &str, args: &[&str]) -> (i32, serde_json::Value) {
    let mut cmd = sb.sg(args);
    cmd.env("STAGEGATE_NOW", now);
    let (code, json, _) = run_json(cmd);
    (code, json)
}

const PLAN: &[&str] = &["plan", "--from", "dev", "--to", "prod"];

#[test]
fn overlapping_windows_refuse_until_the_whole_period_ends() {
    let sb = sandbox("    freeze: [\"FRI 16:00 - SAT 08:00 UTC\", \"FRI 18:00 - MON 08:00 UTC\"]\n");
    // Friday 17:00: only the first window has begun, but the second begins
    // before it ends: nothing opens until Monday.
    let (code, out) = at(&sb, "2026-11-20T17:00:00Z", PLAN);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("until Mon 2026-11-23 08:00 UTC (2026-11-23 08:00 UTC)"), "{out}");
    assert!(out.contains("next open: Mon 2026-11-23 08:00 UTC"), "{out}");
    let (_, json) = json_at(&sb, "2026-11-20T17:00:00Z", PLAN);
    assert_eq!(json["next_open"], "2026-11-23T08:00:00Z");
    assert_eq!(json["codes"][0], "stagegate::refused::frozen");
}

#[test]
fn a_weekly_window_and_a_yearly_close_merge_across_the_year_end() {
    let sb = sandbox(
        "    freeze:\n      - \"FRI 16:00 - MON 08:00 Europe/London\"\n      - { window: \"12-21 08:00 - 01-04 08:00 Europe/London\", reason: year-end close }\n",
    );
    let cal = ["calendar", "--env", "prod", "--days", "30"];
    let (code, json) = json_at(&sb, "2026-12-17T12:00:00Z", &cal);
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["environment"], "prod");
    assert_eq!(json["next_open"], "2026-12-17T12:00:00Z");
    let closed = json["closed"].as_array().unwrap();
    let spans: Vec<(&str, &str)> =
        closed.iter().map(|c| (c["from"].as_str().unwrap(), c["until"].as_str().unwrap())).collect();
    // The weekend before the holiday touches it, and the holiday touches the
    // weekend after: one period from Friday 18 Dec to Monday 4 Jan.
    assert_eq!(
        spans,
        [
            ("2026-12-18T16:00:00Z", "2027-01-04T08:00:00Z"),
            ("2027-01-08T16:00:00Z", "2027-01-11T08:00:00Z"),
            ("2027-01-15T16:00:00Z", "2027-01-18T08:00:00Z"),
        ]
    );
    assert_eq!(
        closed[0]["reasons"],
        serde_json::json!([
            "FRI 16:00 - MON 08:00 Europe/London",
            "year-end close (12-21 08:00 - 01-04 08:00 Europe/London)"
        ])
    );
    // Inside it, the next open moment is its end, a year later too.
    let (_, json) = json_at(&sb, "2027-12-24T12:00:00Z", &cal);
    assert_eq!(json["next_open"], "2028-01-04T08:00:00Z");
    let (code, out) = at(&sb, "2026-12-19T12:00:00Z", &["calendar", "--env", "prod", "--days", "7"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Fri 2026-12-18 16:00 GMT → Mon 2027-01-04 08:00 GMT (2027-01-04 08:00 UTC)"), "{out}");
    assert!(out.contains("year-end close (12-21 08:00 - 01-04 08:00 Europe/London)"), "{out}");
    assert!(out.contains("next open: Mon 2027-01-04 08:00 GMT (2027-01-04 08:00 UTC)"), "{out}");
    let (code, out) = at(&sb, "2026-12-19T12:00:00Z", PLAN);
    assert_eq!(code, 3);
    assert!(out.contains("until Mon 2027-01-04 08:00 GMT"), "{out}");
}

#[test]
fn deploy_windows_close_prod_outside_them_across_both_london_clock_changes() {
    let sb = sandbox("    deploy_windows: [\"MON-THU 09:00 - 16:00 Europe/London\"]\n");
    let code = |now: &str| at(&sb, now, PLAN).0;
    // Thursday 26 Mar 2026 is GMT: 09:00 London is 09:00 UTC.
    assert_eq!(code("2026-03-26T08:59:59Z"), 3);
    assert_eq!(code("2026-03-26T09:00:00Z"), 0);
    assert_eq!(code("2026-03-26T15:59:59Z"), 0);
    // Friday: closed until Monday, which is BST after the last Sunday of March.
    let (c, out) = at(&sb, "2026-03-27T12:00:00Z", PLAN);
    assert_eq!(c, 3);
    assert!(out.contains("prod is outside its deploy windows (`MON-THU 09:00 - 16:00 Europe/London`)"), "{out}");
    assert!(out.contains("until Mon 2026-03-30 09:00 BST (2026-03-30 08:00 UTC)"), "{out}");
    assert_eq!(code("2026-03-30T07:59:59Z"), 3);
    assert_eq!(code("2026-03-30T08:00:00Z"), 0);
    assert_eq!(code("2026-03-30T14:59:59Z"), 0);
    assert_eq!(code("2026-03-30T15:00:00Z"), 3);
    // And back: Thursday 22 Oct is BST, Monday 26 Oct GMT (last Sunday of October).
    assert_eq!(code("2026-10-22T08:00:00Z"), 0);
    assert_eq!(code("2026-10-26T08:59:59Z"), 3);
    assert_eq!(code("2026-10-26T09:00:00Z"), 0);
    let (_, json) = json_at(&sb, "2026-10-23T12:00:00Z", PLAN);
    assert_eq!(json["codes"][0], "stagegate::refused::frozen");
    assert_eq!(json["next_open"], "2026-10-26T09:00:00Z");
    // `deploy` is held to the same windows.
    let (c, out) = at(&sb, "2026-10-24T12:00:00Z", &["deploy", "--env", "prod", "--ref", "main", "--release", "1"]);
    assert_eq!(c, 3, "{out}");
    assert!(out.contains("outside its deploy windows"), "{out}");
    assert!(!sb.path().join("hooks.log").exists());
}

#[test]
fn override_never_refuses_an_override_where_the_environment_allows_them() {
    let sb = sandbox(
        "    freeze:\n      - FRI 16:00 - MON 08:00 UTC\n      - { window: \"2026-12-21 00:00 - 2026-12-23 00:00 UTC\", reason: \"year-end close\", override: never }\n    freeze_override: allowed\n",
    );
    assert_eq!(at(&sb, "2026-12-17T12:00:00Z", &["deploy", "--env", "dev", "--ref", "main", "--release", "1"]).0, 0);
    let promote =
        ["promote", "--from", "dev", "--to", "prod", "--release", "1", "--override-freeze", "--reason", "INC-7"];
    // Tuesday 22 Dec: inside the never-overridden window.
    let (code, out) = at(&sb, "2026-12-22T12:00:00Z", &promote);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains(
            "year-end close (2026-12-21 00:00 - 2026-12-23 00:00 UTC) may not be overridden (override: never)"
        ),
        "{out}"
    );
    // Without the override the refusal does not suggest one.
    let (code, out) = at(&sb, "2026-12-22T12:00:00Z", &promote[..7]);
    assert_eq!(code, 3, "{out}");
    assert!(!out.contains("override with --override-freeze"), "{out}");
    assert_eq!(sb.hook_log(), ["deploy dev"]);
    // Saturday 19 Dec: the weekly window touches the never window, but only
    // the weekly one holds now, and it may be overridden.
    let (code, out) = at(&sb, "2026-12-19T12:00:00Z", &promote);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("freeze `FRI 16:00 - MON 08:00 UTC` overridden: INC-7"), "{out}");
}

#[test]
fn compare_names_the_next_open_moment_of_a_closed_target() {
    let sb = sandbox("    deploy_windows: [\"MON-THU 09:00 - 16:00 UTC\"]\n");
    let (_, out) = at(&sb, "2026-12-12T12:00:00Z", &["compare", "dev", "prod"]);
    assert!(out.contains("prod is closed; next open: Mon 2026-12-14 09:00 UTC"), "{out}");
    let (_, json) = json_at(&sb, "2026-12-12T12:00:00Z", &["compare", "dev", "prod"]);
    assert_eq!(json["next_open"], "2026-12-14T09:00:00Z");
    let (_, out) = at(&sb, "2026-12-14T12:00:00Z", &["compare", "dev", "prod"]);
    assert!(!out.contains("next open"), "{out}");
}

#[test]
fn calendar_days_are_bounded_and_an_open_environment_says_so() {
    let sb = sandbox("    approvals: { required: 0 }\n");
    let (code, out) = at(&sb, "2026-12-12T12:00:00Z", &["calendar", "--env", "prod"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("prod is open all the time from 2026-12-12 12:00 UTC to 2027-01-11 12:00 UTC"), "{out}");
    assert!(out.contains("next open: now"), "{out}");
    for bad in ["0", "367", "-1", "many"] {
        let (code, out) = at(&sb, "2026-12-12T12:00:00Z", &["calendar", "--env", "prod", "--days", bad]);
        assert_eq!(code, 2, "--days {bad}: {out}");
    }
    assert_eq!(at(&sb, "2026-12-12T12:00:00Z", &["calendar", "--env", "prod", "--days", "366"]).0, 0);
    assert_eq!(at(&sb, "2026-12-12T12:00:00Z", &["calendar", "--env", "nope"]).0, 2);
}

#[test]
fn check_points_at_every_bad_calendar_entry_and_shows_good_ones() {
    let sb = Sandbox::new();
    let cfg = sb.write(
        "bad.yml",
        concat!(
            "version: 1\nenvironments:\n  prod:\n    auto_deploy: true\n    freeze:\n",
            "      - { window: \"12-24 00:00 - 12-32 00:00 Europe/London\" }\n",
            "      - { window: \"02-29 00:00 - 03-01 00:00 UTC\", override: sometimes }\n",
            "      - { reason: no window }\n",
            "    deploy_windows: [\"MON-THX 09:00 - 16:00 UTC\", \"MON-THU 09:00 - 16:00 Mars/Olympus\"]\n",
            "  dev:\n    deploy_windows: []\n",
        ),
    );
    let (code, diags) = check_diagnostics(&sb, &cfg);
    assert_eq!(code, 2);
    let has =
        |line: u64, col: u64, text: &str| diags.iter().any(|(l, c, m)| *l == line && *c == col && m.contains(text));
    assert!(has(6, 34, "`12-32` is not a month and day"), "{diags:?}");
    assert!(has(7, 20, "cannot start or end on 02-29"), "{diags:?}");
    assert!(diags.iter().any(|(l, _, m)| *l == 7 && m.contains("unknown `override` value `sometimes`")), "{diags:?}");
    assert!(diags.iter().any(|(l, _, m)| *l == 8 && m.contains("needs `window`")), "{diags:?}");
    assert!(has(9, 27, "`THX` is not a day"), "{diags:?}");
    assert!(has(9, 74, "unknown time zone `Mars/Olympus`"), "{diags:?}");
    assert!(diags.iter().any(|(l, _, m)| *l == 11 && m.contains("`deploy_windows` is empty")), "{diags:?}");

    let good = sandbox(
        "    freeze:\n      - { window: \"12-20 00:00 - 01-04 08:00 UTC\", reason: year-end close, override: never }\n    deploy_windows: [\"MON-THU 09:00 - 16:00 Europe/London\"]\n    freeze_override: allowed\n",
    );
    let (code, out) = at(&good, "2026-12-12T12:00:00Z", &["check"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("prod: freeze 12-20 00:00 - 01-04 08:00 UTC (year-end close; override: never); deploy windows MON-THU 09:00 - 16:00 Europe/London; --override-freeze allowed"),
        "{out}"
    );
}
