//! Files the repository controls are data, never a path to somewhere else:
//! a symbolic link anywhere in the state directory is refused with exit 1 and
//! its target left alone; state that parses but is not stagegate's is damaged
//! (exit 1, never overwritten); an audit line is written whole or not at all;
//! `--dry-run` leaves every byte where it was.

use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use crate::support::journal::{Backend, Pipeline};
use crate::support::{SHORT_TIMEOUTS, Sandbox, run};

const EMPTY_FORGE: &str = r#"{"approvals": [], "tags": [], "releases": [], "next_release_id": 0, "environments": {}}"#;

fn deploy(sb: &Sandbox, release: &str) -> (i32, String) {
    let (code, out, err) = run(sb.sg(&["deploy", "--env", "dev", "--ref", "release/v1", "--release", release]));
    (code, format!("{out}{err}"))
}

/// Every file and directory under `dir`, with the files' bytes and the
/// links' targets: what "nothing changed" compares.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(dir).unwrap().to_path_buf();
            if meta.is_symlink() {
                out.insert(rel, Some(std::fs::read_link(&p).unwrap().into_os_string().into_encoded_bytes()));
            } else if meta.is_dir() {
                out.insert(rel, None);
                stack.push(p);
            } else {
                out.insert(rel, Some(std::fs::read(&p).unwrap()));
            }
        }
    }
    out
}

#[test]
fn links_in_the_state_dir_are_refused_and_their_targets_untouched() {
    // (what is linked, what it points at)
    for (link, target_is_dir) in
        [(".stagegate/forge.json", false), (".stagegate/audit.jsonl", false), (".stagegate", true)]
    {
        let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
        let target = sb.path().join("outside");
        if target_is_dir {
            std::fs::create_dir(&target).unwrap();
        } else {
            // Valid state, so only the link can be the reason for a refusal.
            std::fs::write(&target, if link.ends_with("forge.json") { EMPTY_FORGE } else { "" }).unwrap();
        }
        let before = snapshot(sb.path());
        std::fs::create_dir_all(sb.path().join(".stagegate")).unwrap();
        if link == ".stagegate" {
            std::fs::remove_dir(sb.path().join(".stagegate")).unwrap();
        }
        symlink(&target, sb.path().join(link)).unwrap();
        let (code, out) = deploy(&sb, "1.0.0");
        assert_eq!(code, 1, "{link}: {out}");
        assert!(out.contains(link) && out.contains("symbolic link"), "{link}: the message names the path: {out}");
        assert!(sb.hook_log().is_empty(), "{link}: no hook may run: {:?}", sb.hook_log());
        let mut after = snapshot(sb.path());
        after.retain(|p, _| before.contains_key(p));
        assert_eq!(after, before, "{link}: the link's target changed");
    }
}

#[test]
fn damaged_forge_state_is_refused_and_never_overwritten() {
    let dup = format!(
        r#"{{"approvals": [], "tags": [], "releases": [], "next_release_id": 0, "environments": {{}}, "deployments": [{d}, {d}]}}"#,
        d = r#"{"id": 1, "environment": "dev", "release": "1.0.0", "ref": null, "sha": null, "creator": "a", "description": "", "run_id": "local", "from": null, "rollback_of": null, "at": "2026-11-21T08:00:00Z", "statuses": []}"#
    );
    for text in ["[]", "{\"x\":1}", "{}", "", "null", &dup] {
        let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
        let path = sb.write(".stagegate/forge.json", text);
        let (code, out) = deploy(&sb, "1.0.0");
        assert_eq!(code, 1, "{text}: {out}");
        assert!(out.contains("is damaged"), "{text}: {out}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "{text}: overwritten");
        let (code, out, err) = run(sb.sg(&["approve", "--env", "prod", "--as", "alice"]));
        assert_eq!(code, 1, "{text}: {out}{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "{text}: overwritten");
    }
}

#[test]
fn an_append_after_a_torn_audit_line_leaves_every_whole_line_parseable() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    assert_eq!(deploy(&sb, "1.0.0").0, 0);
    let audit = sb.path().join(".stagegate/audit.jsonl");
    // A crash mid-append: half a line, no newline.
    let mut text = std::fs::read_to_string(&audit).unwrap();
    text.push_str("{\"at\": \"2026-11-21T08:0");
    std::fs::write(&audit, &text).unwrap();
    assert_eq!(deploy(&sb, "1.1.0").0, 0);
    let text = std::fs::read_to_string(&audit).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[1], "{\"at\": \"2026-11-21T08:0", "the torn line is kept, on its own");
    for i in [0, 2] {
        let v: serde_json::Value = serde_json::from_str(lines[i]).unwrap_or_else(|e| panic!("line {i}: {e}\n{text}"));
        assert_eq!(v["command"], "deploy");
    }
    assert!(text.ends_with('\n'));
}

