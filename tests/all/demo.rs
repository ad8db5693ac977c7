//! The README's main command (`bash scripts/demo.sh`) really runs: a
//! promotion, a refused path and a rollback on the embedded default config.

use crate::support::{demo_port, repo_root, run};

#[test]
fn the_readme_demo_promotes_refuses_and_rolls_back() {
    let _port = demo_port();
    let mut cmd = assert_cmd::Command::new("bash");
    cmd.arg(repo_root().join("scripts/demo.sh"))
        .env("STAGEGATE_BIN", assert_cmd::cargo::cargo_bin("stagegate"))
        .env("NO_COLOR", "1");
    let (code, out, err) = run(cmd);
    assert_eq!(code, 0, "{out}\n{err}");
    for want in [
        "✓ 26.11.21.1 is live in active",
        "    │ deploying 26.11.21.1 (refs/heads/release/v1) to active",
        "✗ promotion refused: promotion dev-int → prod is not an allowed path",
        "✗ promotion refused: staging needs 1 distinct approval(s) from allowed humans; 0 counted",
        "1/1 approved: alice (member of @acme/qa-leads)",
        "✓ 26.11.21.1 is live in staging",
        "✗ promotion of 26.11.21.2 to staging failed: health check failed",
        "rolled back to 26.11.21.1 (healthy again)",
        "readiness 85/100: promotion with caution",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
    let staging = out.lines().find(|l| l.starts_with("staging ")).expect("a status row for staging");
    assert!(staging.contains("26.11.21.1") && staging.contains("healthy"), "{staging}");
}

/// A demo whose port another demo holds fails its deploy hook, saying so,
/// instead of letting the other demo's server answer its health checks.
#[test]
fn the_demo_server_refuses_a_port_another_demo_holds() {
    let _port = demo_port();
    let other = std::net::TcpListener::bind("127.0.0.1:47811").expect("the demo port is free under its lock");
    let sb = crate::support::Sandbox::new();
    std::fs::create_dir_all(sb.path().join("demo/www")).expect("the directory the deploy hook makes");
    let out = std::process::Command::new("sh")
        .arg(repo_root().join("examples/hooks/serve.sh"))
        .env("STAGEGATE_STATE_DIR", sb.path())
        .output()
        .expect("sh runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot serve on 127.0.0.1:47811") && err.contains("another demo"), "{err}");
    assert!(!sb.path().join("demo/server.pid").exists(), "a pid for a server that never ran");
    drop(other);
}
