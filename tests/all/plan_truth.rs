//! `plan` runs before anyone approves, so it tells everything that can be
//! known then, from the forge: the release and what the source runs, its ref,
//! freezes, soak, a run in progress; "allowed, pending N approvals". And
//! pre-flight (plan and promote) reports every blocker, each with its code.

use crate::support::{Sandbox, run, run_json};

const CONFIG: &str = r#"version: 1
environments:
  dev: { branches: [main, "release/*"] }
  staging:
    branches: ["release/*"]
    url: https://staging.example.com
  prod:
    branches: ["release/*"]
    soak: 1h
    freeze: ["SAT 00:00 - MON 00:00 UTC"]
    approvals: { required: 2, reviewers: ["@alice", "@bob"], prevent_self_review: true }
promotions:
  - { from: dev, to: staging }
  - { from: staging, to: prod }
steps:
  deploy: echo "deploy $STAGEGATE_ENV $STAGEGATE_RELEASE" >> hooks.log
"#;

/// Wednesday 2 December 2026, 10:00 UTC: no freeze.
const WEDNESDAY: &str = "2026-12-02T10:00:00Z";
/// Saturday 5 December 2026: prod is frozen.
const SATURDAY: &str = "2026-12-05T10:00:00Z";

fn sandbox() -> Sandbox {
    let sb = Sandbox::new();
    sb.write("stagegate.yml", CONFIG);
    sb
}

fn at(sb: &Sandbox, now: &str, args: &[&str]) -> assert_cmd::Command {
    let mut c = sb.sg(args);
    c.env("STAGEGATE_NOW", now);
    c
}

/// Release `id` deployed to dev and promoted to staging at `now`.
fn in_staging(sb: &Sandbox, id: &str, now: &str) {
    let deploy = ["deploy", "--env", "dev", "--ref", "release/v1", "--release", id];
    let promote = ["promote", "--from", "dev", "--to", "staging", "--release", id];
    for args in [&deploy[..], &promote[..]] {
        let (code, out, err) = run(at(sb, now, args));
        assert_eq!(code, 0, "{args:?}: {out}{err}");
    }
}

fn codes(json: &serde_json::Value) -> Vec<String> {
    json["blockers"].as_array().unwrap().iter().map(|b| b["code"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn a_plan_before_approval_says_how_many_approvals_are_pending_and_how_to_give_them() {
    let sb = sandbox();
    in_staging(&sb, "26.12.01.1", "2026-12-01T10:00:00Z");
    let plan = ["plan", "--from", "staging", "--to", "prod", "--release", "26.12.01.1"];
    let (code, out, _) = run(at(&sb, WEDNESDAY, &plan));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with(
            "✓ staging → prod is allowed, pending 2 approvals  (release 26.12.01.1, refs/heads/release/v1)"
        ),
        "{out}"
    );
    assert!(
        out.contains("`stagegate approve --env prod --as alice --run-id local` (reviewers: @alice, @bob)"),
        "{out}"
    );
    // What the forge says, in the steps: the release runs in staging, its
    // recorded ref may deploy to prod, it has soaked.
    assert!(out.contains("26.12.01.1 is live in staging"), "{out}");
    assert!(out.contains("branch release/v1 may deploy to prod"), "{out}");
    assert!(out.contains("26.12.01.1 has been healthy in staging for 1d"), "{out}");

    // The local forge keeps the environment's URL with the deployment, as GitHub does.
    let records: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sb.path().join(".stagegate/forge.json")).unwrap()).unwrap();
    let urls: Vec<&serde_json::Value> =
        records["deployments"].as_array().unwrap().iter().map(|d| &d["environment_url"]).collect();
    assert_eq!(urls, [&serde_json::Value::Null, &serde_json::json!("https://staging.example.com")], "{records:#}");

    let (code, out, err) = run(sb.sg(&["approve", "--env", "prod", "--as", "alice"]));
    assert_eq!(code, 0, "{out}{err}");
    let (code, json, _) = run_json(at(&sb, WEDNESDAY, &plan));
    assert_eq!((code, json["approvals_pending"].as_u64()), (0, Some(1)), "{json:#}");
}

