//! The seed-000 flow end to end, on both backends: uploads, seed, watchers
//! importing the right versions, promotion dev → qa → dit; and the ways it must
//! not go wrong: a corrupted download, a crashed or restarted watcher, racing
//! promotions.

use std::process::{Child, Stdio};

use crate::support::journal::{Backend, Pipeline};

fn spawn(p: &Pipeline, args: &[&str]) -> Child {
    let mut c = p.std_cmd();
    c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    c.spawn().expect("spawns")
}

fn lane(p: &Pipeline, name: &str) -> (Option<String>, Option<String>) {
    let l = p.lanes().into_iter().find(|(l, _, _)| l == name).expect("lane listed");
    (l.1, l.2)
}

fn watch_once(p: &Pipeline, lane: &str) -> (i32, String, String) {
    let cmd = p.import_cmd();
    p.run(&["journal", "watch", "--lane", lane, "--exec", &cmd, "--once"])
}

#[test]
fn seed_000_flow_end_to_end() {
    for backend in Backend::ALL {
        let p = Pipeline::new(backend);
        let v1 = p.upload("model-1.jnl", "journal one", "dev-modelling");
        let v2 = p.upload("model-2.jnl", "journal two", "prod-modelling");
        let v3 = p.upload("model-3.jnl", "journal three", "dev-modelling");

        let (code, list, _) = p.json(&["journal", "versions"]);
        assert_eq!(code, 0);
        let listed: Vec<&str> =
            list["versions"].as_array().unwrap().iter().map(|v| v["version"].as_str().unwrap()).collect();
        assert_eq!(listed, [v3.as_str(), v2.as_str(), v1.as_str()], "{backend:?}: newest first");
        assert_eq!(list["versions"][1]["cluster"], "prod-modelling");
        assert_eq!(list["versions"][0]["file"], "model-3.jnl");

        let (code, seeded, err) = p.json(&["journal", "seed"]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(seeded["lanes"][0]["version"], v3.as_str());

        // Three watchers at once, each importing its lane's version.
        let cmd = p.import_cmd();
        let watchers: Vec<Child> = ["dev", "qa", "dit"]
            .iter()
            .map(|l| spawn(&p, &["journal", "watch", "--lane", l, "--exec", &cmd, "--once"]))
            .collect();
        for w in watchers {
            let out = w.wait_with_output().unwrap();
            assert!(out.status.success(), "{backend:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
        let mut imports = p.imports();
        imports.sort();
        let mut want =
            vec![format!("dev {v3} journal three"), format!("qa {v2} journal two"), format!("dit {v1} journal one")];
        want.sort();
        assert_eq!(imports, want, "{backend:?}");
        for (l, v) in [("dev", &v3), ("qa", &v2), ("dit", &v1)] {
            assert_eq!(lane(&p, l), (Some(v.clone()), Some("imported".into())), "{backend:?} {l}");
        }

        // dev → qa → dit, each only after the source lane imported it.
        let (code, promoted, err) = p.json(&["journal", "promote", "--from", "dev", "--to", "qa"]);
        assert_eq!(code, 0, "{err}");
        assert_eq!((promoted["version"].as_str(), promoted["changed"].as_bool()), (Some(v3.as_str()), Some(true)));
        assert_eq!(lane(&p, "qa"), (Some(v3.clone()), None), "{backend:?}: qa waits for its import");
        // qa has not imported v3 yet, so dit still gets v2 — qa's last good import.
        assert_eq!(watch_once(&p, "qa").0, 0);
        let (code, _, err) = p.run(&["journal", "promote", "--from", "qa", "--to", "dit"]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(watch_once(&p, "dit").0, 0);
        for l in ["dev", "qa", "dit"] {
            assert_eq!(lane(&p, l), (Some(v3.clone()), Some("imported".into())), "{backend:?} {l}");
        }
        assert_eq!(p.imports().len(), 5, "{backend:?}: {:?}", p.imports());
        assert_eq!(p.imports()[3..], [format!("qa {v3} journal three"), format!("dit {v3} journal three")]);
    }
}

#[test]
fn daemon_watchers_follow_seed_and_promotion() {
    for backend in Backend::ALL {
        let p = Pipeline::new(backend);
        let cmd = p.import_cmd();
        let mut watchers: Vec<Child> = ["dev", "qa", "dit"]
            .iter()
            .map(|l| spawn(&p, &["journal", "watch", "--lane", l, "--exec", &cmd]))
            .collect();
        let v1 = p.upload("a.jnl", "A", "dev-modelling");
        let v2 = p.upload("b.jnl", "B", "dev-modelling");
        let v3 = p.upload("c.jnl", "C", "dev-modelling");
        assert_eq!(p.run(&["journal", "seed"]).0, 0);
        let mut imports = p.wait_for_imports(3);
        imports.sort();
        assert_eq!(imports, [format!("dev {v3} C"), format!("dit {v1} A"), format!("qa {v2} B")], "{backend:?}");
        // The import command has run; promotion waits for the watcher to record it.
        p.wait_until_imported("dev", &v3);
        assert_eq!(p.run(&["journal", "promote", "--from", "dev", "--to", "qa"]).0, 0);
        let imports = p.wait_for_imports(4);
        assert_eq!(imports.last().unwrap(), &format!("qa {v3} C"), "{backend:?}");
        for w in &mut watchers {
            let _ = std::process::Command::new("kill").arg("-TERM").arg(w.id().to_string()).status();
        }
        for w in watchers {
            let out = w.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        assert_eq!(p.imports().len(), 4, "{backend:?}: nothing imported twice");
    }
}

#[test]
fn a_corrupted_download_is_never_imported() {
    for backend in Backend::ALL {
        let p = Pipeline::new(backend);
        let v1 = p.upload("model.jnl", "the real journal", "dev-modelling");
        assert_eq!(p.run(&["journal", "seed"]).0, 0);
        std::fs::write(p.object_path(&v1, "model.jnl"), "a forged journal").unwrap();
        let cmd = p.import_cmd();
        let (code, v, err) = p.json(&["journal", "watch", "--lane", "dev", "--exec", &cmd, "--once"]);
        assert_eq!(code, 1, "{backend:?}: {err}");
        let message = v["error"]["message"].as_str().unwrap_or_else(|| panic!("{backend:?} {v} {err}"));
        assert!(message.contains("does not match its manifest"), "{message}");
        assert!(p.imports().is_empty(), "{backend:?}: {:?}", p.imports());
        assert_eq!(lane(&p, "dev"), (Some(v1.clone()), Some("failed".into())));
        // Asking again does not import it either.
        let (code, out, _) = watch_once(&p, "dev");
        assert_eq!(code, 0);
        assert!(out.contains("failed before"), "{out}");
        assert!(p.imports().is_empty());
    }
}

#[test]
fn a_download_that_cannot_be_had_is_tried_again() {
    let mut p = Pipeline::new(Backend::Remote);
    let v1 = p.upload("one.jnl", "1", "dev-modelling");
    assert_eq!(p.run(&["journal", "seed"]).0, 0);
    p.wrong_secret();
    let (code, _, err) = watch_once(&p, "dev");
    assert_eq!(code, 1, "{err}");
    p.right_secret();
    assert_eq!(lane(&p, "dev"), (Some(v1.clone()), Some("failed".into())));
    assert!(p.imports().is_empty());
    // The import never ran, so the next pass downloads and imports it.
    assert_eq!(watch_once(&p, "dev").0, 0);
    assert_eq!(p.imports(), [format!("dev {v1} 1")]);
    assert_eq!(lane(&p, "dev"), (Some(v1), Some("imported".into())));
}

/// Refused credentials do not heal by waiting: the daemon says why and exits 1
/// instead of retrying for ever (the guard below only keeps a regression from
/// hanging the suite).
#[test]
fn a_watch_daemon_stops_when_the_store_refuses_its_credentials() {
    let mut p = Pipeline::new(Backend::Remote);
    p.upload("one.jnl", "1", "dev-modelling");
    assert_eq!(p.run(&["journal", "seed"]).0, 0);
    p.wrong_secret();
    let mut child = spawn(&p, &["journal", "watch", "--lane", "dev", "--exec", &p.import_cmd()]);
    let guard = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > guard {
            child.kill().unwrap();
            panic!("the watch daemon kept retrying a refused request");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("SignatureDoesNotMatch") && err.contains("AWS_SECRET_ACCESS_KEY"), "{err}");
    assert!(!err.contains("retrying in"), "{err}");
}

#[test]
fn a_restarted_watcher_does_not_import_twice() {
    for backend in Backend::ALL {
        let p = Pipeline::new(backend);
        let v1 = p.upload("one.jnl", "1", "dev-modelling");
        assert_eq!(p.run(&["journal", "seed"]).0, 0);
        assert_eq!(watch_once(&p, "dev").0, 0);
        let (code, out, _) = watch_once(&p, "dev");
        assert_eq!(code, 0);
        assert!(out.contains("already imported"), "{out}");
        assert_eq!(p.imports(), [format!("dev {v1} 1")], "{backend:?}");

        // A watcher that dies in the middle of an import leaves a claim behind…
        let v2 = p.upload("two.jnl", "2", "dev-modelling");
        assert_eq!(p.run(&["journal", "seed"]).0, 0);
        let crash = format!("{}; kill -9 $PPID", p.import_cmd());
        let (code, _, _) = p.run(&["journal", "watch", "--lane", "dev", "--exec", &crash, "--once"]);
        assert_ne!(code, 0, "the watcher was killed");
        assert_eq!(lane(&p, "dev"), (Some(v2.clone()), Some("importing".into())));
        // …whose import command ran: whether it completed is unknown, so the
        // restarted watcher does not import it again, however often it restarts.
        let (code, out, _) = loop {
            // The import's shell may take a moment to exit after the kill.
            let r = watch_once(&p, "dev");
            if !r.1.contains("is being imported by") {
                break r;
            }
        };
        assert_eq!(code, 1, "{backend:?}: {out}");
        assert!(out.contains("needs attention"), "{out}");
        assert_eq!(lane(&p, "dev"), (Some(v2.clone()), Some("interrupted".into())));
        assert_eq!(watch_once(&p, "dev").0, 1);
        let imports = p.imports();
        assert_eq!(imports.iter().filter(|l| l.contains(&v2)).count(), 1, "{imports:?}");
        assert_eq!(imports.len(), 2, "{backend:?}: {imports:?}");
    }
}

/// Ten promotions at once, on each backend: one moves the version, the others
/// find it moved (exit 0, nothing changed) or lose the check-and-set (exit 3).
#[test]
fn racing_promotions_have_exactly_one_winner() {
    for backend in Backend::ALL {
        let p = Pipeline::new(backend);
        p.upload("1.jnl", "1", "dev-modelling");
        p.upload("2.jnl", "2", "dev-modelling");
        let v3 = p.upload("3.jnl", "3", "dev-modelling");
        assert_eq!(p.run(&["journal", "seed"]).0, 0);
        assert_eq!(watch_once(&p, "dev").0, 0);
        let racers: Vec<Child> = (0..10)
            .map(|_| spawn(&p, &["--output", "json", "journal", "promote", "--from", "dev", "--to", "qa"]))
            .collect();
        let mut winners = 0;
        for r in racers {
            let out = r.wait_with_output().unwrap();
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
            match out.status.code() {
                Some(0) if v["changed"] == true => winners += 1,
                Some(0) => assert_eq!(v["changed"], false),
                Some(3) => assert!(v["error"]["message"].as_str().unwrap().contains("changed while promoting")),
                other => panic!("{other:?}: {}", String::from_utf8_lossy(&out.stderr)),
            }
        }
        assert_eq!(winners, 1, "{backend:?}");
        assert_eq!(lane(&p, "qa").0, Some(v3));
    }
}

#[test]
fn promotion_is_refused_without_a_successful_import() {
    for backend in Backend::ALL {
        let p = Pipeline::new(backend);
        p.upload("1.jnl", "1", "dev-modelling");
        p.upload("2.jnl", "2", "dev-modelling");
        assert_eq!(p.run(&["journal", "seed"]).0, 0);
        let (code, _, err) = p.run(&["journal", "promote", "--from", "dev", "--to", "qa"]);
        assert_eq!(code, 3, "{err}");
        assert!(err.contains("no successfully imported version"), "{err}");
        let (code, _, err) = p.run(&["journal", "promote", "--from", "dev", "--to", "dit"]);
        assert_eq!(code, 3, "{err}");
        assert_eq!(p.run(&["journal", "promote", "--from", "dev", "--to", "prod"]).0, 2);
        // A failed import is not promotable either.
        let (code, _, _) = p.run(&["journal", "watch", "--lane", "dev", "--exec", "exit 7", "--once"]);
        assert_eq!(code, 1);
        assert_eq!(lane(&p, "dev").1.as_deref(), Some("failed"));
        assert_eq!(p.run(&["journal", "promote", "--from", "dev", "--to", "qa"]).0, 3);
    }
}
