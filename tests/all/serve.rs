//! `stagegate serve` as GitHub would use it: signed webhook deliveries in, the
//! App's answers on the run's protection rule out, against the GitHub test
//! server behind Prism (installation tokens for a JWT it verifies).

use std::time::Duration;

use serde_json::Value;

use crate::support::Sandbox;
use crate::support::github::github;
use crate::support::serve::{APP_ID, SECRET, SHA, Service, answers, logged};

/// Production config: `staging → prod`, prod from `main` only, two distinct approvals.
pub(crate) fn config(prod_extra: &str) -> String {
    format!(
        "version: 1\nenvironments:\n  staging: {{ branches: [main] }}\n  prod:\n    branches: [main]\n    protection_rule: app\n    approvals: {{ required: 2, reviewers: [\"@alice\", \"@bob\", \"@carol\", \"@mallory\"] }}\n{prod_extra}promotions:\n  - {{ from: staging, to: prod }}\n"
    )
}

/// A repository with `config` on main and staging running SHA since an hour.
pub(crate) fn setup(name: &str, config: &str) -> String {
    let h = github();
    let r = h.repo(name);
    h.put_file(&r, "main", ".github/stagegate.yml", config);
    h.seed_success(&r, "staging", SHA, "26.11.21.1", 3600);
    h.put_run(&r, 900, "Deploy main to prod", "mallory", "mallory");
    r
}

pub(crate) fn no_violations(repo: &str) {
    let v = github().schema_violations(repo);
    assert!(v.is_empty(), "Prism: {v:#?}");
}

#[test]
fn two_distinct_approvers_approve_and_the_comment_reads_like_the_gate() {
    let h = github();
    let r = setup("serve-ok", &config(""));
    h.review(&r, "900", &["prod-approval-1"], "alice", false, true);
    h.review(&r, "900", &["prod"], "bob", false, true);
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &[], &[]);
    assert_eq!(
        svc.deliver("deployment_protection_rule", "d-1", &h.rule_requested(&r, 900, "prod", "refs/heads/main", SHA)),
        202
    );
    let a = answers(&r, 1, &svc);
    assert_eq!((a[0].0, a[0].1.as_str(), a[0].2.as_str()), (900, "prod", "approved"), "{a:#?}");
    let comment = &a[0].3;
    assert!(comment.contains("| ✅ | path |") && comment.contains("staging"), "{comment}");
    assert!(comment.contains("| ✅ | alice |") && comment.contains("| ✅ | bob |"), "{comment}");
    // One installation token served both the reads and the answer.
    assert!(h.minted().contains(&77), "no installation token was minted for installation 77");
    no_violations(&r);
    let logs = svc.logs();
    assert!(!logs.contains(SECRET) && !logs.contains("ghs_"), "a secret reached the log: {logs}");
    svc.stop();
}

#[test]
fn own_and_bot_approvals_keep_it_pending_until_the_run_is_rejected() {
    let h = github();
    let r = setup("serve-self", &config(""));
    h.review(&r, "900", &["prod-approval-1"], "mallory", false, true);
    h.review(&r, "900", &["prod"], "deploy[bot]", true, true);
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &[], &[]);
    assert_eq!(
        svc.deliver("deployment_protection_rule", "d-1", &h.rule_requested(&r, 900, "prod", "refs/heads/main", SHA)),
        202
    );
    logged(&svc, "pending", 1);
    assert!(h.answers(&r).is_empty(), "answered while approvals are missing");
    h.review(&r, "900", &["prod"], "carol", false, false);
    assert_eq!(svc.deliver("deployment_review", "d-2", &h.review_event(&r, 900, "prod", "carol", false)), 202);
    let a = answers(&r, 1, &svc);
    assert_eq!(a[0].2, "rejected");
    assert!(a[0].3.contains("started this run: self-review is not allowed"), "{}", a[0].3);
    assert!(a[0].3.contains("a bot: bots never count"), "{}", a[0].3);
    assert!(a[0].3.contains("carol rejected prod"), "{}", a[0].3);
    no_violations(&r);
}

