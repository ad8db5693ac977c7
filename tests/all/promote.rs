//! `promote`, `deploy`, `rollback`, `status` on the local forge, with real
//! hooks and a real health endpoint, as a user would run them.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{SHORT_TIMEOUTS, Sandbox, run, run_json};

fn deploy_dev(sb: &Sandbox, release: &str) {
    let (code, out, err) = run(sb.sg(&["deploy", "--env", "dev", "--ref", "release/v1", "--release", release]));
    assert_eq!(code, 0, "{out}\n{err}");
}

fn status(sb: &Sandbox) -> serde_json::Value {
    let (code, json, _) = run_json(sb.sg(&["status", "--no-health"]));
    assert_eq!(code, 0);
    json
}

fn env_status<'a>(json: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    json["environments"].as_array().unwrap().iter().find(|e| e["environment"] == name).unwrap()
}

#[test]
fn a_promotion_runs_its_steps_in_order_and_is_recorded() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    deploy_dev(&sb, "1.0.0");
    let (code, json, err) = run_json(sb.sg(&["promote", "--from", "dev", "--to", "staging", "--release", "1.0.0"]));
    assert_eq!(code, 0, "{json:#}\n{err}");
    assert_eq!(json["outcome"], "succeeded");
    let steps: Vec<&str> = json["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        steps,
        ["check-path", "check-ref", "check-source", "check-target", "backup", "deploy", "health", "record"]
    );
    assert!(json["steps"].as_array().unwrap().iter().all(|s| s["seconds"].is_number()));
    assert_eq!(sb.hook_log(), ["backup dev ", "deploy dev 1.0.0", "backup staging ", "deploy staging 1.0.0"]);

    let s = status(&sb);
    let staging = env_status(&s, "staging");
    assert_eq!(staging["release"], "1.0.0");
    assert_eq!(staging["ref"], "refs/heads/release/v1");
    assert_eq!(staging["deployed_by"], "mallory");
    assert_eq!(staging["state"], "success");
    assert!(staging["deployed_at"].is_string());
    assert_eq!(env_status(&s, "prod")["release"], serde_json::Value::Null);

    let audit = std::fs::read_to_string(sb.path().join(".stagegate/audit.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!((last["command"].as_str(), last["outcome"].as_str()), (Some("promote"), Some("succeeded")));
    assert_eq!((last["actor"].as_str(), last["from"].as_str()), (Some("mallory"), Some("dev")));
}

#[test]
fn a_failing_health_check_rolls_back_and_status_shows_the_old_release() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    deploy_dev(&sb, "1.0.0");
    let (code, _, _) = run(sb.sg(&["promote", "--from", "dev", "--to", "staging", "--release", "1.0.0"]));
    assert_eq!(code, 0);
    deploy_dev(&sb, "2.0.0-bad");
    let (code, out, _) = run(sb.sg(&["promote", "--from", "dev", "--to", "staging", "--release", "2.0.0-bad"]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("health check failed"), "{out}");
    assert!(out.contains("promotion of 2.0.0-bad to staging failed"), "{out}");
    assert!(out.contains("rolled back to 1.0.0 (healthy again)"), "{out}");
    let log = sb.hook_log();
    assert_eq!(
        log[log.len() - 3..],
        ["deploy staging 2.0.0-bad", "rollback staging to 1.0.0", "deploy staging 1.0.0"],
        "{log:?}"
    );
    let s = status(&sb);
    let staging = env_status(&s, "staging");
    assert_eq!(staging["release"], "1.0.0");
    assert_eq!(staging["state"], "success");
    // …and says it is there because 2.0.0-bad was rolled back.
    assert_eq!(staging["rolled_back_from"]["release"], "2.0.0-bad", "{staging:#}");
    assert_eq!(staging["rolled_back_from"]["state"], "failure");
    assert!(staging["deployed_at"].as_str().unwrap().ends_with('Z'), "{staging:#}");
    let (_, text, _) = run(sb.sg(&["status", "--no-health"]));
    let row = text.lines().find(|l| l.starts_with("staging")).unwrap();
    assert!(row.contains("success (rolled back from 2.0.0-bad)") && row.contains("Z (just now)"), "{text}");

    // The failed deployment is recorded as failed, the replaced one inactive.
    let forge: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sb.path().join(".stagegate/forge.json")).unwrap()).unwrap();
    let states: Vec<(String, String)> = forge["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["environment"] == "staging")
        .map(|d| {
            let last = d["statuses"].as_array().unwrap().last().unwrap()["state"].as_str().unwrap().to_string();
            (d["release"].as_str().unwrap().to_string(), last)
        })
        .collect();
    let want = [("1.0.0", "inactive"), ("2.0.0-bad", "failure"), ("1.0.0", "success")];
    assert_eq!(states, want.map(|(a, b)| (a.to_string(), b.to_string())));
}

