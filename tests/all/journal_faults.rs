//! Fault injection on the journal pipeline's peers: an S3 server answering
//! 500 / 503 SlowDown at random, one killed in the middle of a multipart upload,
//! and a Consul agent restarted (and restored from an old snapshot) under a
//! running watcher. Asserted is what a user would notice: exit codes, the local
//! file, what the store lists and holds, what the import command saw.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::support::journal::{Backend, Options, Pipeline};
use crate::support::s3::{Chaos, Faults};

/// Bytes that differ from one offset to the next, so a misplaced part shows.
fn journal_bytes(len: usize, salt: u32) -> Vec<u8> {
    (0..len as u32).map(|i| (i.wrapping_add(salt).wrapping_mul(2_654_435_761) >> 24) as u8).collect()
}

fn sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// `journal upload FILE` as JSON, with extra environment.
fn upload(p: &Pipeline, file: &Path, env: &[(&str, &str)]) -> (i32, serde_json::Value, String) {
    let mut c = p.cmd();
    for (k, v) in env {
        c.env(k, v);
    }
    c.args(["journal", "upload", file.to_str().unwrap(), "--cluster", "dev-modelling"]);
    crate::support::run_json(c)
}

/// Every regular file under `dir` (none if it does not exist).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(d) else { continue };
        for e in entries {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

/// The store lists exactly the uploads that succeeded, newest first, each with
/// its sha256 and size, and every journal object it holds (listed or left by a
/// failed attempt) is a whole copy of a file that was uploaded: never a part.
fn assert_consistent(p: &Pipeline, succeeded: &[(String, Vec<u8>)], attempted: &[Vec<u8>]) {
    let (code, v, err) = p.json(&["journal", "versions"]);
    assert_eq!(code, 0, "{err}");
    let listed: Vec<(String, String, u64)> = v["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (m["version"].as_str().unwrap().into(), m["sha256"].as_str().unwrap().into(), m["size"].as_u64().unwrap())
        })
        .collect();
    let want: Vec<(String, String, u64)> =
        succeeded.iter().rev().map(|(v, data)| (v.clone(), sha256(data), data.len() as u64)).collect();
    assert_eq!(listed, want, "journal versions lists exactly the successful uploads");
    let journals = p.s3.as_ref().unwrap().object_path("safer-payments/journals");
    let hashes: Vec<String> = attempted.iter().map(|d| sha256(d)).collect();
    for f in files_under(&journals) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if name == "manifest.json" || name.starts_with('.') {
            continue;
        }
        let got = sha256(&std::fs::read(&f).unwrap());
        assert!(hashes.contains(&got), "{} is not a whole journal", f.display());
    }
}