#[test]
fn pending_until_a_review_event_then_approved() {
    let h = github();
    let r = setup("serve-review", &config(""));
    h.review(&r, "900", &["prod-approval-1"], "alice", false, true);
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &[], &[]);
    svc.deliver("deployment_protection_rule", "d-1", &h.rule_requested(&r, 900, "prod", "refs/heads/main", SHA));
    logged(&svc, "pending", 1);
    h.review(&r, "900", &["prod"], "carol", false, true);
    svc.deliver("deployment_review", "d-2", &h.review_event(&r, 900, "prod", "carol", true));
    let a = answers(&r, 1, &svc);
    assert_eq!(a[0].2, "approved", "{a:#?}");
    no_violations(&r);
}

#[test]
fn a_wrong_branch_or_an_illegal_path_is_rejected_at_once() {
    let h = github();
    let r = setup("serve-illegal", &config(""));
    h.review(&r, "900", &["prod-approval-1"], "alice", false, true);
    h.review(&r, "900", &["prod"], "bob", false, true);
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &[], &[]);
    svc.deliver("deployment_protection_rule", "d-1", &h.rule_requested(&r, 900, "prod", "refs/heads/feature/x", SHA));
    let a = answers(&r, 1, &svc);
    assert_eq!(a[0].2, "rejected");
    assert!(a[0].3.contains("| ❌ | ref |") && a[0].3.contains("is not allowed to deploy to prod"), "{}", a[0].3);
    // A sha staging does not run: not a promotion, whoever approved.
    h.put_run(&r, 901, "Deploy main to prod", "mallory", "mallory");
    h.review(&r, "901", &["prod-approval-1"], "alice", false, true);
    h.review(&r, "901", &["prod"], "bob", false, true);
    let other = "fedcba9876543210fedcba9876543210fedcba98";
    svc.deliver("deployment_protection_rule", "d-2", &h.rule_requested(&r, 901, "prod", "refs/heads/main", other));
    let a = answers(&r, 2, &svc);
    assert_eq!((a[1].0, a[1].2.as_str()), (901, "rejected"));
    assert!(a[1].3.contains("| ❌ | path |") && a[1].3.contains("staging runs 26.11.21.1"), "{}", a[1].3);
    no_violations(&r);
}

#[test]
fn a_feature_branch_config_that_relaxes_the_rules_is_ignored() {
    let h = github();
    let r = setup("serve-branch-config", &config(""));
    let relaxed = "version: 1\nenvironments:\n  prod: { auto_deploy: true }\n";
    h.put_file(&r, "feature/x", ".github/stagegate.yml", relaxed);
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &[], &[]);
    svc.deliver("deployment_protection_rule", "d-1", &h.rule_requested(&r, 900, "prod", "refs/heads/feature/x", SHA));
    let a = answers(&r, 1, &svc);
    assert_eq!(a[0].2, "rejected", "{a:#?}");
    assert!(a[0].3.contains("its branches are main"), "{}", a[0].3);
    let calls = h.calls(&r);
    assert!(calls.iter().any(|c| c.contains("contents/.github/stagegate.yml")), "{calls:#?}");
    no_violations(&r);
}

/// A request for prod, approved twice but pending on a 2h soak, in a stopped
/// service's KV: the repository and the sandbox holding the KV.
fn pending_on_soak(name: &str) -> (String, Sandbox) {
    let h = github();
    let r = setup(name, &config("    soak: 2h\n"));
    h.review(&r, "900", &["prod-approval-1"], "alice", false, true);
    h.review(&r, "900", &["prod"], "bob", false, true);
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &[], &[]);
    svc.deliver("deployment_protection_rule", "d-1", &h.rule_requested(&r, 900, "prod", "refs/heads/main", SHA));
    logged(&svc, "pending", 1);
    assert!(svc.logs().contains("has been healthy in staging for 1h"), "{}", svc.logs());
    svc.stop();
    assert!(h.answers(&r).is_empty());
    (r, sb)
}