#[test]
fn an_illegal_path_is_refused_before_any_hook_runs() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    deploy_dev(&sb, "1.0.0");
    let before = sb.hook_log();
    let (code, out, _) = run(sb.sg(&["promote", "--from", "dev", "--to", "prod", "--release", "1.0.0"]));
    assert_eq!(code, 3);
    assert!(out.contains("promotion dev → prod is not an allowed path"), "{out}");
    assert_eq!(sb.hook_log(), before);
    let (code, json, _) = run_json(sb.sg(&["promote", "--from", "dev", "--to", "prod", "--release", "1.0.0"]));
    assert_eq!((code, json["outcome"].as_str()), (3, Some("refused")));
    assert_eq!(json["steps"][0]["name"], "check-path");
    assert_eq!(json["steps"][0]["status"], "refused");
    assert_eq!(json["refusal"]["code"], "stagegate::refused::path");
    let ran: Vec<&str> = json["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(!ran.iter().any(|s| ["backup", "deploy", "verify", "record"].contains(s)), "{ran:?}");
}

#[test]
fn an_unknown_release_or_one_not_live_in_the_source_is_refused() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    let (code, out, _) = run(sb.sg(&["promote", "--from", "dev", "--to", "staging", "--release", "9.9.9"]));
    assert_eq!(code, 3);
    assert!(out.contains("release 9.9.9 is unknown in dev"), "{out}");
    deploy_dev(&sb, "1.0.0");
    deploy_dev(&sb, "1.1.0");
    let (code, out, _) = run(sb.sg(&["promote", "--from", "dev", "--to", "staging", "--release", "1.0.0"]));
    assert_eq!(code, 3);
    assert!(out.contains("dev runs 1.1.0 now, not 1.0.0"), "{out}");
    assert_eq!(sb.hook_log().len(), 4, "only the two dev deploys ran hooks");
}

#[test]
fn hooks_get_the_context_as_environment_variables_only() {
    let sb = Sandbox::for_runs(&format!("  verify: env | grep '^STAGEGATE_' | sort > verify.env\n{SHORT_TIMEOUTS}"));
    let mut cmd = sb.sg(&["deploy", "--env", "dev", "--ref", "release/v1+x", "--release", "1.0.0+build.7"]);
    cmd.args(["--sha", "3f2c1a9b"]);
    assert_eq!(run(cmd).0, 0);
    let (code, _, _) = run(sb.sg(&["promote", "--from", "dev", "--to", "staging", "--release", "1.0.0+build.7"]));
    assert_eq!(code, 0);
    let env = std::fs::read_to_string(sb.path().join("verify.env")).unwrap();
    for want in [
        "STAGEGATE_ENV=staging",
        "STAGEGATE_FROM=dev",
        "STAGEGATE_RELEASE=1.0.0+build.7",
        "STAGEGATE_SHA=3f2c1a9b",
        "STAGEGATE_REF=refs/heads/release/v1+x",
        "STAGEGATE_ACTOR=mallory",
    ] {
        assert!(env.lines().any(|l| l == want), "missing {want} in\n{env}");
    }
}

