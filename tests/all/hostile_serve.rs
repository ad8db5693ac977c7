//! `stagegate serve` attacked as the internet and its repositories can: a
//! config steering the App's ServiceNow credentials, a deployment record that
//! crashed the decision (also stored across a restart), clients trickling
//! headers, an empty webhook secret, more pending requests than one Consul
//! value holds, a tag shadowing the default branch, a page of 3,000
//! deployments. Against the GitHub test server in App mode behind Prism.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::serve::{config, no_violations, setup};
use crate::support::Sandbox;
use crate::support::consul::Consul;
use crate::support::github::github;
use crate::support::serve::{SECRET, SHA, Service, answers, private_key};
use crate::support::servicenow::{Hostile, ServiceNow, change};

/// Two distinct approvals of run `run` for prod.
fn approve(repo: &str, run: u64) {
    let h = github();
    h.review(repo, &run.to_string(), &["prod-approval-1"], "alice", false, true);
    h.review(repo, &run.to_string(), &["prod"], "bob", false, true);
}

/// `config` with a `servicenow:` section (before `promotions:`).
fn with_servicenow(cfg: &str, section: &str) -> String {
    cfg.replace("promotions:", &format!("servicenow:\n{section}promotions:"))
}

#[test]
fn the_apps_servicenow_credentials_go_only_to_its_operators_instance() {
    let fmt = |d: chrono::DateTime<chrono::Utc>| d.format("%Y-%m-%d %H:%M:%S").to_string();
    let now = chrono::Utc::now();
    let (before, after) = (fmt(now - chrono::Duration::hours(1)), fmt(now + chrono::Duration::hours(1)));
    let about = |number: &str, ci: &str| {
        let mut c = change(number, "approved", "-1", &before, &after);
        c["cmdb_ci.name"] = json!(ci);
        c
    };
    let sn = ServiceNow::start(vec![about("CHG0000021", "payments"), about("CHG0000022", "billing")]);
    if sn.number("payments", "CHG0000021").is_none() || std::env::var("STAGEGATE_TEST_SERVICENOW_URL").is_ok() {
        return; // the local test server's changes only
    }
    let hostile = Hostile::start();
    let h = github();
    // A repository's config names its own host: the App must not go there.
    let steer = with_servicenow(&config("    change: required\n"), &format!("  instance: {}\n", hostile.url));
    let r = setup("hostile-sn-steer", &steer);
    h.put_run(&r, 920, "26.11.21.1 to prod under CHG0000021", "mallory", "mallory");
    approve(&r, 920);
    // The operator's instance, and a change must be about `payments`.
    let own = with_servicenow(
        &config("    change: required\n"),
        &format!("  instance: {}\n  match: {{ cmdb_ci.name: payments }}\n", sn.url),
    );
    let r2 = setup("hostile-sn-match", &own);
    for (run, number) in [(921, "CHG0000021"), (922, "CHG0000022")] {
        h.put_run(&r2, run, &format!("26.11.21.1 to prod under {number}"), "mallory", "mallory");
        approve(&r2, run);
    }
    let sb = Sandbox::new();
    let env = [("SERVICENOW_USER", sn.user.as_str()), ("SERVICENOW_PASSWORD", sn.password.as_str())];
    let svc = Service::start(&sb, &["--servicenow-instance", &sn.url], &env);
    svc.deliver("deployment_protection_rule", "s-1", &h.rule_requested(&r, 920, "prod", "refs/heads/main", SHA));
    let a = answers(&r, 1, &svc);
    assert_eq!(a[0].2, "rejected", "{a:#?}");
    // The comment names the host (with links neutralised) and says whose instance counts.
    let host = hostile.url.trim_start_matches("http://");
    assert!(a[0].3.contains(host) && a[0].3.contains("operator"), "{}", a[0].3);
    assert!(hostile.seen().is_empty(), "the repository's host got: {:#?}", hostile.seen());
    svc.deliver("deployment_protection_rule", "s-2", &h.rule_requested(&r2, 921, "prod", "refs/heads/main", SHA));
    svc.deliver("deployment_protection_rule", "s-3", &h.rule_requested(&r2, 922, "prod", "refs/heads/main", SHA));
    let mut a = answers(&r2, 2, &svc);
    a.sort();
    assert_eq!((a[0].0, a[0].2.as_str()), (921, "approved"), "{a:#?}");
    assert_eq!((a[1].0, a[1].2.as_str()), (922, "rejected"), "{a:#?}");
    assert!(a[1].3.contains("is not about this") && a[1].3.contains("billing"), "{}", a[1].3);
    no_violations(&r);
    no_violations(&r2);
}