#[test]
fn soak_keeps_it_pending_until_it_ends_and_a_restart_keeps_the_request() {
    let (r, sb) = pending_on_soak("serve-soak");
    // Two hours later: the same KV, a new process.
    let later = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let svc = Service::start(&sb, &[], &[("STAGEGATE_NOW", &later)]);
    let a = answers(&r, 1, &svc);
    assert_eq!(a[0].2, "approved", "{a:#?}");
    assert!(a[0].3.contains("| ✅ | soak |"), "{}", a[0].3);
    no_violations(&r);
}

#[test]
fn a_request_github_has_timed_out_is_forgotten_not_kept_forever() {
    let (r, sb) = pending_on_soak("serve-expiry");
    // 31 days later GitHub has failed the deployment: the request goes, unanswered.
    let later = (chrono::Utc::now() + chrono::Duration::days(31)).to_rfc3339();
    let svc = Service::start(&sb, &[], &[("STAGEGATE_NOW", &later)]);
    logged(&svc, "GitHub times a protection rule out after 30 days; forgetting the request", 1);
    let (status, body) = svc.get("/healthz");
    assert_eq!((status, body.contains("\"pending\":0")), (200, true), "{body}");
    assert!(github().answers(&r).is_empty(), "answered a request GitHub had timed out");
}

#[test]
fn soak_ending_on_the_clock_approves_without_an_event() {
    let h = github();
    let r2 = h.repo("serve-timer");
    h.put_file(&r2, "main", ".github/stagegate.yml", &config("    soak: 1h\n"));
    h.put_run(&r2, 900, "Deploy", "mallory", "mallory");
    h.review(&r2, "900", &["prod-approval-1"], "alice", false, true);
    h.review(&r2, "900", &["prod"], "bob", false, true);
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &[], &[]);
    // Staging has run SHA for 59m30s (seeded once the service is up, so a slow
    // start cannot use up the margin): the soak ends half a minute from now —
    // room for a loaded machine to deliver and decide before it does.
    h.seed_success(&r2, "staging", SHA, "26.11.21.1", 3600 - 30);
    svc.deliver("deployment_protection_rule", "d-1", &h.rule_requested(&r2, 900, "prod", "refs/heads/main", SHA));
    logged(&svc, "pending", 1);
    let a = answers(&r2, 1, &svc);
    assert_eq!(a[0].2, "approved", "{a:#?}");
    no_violations(&r2);
}

#[test]
fn a_bad_signature_gets_401_and_calls_nothing() {
    let h = github();
    let r = setup("serve-sig", &config(""));
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &[], &[]);
    let body = serde_json::to_vec(&h.rule_requested(&r, 900, "prod", "refs/heads/main", SHA)).unwrap();
    let wrong = stagegate::serve::webhook::sign("not-the-secret", &body);
    let base = [("X-GitHub-Event", "deployment_protection_rule".to_string()), ("X-GitHub-Delivery", "d-1".to_string())];
    let (code, _) = svc.post("/webhook", &[base[0].clone(), base[1].clone(), ("X-Hub-Signature-256", wrong)], &body);
    assert_eq!(code, 401);
    let (code, _) = svc.post("/webhook", &base, &body);
    assert_eq!(code, 401);
    std::thread::sleep(Duration::from_millis(500));
    assert!(h.calls(&r).is_empty(), "{:#?}", h.calls(&r));
    // The delivery id was not burnt by the forged request: the real one is decided.
    assert_eq!(
        svc.deliver("deployment_protection_rule", "d-1", &h.rule_requested(&r, 900, "prod", "refs/heads/main", SHA)),
        202
    );
}