#[test]
fn a_plan_checks_the_release_against_what_the_source_runs() {
    let sb = sandbox();
    in_staging(&sb, "26.12.01.1", "2026-12-01T10:00:00Z");
    in_staging(&sb, "26.12.01.2", "2026-12-02T09:30:00Z");
    let plan = |release: &str| {
        let (code, json, _) =
            run_json(at(&sb, WEDNESDAY, &["plan", "--from", "staging", "--to", "prod", "--release", release]));
        assert_eq!(code, 3, "{json:#}");
        json
    };
    let json = plan("26.12.09.9");
    // One rule, one outcome: a release never deployed to staging is unknown there.
    assert_eq!(codes(&json), ["stagegate::refused::unknown_release"]);
    assert!(json["reasons"][0].as_str().unwrap().contains("release 26.12.09.9 is unknown in staging"), "{json:#}");

    let json = plan("26.12.01.1");
    assert_eq!(codes(&json), ["stagegate::refused::not_current"], "{json:#}");
    assert!(json["reasons"][0].as_str().unwrap().contains("staging runs 26.12.01.2 now, not 26.12.01.1"));

    // Half an hour in staging, the soak time is an hour.
    let json = plan("26.12.01.2");
    assert_eq!(codes(&json), ["stagegate::refused::soak"], "{json:#}");
}

#[test]
fn a_freeze_does_not_hide_missing_approvals_or_anything_else() {
    let sb = sandbox();
    in_staging(&sb, "26.12.01.1", "2026-12-04T23:50:00Z");
    // Saturday, ten minutes into staging's soak, nobody approved.
    let promote = ["promote", "--from", "staging", "--to", "prod", "--release", "26.12.01.1"];
    let (code, json, _) = run_json(at(&sb, "2026-12-05T00:00:00Z", &promote));
    assert_eq!(code, 3, "{json:#}");
    assert_eq!(
        codes(&json),
        ["stagegate::refused::frozen", "stagegate::refused::soak", "stagegate::refused::approvals"],
        "{json:#}"
    );
    assert_eq!(json["refusal"]["code"], "stagegate::refused::frozen");
    let approvals = json["blockers"][2]["message"].as_str().unwrap();
    assert!(approvals.contains("`stagegate approve --env prod --as alice --run-id local`"), "{approvals}");
    assert!(sb.hook_log().iter().all(|l| !l.contains("prod")), "nothing ran");

    let (code, out, _) = run(at(&sb, "2026-12-05T00:00:00Z", &promote));
    assert_eq!(code, 3);
    assert!(out.contains("promotion refused (3 blockers):\n  - prod is frozen"), "{out}");

    // The plan says the same before approval, but pending approvals are not a blocker yet.
    let (code, json, _) =
        run_json(at(&sb, SATURDAY, &["plan", "--from", "staging", "--to", "prod", "--release", "26.12.01.1"]));
    assert_eq!(code, 3);
    assert_eq!(codes(&json), ["stagegate::refused::frozen"], "{json:#}");
    assert_eq!(json["approvals_pending"], 2);
}

#[test]
fn a_plan_sees_another_run_in_progress() {
    let sb = sandbox();
    sb.write("stagegate.yml", CONFIG.replace("hooks.log\n", "hooks.log; if [ -e slow ]; then sleep 8; fi\n"));
    let deploy = ["deploy", "--env", "dev", "--ref", "release/v1", "--release", "26.12.01.1"];
    assert_eq!(run(sb.sg(&deploy)).0, 0);
    sb.write("slow", "");
    let mut other = sb.sg_spawnable(&["promote", "--from", "dev", "--to", "staging", "--release", "26.12.01.1"]);
    let mut other = other.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    let started = std::time::Instant::now();
    while !sb.hook_log().iter().any(|l| l == "deploy staging 26.12.01.1") {
        assert!(started.elapsed().as_secs() < 30, "the other run's deploy hook never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (code, json, _) = run_json(sb.sg(&["plan", "--from", "dev", "--to", "staging", "--release", "26.12.01.1"]));
    other.wait().unwrap();
    assert_eq!(code, 3, "{json:#}");
    assert_eq!(codes(&json), ["stagegate::refused::busy"], "{json:#}");
    assert!(json["reasons"][0].as_str().unwrap().contains("another run is deploying to staging"), "{json:#}");
}
