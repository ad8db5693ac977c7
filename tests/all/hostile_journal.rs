//! The journal pipeline under hostile conditions: links in its directories
//! are refused, a journal that changes while it is uploaded is never
//! published, a manifest that disagrees with where it lives is never
//! imported, damaged KV and endpoint documents are never overwritten, and
//! `watch-dir` says what it skips.

use std::os::unix::fs::symlink;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::hostile_fs::snapshot;
use crate::support::journal::{Backend, Options, Pipeline};
use crate::support::s3::{BeforeRequest, Faults};

#[test]
fn a_linked_download_dir_is_refused_and_nothing_is_imported() {
    let p = Pipeline::new(Backend::Files);
    p.upload("model-1.jnl", "journal one", "dev-modelling");
    assert_eq!(p.run(&["journal", "seed"]).0, 0);
    let outside = p.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::create_dir_all(p.path().join(".stagegate")).unwrap();
    symlink(&outside, p.path().join(".stagegate/journal-downloads")).unwrap();
    let (code, out, err) = p.run(&["journal", "watch", "--lane", "dev", "--once", "--exec", &p.import_cmd()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("journal-downloads") && err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0, "wrote through the link");
    assert!(p.imports().is_empty());
}

#[test]
fn links_in_the_file_store_and_kv_are_refused_and_their_targets_untouched() {
    for (link, content) in [("kv/kv.json", r#"{"index": 0, "keys": {}}"#), ("store/latest.json", r#"{"latest": null}"#)]
    {
        let p = Pipeline::new(Backend::Files);
        p.upload("model-1.jnl", "journal one", "dev-modelling");
        let target = p.sb.write("outside.json", content);
        let path = p.path().join(link);
        let _ = std::fs::remove_file(&path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        symlink(&target, &path).unwrap();
        let (code, out, err) = if link.starts_with("kv") {
            p.run(&["journal", "seed"])
        } else {
            p.run(&["journal", "upload", "model-1.jnl", "--cluster", "dev-modelling"])
        };
        assert_eq!(code, 1, "{link}: {out}{err}");
        assert!(err.contains(link) && err.contains("symbolic link"), "{link}: {err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), content);
        assert!(std::fs::symlink_metadata(&path).unwrap().is_symlink(), "{link}: the link was replaced");
    }
}

#[test]
fn damaged_kv_and_endpoint_documents_are_never_overwritten() {
    for (file, text) in [("kv/kv.json", "[]"), ("kv/kv.json", "{\"x\":1}"), ("store/latest.json", "{\"x\":1}")] {
        let p = Pipeline::new(Backend::Files);
        p.upload("model-1.jnl", "journal one", "dev-modelling");
        let path = p.sb.write(file, text);
        let (code, out, err) = if file.starts_with("kv") {
            p.run(&["journal", "seed"])
        } else {
            p.run(&["journal", "upload", "model-1.jnl", "--cluster", "dev-modelling"])
        };
        assert_eq!(code, 1, "{file} = {text}: {out}{err}");
        assert!(err.contains("damaged"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "{file} overwritten");
    }
}

#[test]
fn a_journal_that_changes_while_it_is_uploaded_is_never_published() {
    let changed = Arc::new(AtomicBool::new(false));
    let journal = Arc::new(std::sync::Mutex::new(None::<std::path::PathBuf>));
    let before = {
        let (changed, journal) = (changed.clone(), journal.clone());
        Arc::new(move |method: &hyper::Method, path: &str| {
            // The exporter writes on while the journal's bytes are on their way.
            if method == hyper::Method::PUT && path.ends_with("/model.jnl") && !changed.swap(true, Ordering::SeqCst) {
                let file = journal.lock().unwrap().clone().unwrap();
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new().append(true).open(file).unwrap();
                f.write_all(b" and more").unwrap();
            }
        }) as BeforeRequest
    };
    let opts = Options { faults: Faults { before: Some(before), ..Faults::default() }, ..Options::default() };
    let p = Pipeline::with(Backend::Remote, opts);
    let file = p.sb.write("model.jnl", "a journal");
    *journal.lock().unwrap() = Some(file.clone());
    let (code, out, err) = p.run(&["journal", "upload", "model.jnl", "--cluster", "dev-modelling"]);
    assert!(changed.load(Ordering::SeqCst), "the peer never saw the upload");
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("changed while it was uploaded"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "a journal and more", "the local file is kept");
    // Nothing of it in the bucket, and no version listed.
    let objects = snapshot(&p.path().join("s3"));
    let stored: Vec<_> = objects
        .iter()
        .filter(|(k, content)| content.is_some() && k.to_string_lossy().contains("safer-payments/journals/"))
        .map(|(k, _)| k)
        .collect();
    assert!(stored.is_empty(), "visible in the store: {stored:?}");
    let (code, v, _) = p.json(&["journal", "versions"]);
    assert_eq!(code, 0);
    assert_eq!(v["versions"].as_array().unwrap().len(), 0, "{v}");
}

#[test]
fn a_manifest_that_disagrees_with_where_it_lives_is_never_imported() {
    let edits: &[(&str, &str)] =
        &[("cluster", "prod-modelling"), ("version", "20200101.1.dev-modelling"), ("file", "other.jnl")];
    for (field, value) in edits {
        let p = Pipeline::new(Backend::Files);
        let v = p.upload("model-1.jnl", "journal one", "dev-modelling");
        assert_eq!(p.run(&["journal", "seed"]).0, 0);
        let manifest = p.path().join(format!("store/journals/{v}/manifest.json"));
        let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
        m[*field] = serde_json::json!(value);
        std::fs::write(&manifest, serde_json::to_vec(&m).unwrap()).unwrap();
        let (code, out, err) = p.run(&["journal", "watch", "--lane", "dev", "--once", "--exec", &p.import_cmd()]);
        assert_eq!(code, 1, "{field}: {out}{err}");
        assert!(err.contains("damaged"), "{field}: {err}");
        assert!(p.imports().is_empty(), "{field}: imported");
        let (code, _, err) = p.run(&["journal", "versions"]);
        assert_eq!(code, 1, "{field}: {err}");
    }
}

#[test]
fn watch_dir_says_which_files_it_skips_and_why() {
    let p = Pipeline::new(Backend::Files);
    p.sb.write("export/model-1.jnl", "journal one");
    p.sb.write("export/.hidden.jnl", "x");
    p.sb.write("export/model-2.jnl.part", "x");
    p.sb.write("export/bad name.jnl", "x");
    p.sb.write("secret.txt", "not a journal");
    symlink(p.path().join("secret.txt"), p.path().join("export/linked.jnl")).unwrap();
    std::fs::create_dir(p.path().join("export/sub")).unwrap();
    let (code, v, err) =
        p.json(&["journal", "watch-dir", "export", "--cluster", "dev-modelling", "--once", "--interval", "50ms"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["uploaded"].as_array().unwrap().len(), 1, "{v}");
    let skipped: Vec<(String, String)> = v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["file"].as_str().unwrap().to_string(), s["reason"].as_str().unwrap().to_string()))
        .collect();
    for (name, why) in [
        (".hidden.jnl", "hidden"),
        ("model-2.jnl.part", "partial"),
        ("bad name.jnl", "not a valid journal file name"),
        ("linked.jnl", "symbolic link"),
        ("sub", "directory"),
    ] {
        let hit = skipped.iter().find(|(f, _)| f.ends_with(&format!("/{name}")));
        assert!(hit.is_some_and(|(_, r)| r.contains(why)), "{name}: {skipped:?}");
        assert!(err.contains(&format!("skipped export/{name}: ")), "{name} not said on stderr: {err}");
    }
    let (_, versions, _) = p.json(&["journal", "versions"]);
    assert_eq!(versions["versions"].as_array().unwrap().len(), 1, "the link was uploaded: {versions}");
}

#[test]
fn file_names_in_the_export_directory_never_become_workflow_commands() {
    let p = Pipeline::new(Backend::Files);
    // Linux file names may hold a newline: a skipped file's name starts a new line.
    p.sb.write("export/x\n::error title=pwned::pwned", "x");
    p.sb.write("export/model-1.jnl", "journal one");
    let mut c = p.cmd();
    c.env("GITHUB_ACTIONS", "true").args([
        "journal",
        "watch-dir",
        "export",
        "--cluster",
        "dev-modelling",
        "--once",
        "--interval",
        "50ms",
    ]);
    let (code, out, err) = crate::support::run(c);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("pwned") && err.contains("uploaded export/model-1.jnl"), "the lines are still said: {err}");
    let live: Vec<String> = crate::hostile_input::live_commands(&out)
        .into_iter()
        .chain(crate::hostile_input::live_commands(&err))
        .collect();
    assert!(live.is_empty(), "{live:?}\n{out}\n{err}");
}