#[test]
fn a_replayed_delivery_is_acknowledged_and_ignored() {
    let h = github();
    let r = setup("serve-replay", &config(""));
    h.review(&r, "900", &["prod-approval-1"], "alice", false, true);
    h.review(&r, "900", &["prod"], "bob", false, true);
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &[], &[]);
    let p = h.rule_requested(&r, 900, "prod", "refs/heads/main", SHA);
    assert_eq!(svc.deliver("deployment_protection_rule", "d-1", &p), 202);
    answers(&r, 1, &svc);
    let calls = h.calls(&r).len();
    assert_eq!(svc.deliver("deployment_protection_rule", "d-1", &p), 200);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(h.calls(&r).len(), calls, "the replay reached GitHub");
    assert_eq!(h.answers(&r).len(), 1);
}

#[test]
fn an_answer_github_fails_twice_is_retried_and_given_once() {
    let h = github();
    let r = setup("serve-retry", &config(""));
    h.review(&r, "900", &["prod-approval-1"], "alice", false, true);
    h.review(&r, "900", &["prod"], "bob", false, true);
    let fault = crate::support::github::Fault {
        status: 502,
        retry_after: None,
        message: "Bad Gateway",
        method: Some(axum::http::Method::POST),
    };
    h.inject(&r, fault, 2);
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &[], &[]);
    svc.deliver("deployment_protection_rule", "d-1", &h.rule_requested(&r, 900, "prod", "refs/heads/main", SHA));
    let a = answers(&r, 1, &svc);
    assert_eq!(a[0].2, "approved");
    std::thread::sleep(Duration::from_millis(500));
    let posts =
        h.calls(&r).iter().filter(|c| c.starts_with("POST") && c.contains("deployment_protection_rule")).count();
    assert_eq!((posts, h.answers(&r).len()), (3, 1), "{:#?}", h.calls(&r));
    assert_eq!(svc.logs().matches("answer failed; retrying").count(), 2, "{}", svc.logs());
}

#[test]
fn healthz_answers_and_missing_credentials_are_refused_with_help() {
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &[], &[]);
    let (status, body) = svc.get("/healthz");
    assert!(status == 200 && body.contains("\"pending\":0"), "{status} {body}");
    svc.stop();
    let out = sb.cmd().args(["serve", "--app-id", "1"]).env("STAGEGATE_WEBHOOK_SECRET", "x").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no App private key") && err.contains("--private-key-file"), "{err}");
}

