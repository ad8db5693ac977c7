//! A killed runner never causes a second deploy, or a second import, beside
//! the first: SIGTERM is handled like SIGINT; after `kill -9` of stagegate the
//! hook or import it started still counts as holding the environment or the
//! lane until its process group is gone.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::journal::{Backend, Pipeline};
use crate::support::{Sandbox, run, run_json};

/// Waits (a generous bound, not a timing assertion) until `done` holds.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether `pid` still runs (a zombie nobody reaps does not).
fn running(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !matches!(s[s.rfind(')').unwrap() + 1..].split_whitespace().next(), Some("Z" | "X")))
        .unwrap_or(false)
}

fn staging(sb: &Sandbox) -> serde_json::Value {
    let (code, json, _) = run_json(sb.sg(&["status", "--no-health"]));
    assert_eq!(code, 0);
    json["environments"].as_array().unwrap().iter().find(|e| e["environment"] == "staging").unwrap().clone()
}

/// A promotion dev → staging whose verify hook starts a background `sleep`
/// (its pid in `child.pid`) and waits for the file `go`; returned once the
/// hook runs and the lock has recorded its process group.
fn promotion_in_verify() -> (Sandbox, Child) {
    let verify = "[ $STAGEGATE_ENV = dev ] || { sleep 300 & echo $! > child.pid; touch started; while [ ! -f go ]; do sleep 0.1; done; kill $! 2>/dev/null; }";
    let timeouts = "  timeouts: { startup: 2s, health_check: 1s, hook: 5m }\n";
    let sb = Sandbox::for_runs(&format!("  verify: '{verify}'\n{timeouts}"));
    let (code, out, err) = run(sb.sg(&["deploy", "--env", "dev", "--ref", "release/v1", "--release", "1.0.0"]));
    assert_eq!(code, 0, "{out}\n{err}");
    let child = sb
        .sg_spawnable(&["promote", "--from", "dev", "--to", "staging", "--release", "1.0.0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lock = sb.path().join(".stagegate/locks/staging.lock");
    wait_until("the verify hook runs and the lock names it", || {
        sb.path().join("started").exists()
            && std::fs::read_to_string(&lock).is_ok_and(|l| l.contains("\"step\":\"verify\""))
    });
    (sb, child)
}

fn audit_lines(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join(".stagegate/audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn sigterm_during_a_hook_is_handled_like_ctrl_c() {
    let (sb, first) = promotion_in_verify();
    let sleeper = std::fs::read_to_string(sb.path().join("child.pid")).unwrap().trim().to_string();
    assert!(running(&sleeper));
    let kill = std::process::Command::new("kill").args(["-TERM", &first.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let out = first.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("verify hook") && text.contains("was stopped by SIGTERM"), "{text}");
    // The hook's whole process group went with it, the sleep it started too.
    wait_until("the hook's background sleep is gone", || !running(&sleeper));
    assert!(sb.hook_log().last().unwrap().starts_with("rollback staging"), "{:?}", sb.hook_log());
    let s = staging(&sb);
    assert_eq!(s["latest"]["state"], "failure", "never left in progress: {s}");
    let audit = audit_lines(sb.path());
    let last = audit.last().expect("an audit line");
    assert_eq!((last["command"].as_str(), last["env"].as_str()), (Some("promote"), Some("staging")));
    assert_eq!(last["outcome"], "failed", "{last}");
}

#[test]
fn a_killed_run_holds_its_environment_until_its_hook_has_ended() {
    let (sb, mut first) = promotion_in_verify();
    first.kill().unwrap(); // SIGKILL: stagegate records nothing, its hook runs on
    first.wait().unwrap();
    let s = staging(&sb);
    assert_eq!(s["state"], "in_progress");
    assert_eq!(s["latest"]["run"], "died, hook still running", "{s}");

    // A rerun meanwhile would deploy beside the hook still running: refused.
    let (code, out, _) = run(sb.sg(&["promote", "--from", "dev", "--to", "staging", "--release", "1.0.0"]));
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("the run that last deployed to staging died, but its verify hook"), "{out}");
    assert!(out.contains("is still running") && out.contains(&format!("pid {}", first.id())), "{out}");
    assert_eq!(sb.hook_log().iter().filter(|l| l.starts_with("deploy staging")).count(), 1);

    // Once the hook has ended, the deployment it belonged to will never finish.
    std::fs::write(sb.path().join("go"), "").unwrap();
    wait_until("status calls the deployment abandoned", || staging(&sb)["state"] == "abandoned");
    assert_eq!(staging(&sb)["release"], serde_json::Value::Null, "1.0.0 never went live in staging");
    let (code, out, _) = run(sb.sg(&["promote", "--from", "dev", "--to", "staging", "--release", "1.0.0"]));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("was abandoned by a run that died; marked error"), "{out}");
    let s = staging(&sb);
    assert_eq!((s["release"].as_str(), s["state"].as_str()), (Some("1.0.0"), Some("success")));
}

#[test]
fn wait_waits_for_the_hook_a_killed_run_left_behind() {
    let (sb, mut first) = promotion_in_verify();
    first.kill().unwrap();
    first.wait().unwrap();
    let rerun = sb
        .sg_spawnable(&["promote", "--from", "dev", "--to", "staging", "--release", "1.0.0", "--wait", "5m"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = |sb: &Sandbox| sb.hook_log().iter().filter(|l| l.starts_with("deploy staging")).count();
    // It waits rather than deploying beside the hook (the hook ends only on `go`).
    assert_eq!(log(&sb), 1);
    std::fs::write(sb.path().join("go"), "").unwrap();
    let out = rerun.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(log(&sb), 2, "{:?}", sb.hook_log());
    let (code, _, err) =
        run(sb.sg(&["promote", "--from", "dev", "--to", "staging", "--release", "1.0.0", "--wait", "7h"]));
    assert_eq!(code, 2, "--wait is bounded: {err}");
}

/// An import command that counts its runs and waits for the file `go`.
fn slow_import(p: &Pipeline) -> String {
    let d = p.path().display();
    format!(
        "echo \"$STAGEGATE_JOURNAL_VERSION\" >> {d}/count; touch {d}/importing; while [ ! -f {d}/go ]; do sleep 0.1; done; touch {d}/done"
    )
}

fn spawn_watch(p: &Pipeline, args: &[&str]) -> Child {
    let mut c = p.std_cmd();
    c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    c.spawn().expect("spawns")
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map(|s| s.lines().count()).unwrap_or(0)
}

#[test]
fn a_version_is_imported_at_most_once_across_kill_9_and_restart() {
    for backend in Backend::ALL {
        let p = Pipeline::new(backend);
        let v1 = p.upload("one.jnl", "1", "dev-modelling");
        assert_eq!(p.run(&["journal", "seed"]).0, 0);
        let cmd = slow_import(&p);
        let count = p.path().join("count");
        let mut watcher = spawn_watch(&p, &["journal", "watch", "--lane", "dev", "--exec", &cmd]);
        wait_until("the import runs", || p.path().join("importing").exists());
        watcher.kill().unwrap(); // kill -9 mid-import: the import command runs on
        watcher.wait().unwrap();

        // Restarted while the import still runs: it is busy, not imported again.
        let (code, out, err) = p.run(&["journal", "watch", "--lane", "dev", "--exec", &cmd, "--once"]);
        assert_eq!(code, 0, "{backend:?}: {out}\n{err}");
        assert!(out.contains("is being imported by"), "{backend:?}: {out}");
        assert_eq!(lines(&count), 1, "{backend:?}");

        // The import ends; nobody recorded how. Not imported again: it needs a person.
        std::fs::write(p.path().join("go"), "").unwrap();
        wait_until("the import command has ended", || p.path().join("done").exists());
        let restart = || p.run(&["journal", "watch", "--lane", "dev", "--exec", &cmd, "--once"]);
        let (code, out, _) = loop {
            // Its shell may take a moment to exit after `done`.
            let r = restart();
            if !r.1.contains("is being imported by") {
                break r;
            }
        };
        assert_eq!(code, 1, "{backend:?}: {out}");
        assert!(out.contains("needs attention") && out.contains("--retry-failed"), "{backend:?}: {out}");
        let (_, again, _) = restart();
        assert!(again.contains("needs attention"), "{backend:?}: {again}");
        assert_eq!(lines(&count), 1, "{backend:?}: imported once only");
        let (code, status, _) = p.json(&["journal", "status"]);
        assert_eq!(code, 0);
        assert_eq!(status["lanes"][0]["state"], "interrupted", "{status}");
        assert_eq!(p.run(&["journal", "promote", "--from", "dev", "--to", "qa"]).0, 3, "not promotable");

        // The operator retries on purpose.
        let (code, out, err) =
            p.run(&["journal", "watch", "--lane", "dev", "--exec", &cmd, "--once", "--retry-failed"]);
        assert_eq!(code, 0, "{backend:?}: {out}\n{err}");
        assert_eq!(lines(&count), 2);
        assert_eq!(status_of(&p), Some("imported".into()), "{backend:?} {v1}");
    }
}

fn status_of(p: &Pipeline) -> Option<String> {
    let (_, v, _) = p.json(&["journal", "status"]);
    v["lanes"][0]["state"].as_str().map(str::to_string)
}

#[test]
fn a_lock_file_that_is_a_symlink_is_refused_and_its_target_untouched() {
    let sb = Sandbox::for_runs("");
    let target = sb.write("precious.txt", "keep me");
    std::fs::create_dir_all(sb.path().join(".stagegate/locks")).unwrap();
    std::os::unix::fs::symlink(&target, sb.path().join(".stagegate/locks/dev.lock")).unwrap();
    let (code, out, err) = run(sb.sg(&["deploy", "--env", "dev", "--ref", "main", "--release", "1.0.0"]));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("dev.lock is a symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(target).unwrap(), "keep me");
    assert!(sb.hook_log().is_empty(), "nothing ran");
}