#[test]
fn check_warns_when_a_change_may_be_about_anything() {
    let sb = Sandbox::new();
    let bare = with_servicenow(&config("    change: required\n"), "  instance: https://acme.service-now.com\n");
    let matched = with_servicenow(
        &config("    change: required\n    change_match: { cmdb_ci.name: payments-prod }\n"),
        "  instance: https://acme.service-now.com\n",
    );
    for (cfg, warned) in [(bare, true), (matched, false)] {
        let path = sb.write("stagegate.yml", &cfg);
        let out = sb.cmd().arg("-c").arg(&path).arg("check").output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(text.contains("names no field"), warned, "{text}");
    }
}

/// A `deployment_protection_rule` request as an earlier process stored it.
fn stored_request(repo: &str, run: u64) -> (String, Value) {
    let (owner, name) = repo.split_once('/').unwrap();
    let key = format!("{repo}#{run}#prod");
    let entry = json!({
        "request": {"installation": 77, "owner": owner, "repo": name, "default_branch": "main", "run_id": run,
                    "environment": "prod", "sha": SHA, "ref": "refs/heads/main",
                    "received_at": chrono::Utc::now().to_rfc3339()},
        "next_check": null, "waiting_for": "a first decision", "answer": null
    });
    (key, entry)
}

#[test]
fn a_record_that_crashed_the_app_is_answered_also_when_stored_before_a_restart() {
    let h = github();
    let r = h.repo("hostile-sha");
    h.put_file(&r, "main", ".github/stagegate.yml", &config(""));
    // staging's record holds a sha with a multi-byte character across byte 12.
    h.seed_success(&r, "staging", "0123456789aé€ünï", "26.11.21.1", 3600);
    for run in [930, 931] {
        h.put_run(&r, run, "Deploy main to prod", "mallory", "mallory");
        approve(&r, run);
    }
    let ok = setup("hostile-sha-other", &config(""));
    approve(&ok, 900);
    // Run 931 was stored by an earlier version, in its single document.
    let mut consul = Consul::start(None);
    let (key, entry) = stored_request(&r, 931);
    consul.set("stagegate_serve/pending", &json!({"requests": {key: entry}}).to_string());
    let kv = format!("consul://{}", consul.addr.trim_start_matches("http://"));
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &["--kv", &kv], &[]);
    let a = answers(&r, 1, &svc);
    assert_eq!((a[0].0, a[0].2.as_str()), (931, "rejected"), "{a:#?}");
    assert!(a[0].3.contains("staging runs 26.11.21.1 (0123456789aé)"), "{}", a[0].3);
    assert!(consul.keys("stagegate_serve/pending").is_empty(), "the old document is still there");
    // The same record in a new delivery, then another repository: both answered.
    svc.deliver("deployment_protection_rule", "x-1", &h.rule_requested(&r, 930, "prod", "refs/heads/main", SHA));
    svc.deliver("deployment_protection_rule", "x-2", &h.rule_requested(&ok, 900, "prod", "refs/heads/main", SHA));
    assert_eq!(answers(&r, 2, &svc)[1].2, "rejected");
    assert_eq!(answers(&ok, 1, &svc)[0].2, "approved");
    assert_eq!(svc.get("/healthz").0, 200);
    assert!(!svc.logs().contains("\"panic\""), "{}", svc.logs());
    no_violations(&r);
}