#[test]
fn uploads_survive_random_500_and_503_slowdown() {
    // Seeded, so a failure can be replayed; 30% of requests fail, but never the
    // same request twice in a row.
    let chaos = Chaos::new(0x5EED_0008, 300);
    let faults = Faults { chaos: Some(chaos.clone()), ..Faults::default() };
    let p = Pipeline::with(Backend::Remote, Options { faults, ..Options::default() });
    let mut succeeded = Vec::new();
    let mut attempted = Vec::new();
    // Small ones (one PUT) and one above the multipart threshold (3 parts).
    for (name, len) in [("a.jnl", 1000), ("big.jnl", 20 << 20), ("b.jnl", 5000), ("c.jnl", 70_000)] {
        let data = journal_bytes(len, attempted.len() as u32);
        let file = p.sb.write(name, &data);
        attempted.push(data.clone());
        let (code, v, err) = upload(&p, &file, &[]);
        match code {
            0 => succeeded.push((v["version"].as_str().unwrap().to_string(), data.clone())),
            1 => assert!(v["error"]["message"].as_str().unwrap().contains("the local file is untouched"), "{v}"),
            _ => panic!("{name}: exit {code}: {err}"),
        }
        assert_eq!(std::fs::read(&file).unwrap(), data, "{name}: the local file stays as it was");
    }
    assert!(chaos.injected() >= 3, "the server misbehaved ({} faults)", chaos.injected());
    assert!(!succeeded.is_empty(), "retries carry uploads through transient faults");
    // Read under chaos, `journal versions` is right or fails; it never lists half.
    let (code, v, _) = p.json(&["journal", "versions"]);
    assert!(code == 0 || code == 1, "{v}");
    if code == 0 {
        assert_eq!(v["versions"].as_array().unwrap().len(), succeeded.len(), "{v}");
    }
    chaos.set_rate(0);
    assert_consistent(&p, &succeeded, &attempted);

    // The newest journal reaches its lane whole, even when downloads fail at random.
    assert_eq!(p.run(&["journal", "seed"]).0, 0);
    chaos.set_rate(300);
    let (newest, data) = succeeded.last().unwrap().clone();
    let expected = p.sb.write("expected.jnl", &data);
    let log = p.path().join("imported.log");
    let cmd = format!(
        "cmp \"$STAGEGATE_JOURNAL_FILE\" {} && echo \"$STAGEGATE_JOURNAL_VERSION\" >> {}",
        expected.display(),
        log.display()
    );
    let mut imported = false;
    for _ in 0..10 {
        let (code, _, err) = p.run(&["journal", "watch", "--lane", "dev", "--exec", &cmd, "--once"]);
        assert!(code == 0 || code == 1, "{err}");
        if code == 0 {
            imported = true;
            break;
        }
    }
    assert!(imported, "a failed download is tried again");
    let log = std::fs::read_to_string(&log).unwrap();
    assert_eq!(log.lines().collect::<Vec<_>>(), [newest.as_str()], "imported once, and only after it matched");

    // Every request fails: retries run out, exit 1, the file is kept, nothing new is listed.
    chaos.set_rate(1000);
    let late = journal_bytes(3000, 99);
    let file = p.sb.write("late.jnl", &late);
    attempted.push(late.clone());
    let (code, v, err) = upload(&p, &file, &[("AWS_MAX_ATTEMPTS", "1")]);
    assert_eq!(code, 1, "{err}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("failed after 3 attempt(s); the local file is untouched"), "{message}");
    assert!(message.contains("SlowDown"), "{message}");
    assert_eq!(std::fs::read(&file).unwrap(), late);
    chaos.set_rate(0);
    assert_consistent(&p, &succeeded, &attempted);
}

#[test]
fn s3_killed_mid_multipart_leaves_nothing_and_a_retry_succeeds() {
    let (tx, reached) = std::sync::mpsc::channel();
    let faults = Faults { hang_at_part: Some((2, tx)), ..Faults::default() };
    let mut p = Pipeline::with(Backend::Remote, Options { retries: 1, faults, ..Options::default() });
    // 24 MiB: 3 parts, all in flight at once.
    let data = journal_bytes(24 << 20, 7);
    let file = p.sb.write("big.jnl", &data);
    let mut c = p.std_cmd();
    c.env("AWS_MAX_ATTEMPTS", "1")
        .args(["--output", "json", "journal", "upload", file.to_str().unwrap(), "--cluster", "dev-modelling"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = c.spawn().unwrap();
    reached.recv_timeout(Duration::from_secs(120)).expect("the upload reaches its second part");
    // The server dies with the upload half done.
    p.s3.as_mut().unwrap().server.stop();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert!(v["error"]["message"].as_str().unwrap().contains("the local file is untouched"), "{v}");
    assert_eq!(std::fs::read(&file).unwrap(), data, "the local file stays");

    // Back on the same port and directory: nothing of the upload is visible.
    p.s3.as_mut().unwrap().restart(Faults::default());
    assert_consistent(&p, &[], &[]);
    let objects = files_under(&p.s3.as_ref().unwrap().object_path("safer-payments"));
    assert!(!objects.iter().any(|f| f.ends_with("big.jnl")), "{objects:?}");

    let (code, v, err) = upload(&p, &file, &[]);
    assert_eq!(code, 0, "{err}");
    let version = v["version"].as_str().unwrap().to_string();
    assert_eq!(std::fs::read(p.object_path(&version, "big.jnl")).unwrap(), data);
    assert_consistent(&p, &[(version, data.clone())], &[data]);
}

#[test]
fn a_watcher_survives_a_consul_restart_and_a_snapshot_restore() {
    if std::env::var("CONSUL_HTTP_ADDR").is_ok_and(|a| !a.is_empty()) {
        return; // stopping, restarting and restoring is only possible on the test server
    }
    let mut p = Pipeline::new(Backend::Remote);
    let v1 = p.upload("a.jnl", "A", "dev-modelling");
    let v2 = p.upload("b.jnl", "B", "dev-modelling");
    let v3 = p.upload("c.jnl", "C", "dev-modelling");
    assert_eq!(p.run(&["journal", "seed"]).0, 0);
    let cmd = p.import_cmd();
    let mut c = p.std_cmd();
    c.args(["journal", "watch", "--lane", "dev", "--exec", &cmd]);
    let watcher = c.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    assert_eq!(p.wait_for_imports(1), [format!("dev {v3} C")]);
    p.wait_until_imported("dev", &v3);
    let key = format!("{}/journal_version/dev", p.prefix);

    // The agent restarts; while it is down, the lane is moved to v1. The
    // watcher's blocked query is cut; it must reconnect and not miss the change.
    let consul = p.consul.as_mut().unwrap();
    consul.stop();
    consul.set(&key, &v1);
    consul.start_again();
    assert_eq!(p.wait_for_imports(2)[1], format!("dev {v1} A"));
    p.wait_until_imported("dev", &v1);

    // A snapshot restore: every index drops below the watcher's. It starts over
    // from 0, sees v1 again (already imported: not run again), then the change.
    let consul = p.consul.as_mut().unwrap();
    consul.restore_snapshot();
    consul.set(&key, &v2);
    assert_eq!(p.wait_for_imports(3)[2], format!("dev {v2} B"));
    p.wait_until_imported("dev", &v2);

    // A last change after all that: anything duplicated would have come before it.
    let v4 = p.upload("d.jnl", "D", "dev-modelling");
    p.consul.as_mut().unwrap().set(&key, &v4);
    let imports = p.wait_for_imports(4);
    p.wait_until_imported("dev", &v4);
    let _ = std::process::Command::new("kill").arg("-TERM").arg(watcher.id().to_string()).status();
    let out = watcher.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(
        p.imports(),
        [format!("dev {v3} C"), format!("dev {v1} A"), format!("dev {v2} B"), format!("dev {v4} D")],
        "no import missed, none twice: {err}"
    );
    assert_eq!(imports.len(), 4);
}