#[test]
fn hostile_values_are_refused_before_anything_runs() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    for args in [
        &["deploy", "--env", "dev", "--ref", "release/$(touch pwned)", "--release", "1"][..],
        &["deploy", "--env", "dev", "--ref", "release/a;touch pwned", "--release", "1"],
        &["deploy", "--env", "dev", "--ref", "release/`id`", "--release", "1"],
        &["deploy", "--env", "dev", "--ref", "release/v1", "--release", "1;touch pwned"],
        &["deploy", "--env", "dev", "--ref", "release/v1", "--release", "1", "--sha", "abc$(id)"],
        &["deploy", "--env", "dev", "--ref", "release/v1", "--release", "1", "--actor", "eve;rm"],
        &["promote", "--from", "dev", "--to", "staging", "--release", "$(touch pwned)"],
        &["rollback", "--env", "staging", "--to", "1|touch pwned"],
    ] {
        let (code, _, err) = run(sb.sg(args));
        assert_eq!(code, 2, "{args:?}: {err}");
    }
    assert!(sb.hook_log().is_empty());
    assert!(!sb.path().join("pwned").exists());
    assert!(!sb.path().join(".stagegate").exists(), "nothing recorded");
}

/// Whether a process is gone (or a zombie nobody has reaped yet).
fn gone(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn a_hook_that_hangs_is_killed_at_its_timeout_with_its_children() {
    let sb = Sandbox::for_runs(
        "  verify: sleep 300 & echo $! > child.pid; sleep 300\n  timeouts: { startup: 2s, health_check: 1s, hook: 1s }\n",
    );
    let (code, out, _) = run(sb.sg(&["deploy", "--env", "dev", "--ref", "main", "--release", "1.0.0"]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("verify hook `sleep 300 & echo $! > child.pid; sleep 300` was killed after its 1s timeout"),
        "{out}"
    );
    let pid = std::fs::read_to_string(sb.path().join("child.pid")).unwrap();
    let pid = pid.trim();
    // The kill is done when stagegate exits; allow the kernel a moment to reap.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !gone(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(gone(pid), "the hook's child {pid} survived");
    let s = status(&sb);
    assert_eq!(env_status(&s, "dev")["state"], "failure");
}

/// A sandbox whose staging verify hook says it started (file `started`), then
/// waits for the file `go`; and a promotion to staging spawned until it is
/// inside that hook.
fn promotion_held_in_verify() -> (Sandbox, std::process::Child) {
    let wait = "[ $STAGEGATE_ENV = dev ] || { touch started; while [ ! -f go ]; do sleep 0.1; done; }";
    // A long hook timeout: the hook waits for the test, however loaded the machine.
    let timeouts = "  timeouts: { startup: 2s, health_check: 1s, hook: 2m }\n";
    let sb = Sandbox::for_runs(&format!("  verify: '{wait}'\n{timeouts}"));
    deploy_dev(&sb, "1.0.0");
    let child = sb
        .sg_spawnable(&["promote", "--from", "dev", "--to", "staging", "--release", "1.0.0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !sb.path().join("started").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(sb.path().join("started").exists(), "the promotion reached its verify hook");
    (sb, child)
}

#[test]
fn two_concurrent_promotions_to_one_environment_one_is_refused() {
    let (sb, first) = promotion_held_in_verify();
    let (code, out, _) = run(sb.sg(&["promote", "--from", "dev", "--to", "staging", "--release", "1.0.0"]));
    std::fs::write(sb.path().join("go"), "").unwrap();
    let first = first.wait_with_output().unwrap();
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("another run is deploying to staging: promote dev → staging of 1.0.0 by mallory"), "{out}");
    assert_eq!(first.status.code(), Some(0), "{}", String::from_utf8_lossy(&first.stdout));
}

#[test]
fn dry_run_prints_the_plan_and_touches_nothing() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    deploy_dev(&sb, "1.0.0");
    let before = std::fs::read(sb.path().join(".stagegate/forge.json")).unwrap();
    let audit = std::fs::read(sb.path().join(".stagegate/audit.jsonl")).unwrap();
    let (code, out, _) =
        run(sb.sg(&["--dry-run", "promote", "--from", "dev", "--to", "staging", "--release", "1.0.0"]));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("would run `sh deploy.sh`"), "{out}");
    assert!(out.contains("✓ dry run: the checks pass; nothing was changed"), "{out}");
    assert!(out.contains("would create a deployment of 1.0.0 to staging"), "{out}");
    assert_eq!(sb.hook_log().len(), 2, "no hook ran");
    assert_eq!(std::fs::read(sb.path().join(".stagegate/forge.json")).unwrap(), before);
    assert_eq!(std::fs::read(sb.path().join(".stagegate/audit.jsonl")).unwrap(), audit);
    assert!(!sb.path().join(".stagegate/locks/staging.lock").exists());
    let (code, _, _) = run(sb.sg(&["--dry-run", "deploy", "--env", "dev", "--ref", "main", "--release", "2"]));
    assert_eq!(code, 0);
    assert_eq!(sb.hook_log().len(), 2);
}

#[test]
fn a_dry_run_plans_its_deployment_without_a_made_up_id() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    deploy_dev(&sb, "1.0.0");
    let deploy = ["--dry-run", "deploy", "--env", "dev", "--ref", "release/v1", "--release", "2"];
    let (code, json, _) = run_json(sb.sg(&deploy));
    assert_eq!(code, 0, "{json}");
    assert!(json["deployment_id"].is_null(), "{json}");
    let effects = json["effects"].to_string();
    assert!(effects.contains("set the planned deployment to success"), "{effects}");
    assert!(effects.contains("set deployment 1 to inactive: replaced by 2"), "{effects}");
    assert!(!effects.contains("deployment 0"), "{effects}");
}