#[test]
fn a_dry_run_leaves_the_state_dir_byte_identical() {
    let sb = Sandbox::for_runs(SHORT_TIMEOUTS);
    for r in ["1.0.0", "1.1.0"] {
        assert_eq!(deploy(&sb, r).0, 0);
    }
    let before = snapshot(sb.path());
    let cases: &[&[&str]] = &[
        &["deploy", "--env", "dev", "--ref", "release/v1", "--release", "1.2.0"],
        &["rollback", "--env", "dev"],
        &["promote", "--from", "dev", "--to", "staging", "--release", "1.1.0"],
        &["approve", "--env", "prod", "--as", "alice"],
        &["team", "@acme/sre", "--add", "bob"],
    ];
    for args in cases {
        let mut c = sb.sg(args);
        c.arg("--dry-run");
        let (code, out, err) = run(c);
        assert!(code == 0 || code == 3, "{args:?}: {out}{err}");
        assert_eq!(snapshot(sb.path()), before, "{args:?} --dry-run wrote something");
    }
}

#[test]
fn a_dry_run_of_the_journal_pipeline_writes_nothing() {
    let p = Pipeline::new(Backend::Files);
    let v = p.upload("model-1.jnl", "journal one", "dev-modelling");
    assert_eq!(p.run(&["journal", "seed"]).0, 0);
    p.sb.write("export/model-2.jnl", "journal two");
    let before = snapshot(p.path());
    let cmd = p.import_cmd();
    let cases: &[&[&str]] = &[
        &["journal", "upload", "model-1.jnl", "--cluster", "dev-modelling"],
        &["journal", "watch-dir", "export", "--cluster", "dev-modelling", "--once", "--interval", "50ms"],
        &["journal", "seed"],
        &["journal", "watch", "--lane", "dev", "--once", "--exec", &cmd],
        &["journal", "promote", "--from", "dev", "--to", "qa"],
    ];
    for args in cases {
        let mut all = vec!["--dry-run"];
        all.extend_from_slice(args);
        let (code, out, err) = p.run(&all);
        assert!(code == 0 || code == 3, "{args:?}: {out}{err}");
        assert_eq!(snapshot(p.path()), before, "{args:?} --dry-run wrote something");
    }
    assert!(p.imports().is_empty(), "a dry run imported {v}");
}

#[test]
fn the_demo_hooks_refuse_a_linked_state_path() {
    for (hook, linked) in [("backup.sh", "demo"), ("rollback.sh", "demo/backup"), ("deploy.sh", "demo/www")] {
        let sb = Sandbox::new();
        let state = sb.path().join("state");
        let outside = sb.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        let link = state.join(linked);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        symlink(&outside, &link).unwrap();
        let out = std::process::Command::new("sh")
            .arg(crate::support::example("hooks").join(hook))
            .env("STAGEGATE_STATE_DIR", &state)
            .env("STAGEGATE_ENV", "dev")
            .env("STAGEGATE_RELEASE", "1.0.0")
            .env("STAGEGATE_REF", "refs/heads/main")
            .env("STAGEGATE_PREVIOUS_RELEASE", "")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{hook}: {err}");
        assert!(err.contains("symbolic link") && err.contains(linked), "{hook}: {err}");
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0, "{hook} wrote through the link");
    }
}

#[test]
fn init_never_writes_through_a_link_nor_waits_on_a_fifo_in_the_repository() {
    let init = |sb: &Sandbox, extra: &[&str]| {
        let mut c = sb.cmd();
        c.arg("init").arg("--dir").arg(sb.path()).args(["--action", crate::init::TEMPLATE_ACTION]).args(extra);
        run(c)
    };
    // `.github/workflows` a link to a directory outside the repository.
    let sb = Sandbox::new();
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir(sb.path().join(".github")).unwrap();
    symlink(outside.path(), sb.path().join(".github/workflows")).unwrap();
    for extra in [&[][..], &["--force"][..], &["--check"][..]] {
        let (code, out, err) = init(&sb, extra);
        assert_eq!(code, 2, "{extra:?}: {out}{err}");
        assert!(err.contains("symbolic link"), "{extra:?}: {err}");
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0, "{extra:?}: wrote through the link");
    }
    // A workflow that is a link to a file outside: not followed, not replaced.
    let sb = Sandbox::new();
    let target = sb.write("outside.txt", "keep");
    std::fs::create_dir_all(sb.path().join(".github/workflows")).unwrap();
    symlink(&target, sb.path().join(".github/workflows/rollback.yml")).unwrap();
    let (code, _, err) = init(&sb, &["--force"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    assert!(std::fs::symlink_metadata(sb.path().join(".github/workflows/rollback.yml")).unwrap().is_symlink());
    // A FIFO where a workflow goes is refused at once, never waited on.
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.path().join(".github/workflows")).unwrap();
    let fifo = sb.path().join(".github/workflows/promote-release.yml");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let (code, _, err) = init(&sb, &["--check"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("FIFO") || err.contains("not a regular file"), "{err}");
}