#[test]
fn ten_thousand_pending_requests_fit_in_consul() {
    let h = github();
    let r = setup("hostile-many", &config(""));
    approve(&r, 900);
    let mut consul = Consul::start(None);
    // 10,000 requests waiting for tomorrow's check: ~6 MB, twelve times what
    // one Consul value holds.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    for run in 0..10_000u64 {
        let (key, mut entry) = stored_request("acme/elsewhere", 100_000 + run);
        entry["next_check"] = json!(tomorrow);
        entry["waiting_for"] = json!("approvals: 0/2 distinct approvals from allowed humans");
        let hash = hex::encode(Sha256::digest(key.as_bytes()));
        consul.set(&format!("stagegate_serve/requests/{hash}"), &entry.to_string());
    }
    let kv = format!("consul://{}", consul.addr.trim_start_matches("http://"));
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &["--kv", &kv], &[]);
    svc.deliver("deployment_protection_rule", "m-1", &h.rule_requested(&r, 900, "prod", "refs/heads/main", SHA));
    assert_eq!(answers(&r, 1, &svc)[0].2, "approved");
    let (status, body) = svc.get("/healthz");
    assert_eq!(status, 200, "{body}");
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["pending"], 10_000, "{body}");
    assert!(!svc.logs().contains("the KV store cannot be"), "{}", svc.logs());
}

#[test]
fn the_config_is_read_at_the_default_branchs_head_not_at_a_tag_named_like_it() {
    let h = github();
    let r = setup("hostile-tag", &config(""));
    // A tag `main`, pushed by anyone who can push tags, relaxing everything.
    h.put_tag_file(&r, "main", ".github/stagegate.yml", "version: 1\nenvironments:\n  prod: { auto_deploy: true }\n");
    approve(&r, 900);
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &[], &[]);
    svc.deliver("deployment_protection_rule", "t-1", &h.rule_requested(&r, 900, "prod", "refs/heads/feature/x", SHA));
    let a = answers(&r, 1, &svc);
    assert_eq!(a[0].2, "rejected", "{a:#?}");
    assert!(a[0].3.contains("its branches are main"), "{}", a[0].3);
    let calls = h.calls(&r);
    assert!(calls.iter().any(|c| c == "GET git/ref/heads/main"), "{calls:#?}");
    no_violations(&r);
}