#[test]
fn deploy_follows_branch_rules_and_leaves_approval_environments_to_promote() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    let (code, out, _) = run(sb.sg(&["deploy", "--env", "staging", "--ref", "feature/x", "--release", "1"]));
    assert_eq!(code, 3);
    assert!(out.contains("branch feature/x is not allowed to deploy to staging"), "{out}");
    let (code, out, _) = run(sb.sg(&["deploy", "--env", "prod", "--ref", "release/v1", "--release", "1"]));
    assert_eq!(code, 3);
    assert!(out.contains("prod needs 2 approval(s): it is reached by promotion (from staging)"), "{out}");
    assert!(sb.hook_log().is_empty());
}

#[test]
fn rollback_redeploys_the_previous_good_release_or_the_one_given() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    for r in ["1.0.0", "1.1.0", "1.2.0"] {
        deploy_dev(&sb, r);
    }
    let (code, out, _) = run(sb.sg(&["rollback", "--env", "dev"]));
    assert_eq!(code, 0, "{out}");
    assert_eq!(env_status(&status(&sb), "dev")["release"], "1.1.0");
    assert!(sb.hook_log().ends_with(&["rollback dev to 1.1.0".to_string(), "deploy dev 1.1.0".to_string()]));
    let (code, _, _) = run(sb.sg(&["rollback", "--env", "dev", "--to", "1.0.0"]));
    assert_eq!(code, 0);
    assert_eq!(env_status(&status(&sb), "dev")["release"], "1.0.0");
    let (code, out, _) = run(sb.sg(&["rollback", "--env", "dev", "--to", "7.7.7"]));
    assert_eq!(code, 3);
    assert!(out.contains("7.7.7 never ran successfully in dev"), "{out}");
    let (code, out, _) = run(sb.sg(&["rollback", "--env", "staging"]));
    assert_eq!(code, 3);
    assert!(out.contains("staging has no earlier successful release"), "{out}");
}

#[test]
fn status_text_is_a_table_with_health() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    deploy_dev(&sb, "1.0.0");
    let (code, _, _) = run(sb.sg(&["promote", "--from", "dev", "--to", "staging", "--release", "1.0.0"]));
    assert_eq!(code, 0);
    let (code, out, _) = run(sb.sg(&["status"]));
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("ENVIRONMENT  RELEASE  SHA  DEPLOYED"), "{out}");
    let staging = lines.iter().find(|l| l.starts_with("staging")).unwrap();
    assert!(staging.contains("1.0.0") && staging.contains("mallory") && staging.ends_with("healthy"), "{out}");
    std::fs::remove_file(sb.path().join("healthy")).unwrap();
    let (_, out, _) = run(sb.sg(&["status"]));
    assert!(out.contains("down: GET http://127.0.0.1:"), "{out}");
}

