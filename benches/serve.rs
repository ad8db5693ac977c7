//! `stagegate serve` benchmark (not a test; `bash benches/serve.sh` runs it):
//! webhook → verdict latency. Each round delivers a signed
//! `deployment_protection_rule` webhook for a new run with two distinct
//! approvals and times it until the App's `approved` answer has reached the
//! GitHub test server: signature check, installation token (cached after the
//! first round), the default branch's config, the run, its approvals, the
//! source environment's deployments, and the answer on the callback URL.
//!
//! Every GitHub request passes through Prism (which validates it against
//! GitHub's OpenAPI description), as in the tests, so the figures include
//! Prism's own time per request: an upper bound for the App's.
// clippy.toml refuses printing outside stagegate_core::console;
// a benchmark prints its table; the rule is for the binary.
#![allow(clippy::disallowed_macros, clippy::disallowed_methods)]

use std::time::{Duration, Instant};

#[allow(dead_code)]
#[path = "../tests/all/support/mod.rs"]
mod support;

use support::Sandbox;
use support::github::github;
use support::serve::{SHA, Service};

const CONFIG: &str = "version: 1\nenvironments:\n  staging: { branches: [main] }\n  prod:\n    branches: [main]\n    protection_rule: app\n    approvals: { required: 2, reviewers: [\"@alice\", \"@bob\", \"@carol\"] }\npromotions:\n  - { from: staging, to: prod }\n";

fn main() {
    let mut rounds = 200usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rounds" => rounds = args.next().and_then(|v| v.parse().ok()).expect("--rounds N"),
            "--bench" => {}
            other => panic!("unknown argument {other} (use --rounds N)"),
        }
    }
    let warmup = 10;
    let h = github();
    let repo = h.repo("bench-serve");
    h.put_file(&repo, "main", ".github/stagegate.yml", CONFIG);
    h.seed_success(&repo, "staging", SHA, "26.11.21.1", 3600);
    // One payload checked against GitHub's webhook schema; the others differ only in the run.
    let template = h.rule_requested(&repo, 1, "prod", "refs/heads/main", SHA);
    let payloads: Vec<_> = (0..warmup + rounds)
        .map(|i| {
            let run = 10_000 + i as u64;
            h.put_run(&repo, run, "26.11.21.1 staging → prod", "mallory", "mallory");
            h.review(&repo, &run.to_string(), &["prod"], "alice", false, true);
            h.review(&repo, &run.to_string(), &["prod"], "bob", false, true);
            let mut p = template.clone();
            let url = p["deployment_callback_url"].as_str().unwrap().replace("/runs/1/", &format!("/runs/{run}/"));
            p["deployment_callback_url"] = url.into();
            p
        })
        .collect();

    let sb = Sandbox::new();
    let svc = Service::start(&sb, &[], &[]);
    let calls_before = h.calls(&repo).len();
    let mut latencies = Vec::with_capacity(rounds);
    for (i, payload) in payloads.iter().enumerate() {
        let started = Instant::now();
        assert_eq!(svc.deliver("deployment_protection_rule", &format!("bench-{i}"), payload), 202);
        loop {
            if h.answers(&repo).len() > i {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "no answer: {}", svc.logs());
            std::thread::sleep(Duration::from_micros(200));
        }
        if i >= warmup {
            latencies.push(started.elapsed());
        }
    }
    let answers = h.answers(&repo);
    assert!(answers.iter().all(|a| a.2 == "approved"), "not every verdict was `approved`: {answers:#?}");
    let calls = (h.calls(&repo).len() - calls_before) as f64 / (warmup + rounds) as f64;
    svc.stop();

    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pct = |p: f64| ms(latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]);
    println!("webhook → verdict, {rounds} rounds after {warmup} warm-up, GitHub test server behind Prism:");
    println!(
        "  p50 {:.1} ms   p90 {:.1} ms   p99 {:.1} ms   max {:.1} ms   ({calls:.1} GitHub requests per verdict)",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        ms(*latencies.last().unwrap())
    );
}