#[test]
fn environments_sync_enables_the_apps_rule_where_the_config_marks_it() {
    let h = github();
    let r = h.repo("serve-sync");
    let sb = Sandbox::new();
    let cfg = sb.write("stagegate.yml", config(""));
    let sg = |args: &[&str]| {
        let mut c = sb.cmd();
        c.env("GITHUB_API_URL", &h.url)
            .env("GITHUB_TOKEN", crate::release::SENTINEL)
            .env("GITHUB_REPOSITORY", &r)
            .env("STAGEGATE_APP_ID", APP_ID.to_string())
            .args(["--forge", "github", "-c"])
            .arg(&cfg)
            .args(args);
        crate::support::run(c)
    };
    let (code, out, err) = sg(&["environments", "diff"]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(out.contains("protection rule") && out.contains("stagegate App"), "{out}");
    let (code, out, err) = sg(&["environments", "sync"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(h.rule_apps(&r, "prod"), vec![APP_ID]);
    assert!(h.rule_apps(&r, "staging").is_empty() && h.rule_apps(&r, "prod-approval-1").is_empty());
    let (code, out, _) = sg(&["environments", "diff"]);
    assert_eq!(code, 0, "{out}");
    no_violations(&r);
    // An App id that is not one is refused, not taken for "no App".
    for bad in ["stagegate-app", "0", "-5"] {
        let mut c = sb.cmd();
        c.env("GITHUB_API_URL", &h.url)
            .env("GITHUB_TOKEN", crate::release::SENTINEL)
            .env("GITHUB_REPOSITORY", &r)
            .env("STAGEGATE_APP_ID", bad)
            .args(["--forge", "github", "-c"])
            .arg(&cfg)
            .args(["environments", "diff"]);
        let (code, out, err) = crate::support::run(c);
        assert_eq!(code, 2, "{bad}: {out}{err}");
        assert!(err.contains("STAGEGATE_APP_ID") && err.contains("App ID"), "{bad}: {err}");
    }
}

#[test]
fn app_manifest_asks_for_least_privilege() {
    let sb = Sandbox::new();
    let out = sb.cmd().args(["app", "manifest", "--webhook-url", "https://sg.example.com/webhook"]).output().unwrap();
    assert!(out.status.success());
    let m: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(m["hook_attributes"]["url"], "https://sg.example.com/webhook");
    let p = m["default_permissions"].as_object().unwrap();
    let perms: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap())).collect();
    assert_eq!(perms, [("actions", "read"), ("contents", "read"), ("deployments", "write"), ("metadata", "read")]);
    assert_eq!(m["default_events"], serde_json::json!(["deployment_protection_rule", "deployment_review"]));
    let out = sb.cmd().args(["app", "manifest", "--webhook-url", "ftp://x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_servicenow_change_named_in_the_run_title_must_be_approved() {
    use crate::support::servicenow::{ServiceNow, change};
    let fmt = |d: chrono::DateTime<chrono::Utc>| d.format("%Y-%m-%d %H:%M:%S").to_string();
    let now = chrono::Utc::now();
    let (before, after) = (fmt(now - chrono::Duration::hours(1)), fmt(now + chrono::Duration::hours(1)));
    let sn = ServiceNow::start(vec![
        change("CHG0000002", "approved", "-1", &before, &after),
        change("CHG0000001", "requested", "-3", &before, &after),
    ]);
    let (Some(approved), Some(requested)) = (sn.number("approved", "CHG0000002"), sn.number("requested", "CHG0000001"))
    else {
        return; // a real instance without these cases configured
    };
    let h = github();
    // prod requires a change; `servicenow:` is a top-level key, before `promotions:`.
    let cfg = config("    change: required\n")
        .replace("promotions:", &format!("servicenow:\n  instance: {}\npromotions:", sn.url));
    let r = setup("serve-change", &cfg);
    for (run, title) in [
        (910, format!("26.11.21.1 staging → prod under {approved}")),
        (911, format!("26.11.21.1 staging → prod under {requested}")),
        (912, "26.11.21.1 staging → prod".to_string()),
    ] {
        h.put_run(&r, run, &title, "mallory", "mallory");
        h.review(&r, &run.to_string(), &["prod-approval-1"], "alice", false, true);
        h.review(&r, &run.to_string(), &["prod"], "bob", false, true);
    }
    let sb = Sandbox::new();
    let env = [("SERVICENOW_USER", sn.user.as_str()), ("SERVICENOW_PASSWORD", sn.password.as_str())];
    let svc = Service::start(&sb, &["--servicenow-instance", &sn.url], &env);
    svc.deliver("deployment_protection_rule", "c-1", &h.rule_requested(&r, 910, "prod", "refs/heads/main", SHA));
    let a = answers(&r, 1, &svc);
    assert_eq!((a[0].0, a[0].2.as_str()), (910, "approved"), "{a:#?}");
    assert!(a[0].3.contains("| ✅ | change |") && a[0].3.contains(&approved), "{}", a[0].3);
    // A change still waiting for approval: pending, not rejected.
    svc.deliver("deployment_protection_rule", "c-2", &h.rule_requested(&r, 911, "prod", "refs/heads/main", SHA));
    logged(&svc, "pending", 1);
    // No change named at all: it can never pass, rejected at once with how to name one.
    svc.deliver("deployment_protection_rule", "c-3", &h.rule_requested(&r, 912, "prod", "refs/heads/main", SHA));
    let a = answers(&r, 2, &svc);
    assert_eq!((a[1].0, a[1].2.as_str()), (912, "rejected"), "{a:#?}");
    assert!(a[1].3.contains("run-name"), "{}", a[1].3);
    assert!(!svc.logs().contains(&sn.password), "the ServiceNow password reached the log");
    no_violations(&r);
}

#[test]
fn outside_its_deploy_windows_prod_stays_pending_until_a_window_opens() {
    let h = github();
    let r = setup("serve-window", &config("    deploy_windows: [\"MON-THU 09:00 - 16:00 Europe/London\"]\n"));
    h.review(&r, "900", &["prod-approval-1"], "alice", false, true);
    h.review(&r, "900", &["prod"], "bob", false, true);
    let sb = Sandbox::new();
    // Saturday 12 Dec 2026: approved twice, but closed until Monday 09:00.
    let svc = Service::start(&sb, &[], &[("STAGEGATE_NOW", "2026-12-12T12:00:00Z")]);
    svc.deliver("deployment_protection_rule", "d-1", &h.rule_requested(&r, 900, "prod", "refs/heads/main", SHA));
    logged(&svc, "pending", 1);
    assert!(svc.logs().contains("outside its deploy windows"), "{}", svc.logs());
    svc.stop();
    assert!(h.answers(&r).is_empty(), "answered while prod is closed");
    // Monday 10:00 London: the same KV, a new process, and the window is open.
    let svc = Service::start(&sb, &[], &[("STAGEGATE_NOW", "2026-12-14T10:00:00Z")]);
    let a = answers(&r, 1, &svc);
    assert_eq!(a[0].2, "approved", "{a:#?}");
    no_violations(&r);
}

/// A branch's instance is decided by its template's policy: the template's
/// freeze keeps `feature/login` pending, and once it opens the instance is
/// approved (the template needs no approvals); a ref the template does not
/// take is rejected.
#[test]
fn an_instance_is_decided_by_its_templates_policy() {
    let h = github();
    let cfg = "version: 1\nenvironments:\n  feature:\n    branches: [\"feature/*\"]\n    ephemeral: true\n    protection_rule: app\n    freeze: [\"SAT 00:00 - MON 00:00 UTC\"]\n";
    let r = h.repo("serve-instance");
    h.put_file(&r, "main", ".github/stagegate.yml", cfg);
    h.put_run(&r, 900, "Deploy feature/login", "mallory", "mallory");
    h.put_run(&r, 901, "Deploy main", "mallory", "mallory");
    let sb = Sandbox::new();
    // Saturday: the template is frozen, so its instance waits.
    let svc = Service::start(&sb, &[], &[("STAGEGATE_NOW", "2026-12-12T12:00:00Z")]);
    svc.deliver(
        "deployment_protection_rule",
        "d-1",
        &h.rule_requested(&r, 900, "feature/login", "refs/heads/feature/login", SHA),
    );
    logged(&svc, "pending", 1);
    svc.stop();
    assert!(h.answers(&r).is_empty(), "answered while the template is frozen");
    // Monday: open; the instance is approved, and `main` (not a feature branch) is not.
    let svc = Service::start(&sb, &[], &[("STAGEGATE_NOW", "2026-12-14T10:00:00Z")]);
    svc.deliver(
        "deployment_protection_rule",
        "d-2",
        &h.rule_requested(&r, 901, "feature/main", "refs/heads/main", SHA),
    );
    let a = answers(&r, 2, &svc);
    let by_run = |run: u64| a.iter().find(|x| x.0 == run).map(|x| x.2.clone());
    assert_eq!(by_run(900).as_deref(), Some("approved"), "{a:#?}");
    assert_eq!(by_run(901).as_deref(), Some("rejected"), "{a:#?}");
    no_violations(&r);
}