#[test]
fn a_run_that_died_mid_deploy_does_not_block_the_next_one() {
    let (sb, mut first) = promotion_held_in_verify();
    first.kill().unwrap(); // SIGKILL: no chance to record anything
    first.wait().unwrap();
    std::fs::write(sb.path().join("go"), "").unwrap();
    // Its hook ends on `go`; from then on nothing of that run is left.
    let deadline = Instant::now() + Duration::from_secs(60);
    while env_status(&status(&sb), "staging")["state"] != "abandoned" {
        assert!(Instant::now() < deadline, "{}", status(&sb));
        std::thread::sleep(Duration::from_millis(50));
    }

    let (code, out, _) = run(sb.sg(&["promote", "--from", "dev", "--to", "staging", "--release", "1.0.0"]));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("was abandoned by a run that died; marked error"), "{out}");
    let s = status(&sb);
    assert_eq!(
        (env_status(&s, "staging")["release"].as_str(), env_status(&s, "staging")["state"].as_str()),
        (Some("1.0.0"), Some("success"))
    );
}

#[test]
fn soak_time_in_the_source_is_enforced() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    let cfg = std::fs::read_to_string(sb.path().join("stagegate.yml")).unwrap();
    sb.write("stagegate.yml", cfg.replace("  staging:\n", "  staging:\n    soak: 2h\n"));
    let mut cmd = sb.sg(&["deploy", "--env", "dev", "--ref", "release/v1", "--release", "1.0.0"]);
    cmd.env("STAGEGATE_NOW", "2026-11-16T09:00:00Z");
    assert_eq!(run(cmd).0, 0);
    let promote = |now: &str| {
        let mut cmd = sb.sg(&["promote", "--from", "dev", "--to", "staging", "--release", "1.0.0"]);
        cmd.env("STAGEGATE_NOW", now);
        run(cmd)
    };
    let (code, out, _) = promote("2026-11-16T10:00:00Z");
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains(
            "1.0.0 has been healthy in dev for 1h; the soak time is 2h, so it may move on at 2026-11-16 11:00:00 UTC"
        ),
        "{out}"
    );
    let (code, out, _) = promote("2026-11-16T11:00:00Z");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1.0.0 has been healthy in dev for 2h (soak 2h)"), "{out}");
}

#[test]
fn under_actions_hook_output_is_grouped_and_the_run_is_summarised() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    let summary = sb.write("summary.md", "");
    let output = sb.write("output.txt", "");
    let mut cmd = sb.sg(&["deploy", "--env", "dev", "--ref", "main", "--release", "1.0.0"]);
    cmd.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &output)
        .args(["--forge", "local"]);
    let (code, out, _) = run(cmd);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("::group::deploy hook: sh deploy.sh\n") && out.contains("::endgroup::"), "{out}");
    let md = std::fs::read_to_string(summary).unwrap();
    assert!(md.contains("### ✅ 1.0.0 is live in dev") && md.contains("| deploy | ✓ passed |"), "{md}");
    assert_eq!(crate::support::outputs(&output), crate::support::pairs(&[("outcome", "succeeded")]));
}

#[test]
fn ctrl_c_during_a_hook_kills_the_hook_and_rolls_back() {
    let (sb, first) = promotion_held_in_verify();
    let kill = std::process::Command::new("kill").args(["-INT", &first.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let out = first.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("verify hook") && text.contains("was stopped by SIGINT (Ctrl-C)"), "{text}");
    assert!(sb.hook_log().last().unwrap().starts_with("rollback staging"), "{:?}", sb.hook_log());
    assert_eq!(env_status(&status(&sb), "staging")["state"], "failure");
}