#[test]
fn a_page_of_3000_deployments_is_read_20_at_most_8_statuses_at_a_time() {
    let h = github();
    let r = setup("hostile-flood", &config(""));
    h.flood_deployments(&r, "staging", 3000, Duration::from_millis(20));
    approve(&r, 900);
    let _ = h.status_max_in_flight();
    let statuses = || h.calls(&r).iter().filter(|c| c.ends_with("/statuses")).count();
    let sb = Sandbox::new();
    let svc = Service::start(&sb, &[], &[]);
    svc.deliver("deployment_protection_rule", "f-1", &h.rule_requested(&r, 900, "prod", "refs/heads/main", SHA));
    assert_eq!(answers(&r, 1, &svc)[0].2, "rejected");
    // Over GraphQL the statuses come with the page: no status lists.
    assert_eq!(statuses(), 0, "the App read status lists");
    let cfg = sb.write("stagegate.yml", config(""));
    let history = |api: &str| {
        let mut c = sb.cmd();
        c.env("GITHUB_API_URL", api)
            .env("GITHUB_TOKEN", crate::release::SENTINEL)
            .env("GITHUB_REPOSITORY", &r)
            .args(["--forge", "github", "-c"])
            .arg(&cfg)
            .args(["history", "--env", "staging", "--output", "json"]);
        let (code, out, err) = crate::support::run(c);
        assert_eq!(code, 0, "{out}{err}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()["deployments"].as_array().unwrap().len()
    };
    // The server sends all 3000 for a page of 20: 20 are read.
    let queries = |r: &str| h.calls(r).iter().filter(|c| *c == "POST graphql").count();
    let before = queries(&r);
    assert_eq!(history(&h.url), 20);
    assert_eq!(queries(&r) - before, 1);
    // A GitHub Enterprise Server (`/api/v3`): REST, a page's statuses read in
    // parallel, at most 8 at once.
    assert_eq!(history(&format!("{}/api/v3", h.url)), 20);
    let most = h.status_max_in_flight();
    assert!(statuses() <= 20 && (2..=8).contains(&most), "{} status lists, {most} at once", statuses());
}

#[test]
fn an_empty_webhook_secret_or_a_plain_http_servicenow_is_refused() {
    let sb = Sandbox::new();
    let key = sb.write("app.pem", private_key());
    // The exit code and stderr of `serve`; `None` when it started serving
    // instead (stopped after 20 s).
    let serve = |secret: &std::path::Path, extra: &[&str]| {
        let mut c = sb.std_cmd();
        c.args(["serve", "--app-id", "1", "--listen", "127.0.0.1:0", "--private-key-file"])
            .arg(&key)
            .arg("--webhook-secret-file")
            .arg(secret)
            .args(extra)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut code = None;
        for _ in 0..200 {
            if let Some(status) = child.try_wait().unwrap() {
                code = status.code();
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        let _ = child.wait();
        (code, err)
    };
    for (name, text) in [("empty", ""), ("blank", " \n\t\n")] {
        let (code, err) = serve(&sb.write(name, text), &[]);
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(err.contains("webhook secret") && err.contains("is empty"), "{name}: {err}");
    }
    let long = sb.write("long", "a-webhook-secret-long-enough");
    let (code, err) = serve(&long, &["--servicenow-instance", "http://acme.service-now.example"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("plain http"), "{err}");
    // A short secret works, with a warning.
    assert!(SECRET.chars().count() < 16);
    let svc = Service::start(&sb, &[], &[]);
    assert!(svc.logs().contains("shorter than 16 characters"), "{}", svc.logs());
}

/// Raises this process's open-files soft limit to the hard one.
fn raise_own_nofile() {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: reads and writes only the struct passed.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
    }
}

/// POSTs a signed delivery and waits at most `wait` (GitHub's 10 s) for the
/// status line; `None` when none came.
fn deliver_within(addr: SocketAddr, body: &[u8], wait: Duration) -> Option<u16> {
    let mut s = TcpStream::connect_timeout(&addr, wait).ok()?;
    s.set_read_timeout(Some(wait)).ok()?;
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\nX-GitHub-Event: deployment_protection_rule\r\nX-GitHub-Delivery: slow-1\r\nX-Hub-Signature-256: {}\r\n\r\n",
        body.len(),
        stagegate::serve::webhook::sign(SECRET, body)
    );
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).ok()?;
    String::from_utf8_lossy(&buf[..n]).split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_signed_delivery_is_answered_while_1100_clients_trickle_headers() {
    raise_own_nofile();
    let h = github();
    let r = setup("hostile-slow", &config(""));
    approve(&r, 900);
    let sb = Sandbox::new();
    // The common default: 1,024 descriptors.
    let svc = Service::start_with(&sb, &[], &[], Some(1024));
    let addr: SocketAddr = svc.url.trim_start_matches("http://").parse().unwrap();
    let mut slow: Vec<TcpStream> = (0..1100)
        .filter_map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok())
        .filter_map(|mut s| s.write_all(b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Slow: ").ok().map(|_| s))
        .collect();
    assert!(slow.len() >= 1000, "only {} slow clients connected", slow.len());
    let writers: Vec<TcpStream> = slow.iter().filter_map(|s| s.try_clone().ok()).collect();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let trickle = std::thread::spawn(move || {
        let mut writers = writers;
        // A byte per client every 250 ms, for at most 25 s.
        for _ in 0..100 {
            if stop_rx.recv_timeout(Duration::from_millis(250)).is_ok() {
                return;
            }
            for w in &mut writers {
                let _ = w.write_all(b"a");
            }
        }
    });
    let body = serde_json::to_vec(&h.rule_requested(&r, 900, "prod", "refs/heads/main", SHA)).unwrap();
    let status = deliver_within(addr, &body, Duration::from_secs(10));
    assert_eq!(status, Some(202), "{}", svc.logs());
    assert_eq!(answers(&r, 1, &svc)[0].2, "approved");
    // A client that never finishes its headers is cut off (10 s), trickling or not.
    let first = &mut slow[0];
    first.set_read_timeout(Some(Duration::from_secs(25))).unwrap();
    let mut sink = Vec::new();
    let ended = first.read_to_end(&mut sink);
    let timed_out =
        matches!(&ended, Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut));
    let _ = stop_tx.send(());
    trickle.join().unwrap();
    assert!(!timed_out, "a slow client was never cut off");
    no_violations(&r);
}
