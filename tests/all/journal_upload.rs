//! Uploading journals: who may, what a failure leaves behind, the version
//! endpoint under concurrency, the watch script, dry runs and change approval.

use std::process::Stdio;

use crate::support::journal::{Backend, Options, Pipeline};
use crate::support::s3::{BUCKET, Faults};
use crate::support::servicenow::{ServiceNow, change};

fn versions(p: &Pipeline) -> Vec<String> {
    let (code, v, err) = p.json(&["journal", "versions"]);
    assert_eq!(code, 0, "{err}");
    v["versions"].as_array().unwrap().iter().map(|v| v["version"].as_str().unwrap().to_string()).collect()
}

#[test]
fn upload_reports_version_sha256_and_size() {
    for backend in Backend::ALL {
        let p = Pipeline::new(backend);
        let file = p.sb.write("model.jnl", "hello journal");
        let (code, v, err) = p.json(&[
            "journal",
            "upload",
            file.to_str().unwrap(),
            "--cluster",
            "prod-modelling",
            "--mandators",
            "tech-head,business-head",
        ]);
        assert_eq!(code, 0, "{err}");
        let version = v["version"].as_str().unwrap();
        assert!(version.ends_with(".1.prod-modelling"), "{version}");
        assert_eq!(version.len(), "YYYYMMDD.1.prod-modelling".len());
        assert_eq!(v["size"], 13);
        use sha2::Digest;
        assert_eq!(v["sha256"].as_str().unwrap(), hex::encode(sha2::Sha256::digest(b"hello journal")));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "hello journal", "the local file stays");
        let (_, list, _) = p.json(&["journal", "versions"]);
        assert_eq!(list["versions"][0]["sha256"], v["sha256"]);
        assert_eq!(list["versions"][0]["size"], 13);
        assert!(list["versions"][0]["uploaded_at"].as_str().unwrap().contains('T'));
    }
}

#[test]
fn endpoint_precedence_flag_then_config_then_aws_endpoint_url() {
    let p = Pipeline::with(Backend::Remote, Options { endpoint_in_config: false, ..Options::default() });
    let v = p.upload("model.jnl", "via AWS_ENDPOINT_URL", "dev-modelling");
    assert!(p.object_path(&v, "model.jnl").exists());
    let p = Pipeline::new(Backend::Remote);
    let mut c = p.cmd();
    c.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9").args(["journal", "versions"]);
    assert_eq!(crate::support::run(c).0, 0, "journal.s3.endpoint overrides AWS_ENDPOINT_URL");
    // --endpoint-url wins over both.
    let (code, _, err) = p.run(&["journal", "versions", "--endpoint-url", "http://127.0.0.1:9"]);
    assert_eq!(code, 1, "{err}");
}

#[test]
fn a_read_only_cluster_cannot_upload() {
    for backend in Backend::ALL {
        let p = Pipeline::new(backend);
        let file = p.sb.write("model.jnl", "x");
        let path = file.to_str().unwrap();
        let (code, v, _) = p.json(&["journal", "upload", path, "--cluster", "qa-execution"]);
        assert_eq!(code, 3);
        assert!(v["error"]["message"].as_str().unwrap().contains("may not upload"), "{v}");
        // A writer, but not for this mandator.
        let (code, _, err) =
            p.run(&["journal", "upload", path, "--cluster", "dev-modelling", "--mandators", "business-head"]);
        assert_eq!(code, 3, "{err}");
        assert!(versions(&p).is_empty(), "{backend:?}: nothing stored");
    }
}

#[test]
fn a_missing_bucket_or_refused_credentials_fail_at_once_saying_what_to_check() {
    for (case, code_name, help) in [
        ("no bucket", "NoSuchBucket", "check the bucket of journal.store"),
        ("wrong secret", "SignatureDoesNotMatch", "AWS_SECRET_ACCESS_KEY"),
    ] {
        let mut p = Pipeline::with(Backend::Remote, Options { retries: 3, ..Options::default() });
        let file = p.sb.write("model.jnl", "precious journal");
        if case == "no bucket" {
            std::fs::remove_dir_all(p.s3.as_ref().unwrap().root.join(BUCKET)).unwrap();
        } else {
            p.wrong_secret();
        }
        let (code, v, err) = p.json(&["journal", "upload", file.to_str().unwrap(), "--cluster", "dev-modelling"]);
        assert_eq!(code, 1, "{case}: {err}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.contains("failed after 1 attempt(s)"), "{case}: {message}");
        assert!(message.contains(code_name), "{case}: {message}");
        assert!(v["error"]["help"].as_str().unwrap().contains(help), "{case}: {v}");
        assert!(!err.contains("retrying"), "{case}: {err}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious journal");
    }
}

#[test]
fn a_failed_upload_exits_1_and_keeps_the_file() {
    for backend in Backend::ALL {
        let mut p = Pipeline::with(backend, Options { retries: 1, ..Options::default() });
        let file = p.sb.write("model.jnl", "precious journal");
        match backend {
            Backend::Remote => p.wrong_secret(),
            // The store's directory cannot be created under a regular file.
            Backend::Files => {
                p.sb.write("store", "not a directory");
            }
        }
        let (code, v, err) = p.json(&["journal", "upload", file.to_str().unwrap(), "--cluster", "dev-modelling"]);
        assert_eq!(code, 1, "{backend:?}: {err}");
        let message = v["error"]["message"].as_str().unwrap();
        // Neither a refused signature nor a path that is not a directory
        // passes on another attempt: no retry.
        assert!(message.contains("failed after 1 attempt(s); the local file is untouched"), "{message}");
        assert!(!err.contains("retrying"), "{err}");
        if backend == Backend::Remote {
            assert!(message.contains("SignatureDoesNotMatch"), "{message}");
            assert!(!err.contains("not-the-secret") && !message.contains("not-the-secret"));
        }
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious journal");
    }
}

#[test]
fn an_upload_to_a_stopped_server_fails_cleanly() {
    let mut p = Pipeline::with(Backend::Remote, Options { retries: 1, ..Options::default() });
    let file = p.sb.write("model.jnl", "precious journal");
    p.s3.as_mut().unwrap().server.stop();
    let (code, v, err) = p.json(&["journal", "upload", file.to_str().unwrap(), "--cluster", "dev-modelling"]);
    assert_eq!(code, 1, "{err}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("the local file is untouched") && message.contains("Connection refused"), "{message}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious journal");
}

#[test]
fn a_large_journal_goes_up_in_parts_and_comes_back_whole() {
    for backend in Backend::ALL {
        let p = Pipeline::new(backend);
        // 40 MiB: above the multipart threshold, several parts in flight.
        let data: Vec<u8> = (0..40u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        let file = p.sb.write("big.jnl", &data);
        let (code, v, err) = p.json(&["journal", "upload", file.to_str().unwrap(), "--cluster", "dev-modelling"]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(v["size"], 40 << 20);
        let version = v["version"].as_str().unwrap().to_string();
        assert!(err.contains("upload big.jnl: 40%") && err.contains("upload big.jnl: 100%"), "CI log lines: {err}");
        assert_eq!(std::fs::read(p.object_path(&version, "big.jnl")).unwrap(), data);
        assert_eq!(p.run(&["journal", "seed"]).0, 0);
        let cmd = format!("cmp \"$STAGEGATE_JOURNAL_FILE\" {}", file.display());
        let (code, _, err) = p.run(&["journal", "watch", "--lane", "dev", "--exec", &cmd, "--once"]);
        assert_eq!(code, 0, "{backend:?}: {err}");
    }
}

#[test]
fn a_failed_multipart_upload_leaves_nothing_behind() {
    let p = Pipeline::with(
        Backend::Remote,
        Options { retries: 1, faults: Faults { fail_part: Some(2), ..Faults::default() }, ..Options::default() },
    );
    let data = vec![7u8; 24 << 20];
    let file = p.sb.write("big.jnl", &data);
    let (code, v, err) = p.json(&["journal", "upload", file.to_str().unwrap(), "--cluster", "dev-modelling"]);
    assert_eq!(code, 1, "{err}");
    assert!(v["error"]["message"].as_str().unwrap().contains("UploadPart"), "{v}");
    assert_eq!(std::fs::read(&file).unwrap(), data, "the local file stays");
    assert!(versions(&p).is_empty());
    // No object, and no part or pending upload left in the server's directory.
    let root = &p.s3.as_ref().unwrap().root;
    let mut left = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else if name.starts_with(".upload") || name == "big.jnl" {
                left.push(e.path());
            }
        }
    }
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn concurrent_uploads_are_all_in_the_version_endpoint() {
    // The file store's create-only and conditional writes are atomic; s3s-fs
    // checks preconditions without a lock, so this race runs on files only.
    let p = Pipeline::new(Backend::Files);
    let children: Vec<_> = (0..8)
        .map(|i| {
            let file = p.sb.write(&format!("j{i}.jnl"), format!("journal {i}"));
            let cluster = if i % 2 == 0 { "dev-modelling" } else { "prod-modelling" };
            let mut c = p.std_cmd();
            c.args(["journal", "upload", file.to_str().unwrap(), "--cluster", cluster]);
            c.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let list = versions(&p);
    let mut ns: Vec<u32> = list.iter().map(|v| v.split('.').nth(1).unwrap().parse().unwrap()).collect();
    ns.sort();
    assert_eq!(ns, (1..=8).collect::<Vec<_>>(), "every upload got its own N: {list:?}");
    let latest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path().join("store/latest.json")).unwrap()).unwrap();
    assert_eq!(latest["latest"]["version"], list[0].as_str());
    assert!(list[0].ends_with(latest["latest"]["cluster"].as_str().unwrap()));
    for cluster in ["dev-modelling", "prod-modelling"] {
        let newest = list.iter().find(|v| v.ends_with(cluster)).unwrap();
        assert_eq!(latest["clusters"][cluster]["version"], newest.as_str());
    }
}

#[test]
fn dry_run_uploads_and_seeds_nothing() {
    for backend in Backend::ALL {
        let p = Pipeline::new(backend);
        let file = p.sb.write("model.jnl", "x");
        let (code, out, err) =
            p.run(&["--dry-run", "journal", "upload", file.to_str().unwrap(), "--cluster", "dev-modelling"]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("would upload"), "{out}");
        assert!(out.contains("would create") && out.contains("latest.json"), "{out}");
        assert!(versions(&p).is_empty(), "{backend:?}");
        p.upload("model.jnl", "x", "dev-modelling");
        let (code, v, _) = p.json(&["--dry-run", "journal", "seed"]);
        assert_eq!(code, 0);
        assert!(v["effects"][0].as_str().unwrap().contains("in one transaction set"), "{v}");
        assert!(p.lanes().iter().all(|(_, version, _)| version.is_none()), "{backend:?}");
    }
}

#[test]
fn watch_dir_uploads_stable_new_and_changed_files_and_never_deletes() {
    for backend in Backend::ALL {
        let p = Pipeline::new(backend);
        let dir = p.path().join("export");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.jnl"), "A1").unwrap();
        std::fs::write(dir.join(".partial"), "hidden").unwrap();
        let watch = |p: &Pipeline| {
            p.json(&[
                "journal",
                "watch-dir",
                dir.to_str().unwrap(),
                "--cluster",
                "dev-modelling",
                "--once",
                "--interval",
                "100ms",
            ])
        };
        let (code, v, err) = watch(&p);
        assert_eq!(code, 0, "{err}");
        assert_eq!(v["uploaded"].as_array().unwrap().len(), 1, "{v}");
        // Remembered: nothing new on the next run.
        let (_, v, _) = watch(&p);
        assert!(v["uploaded"].as_array().unwrap().is_empty(), "{v}");
        // A changed file is a new version.
        std::fs::write(dir.join("a.jnl"), "A2 changed").unwrap();
        let (_, v, _) = watch(&p);
        assert_eq!(v["uploaded"].as_array().unwrap().len(), 1, "{v}");
        assert_eq!(versions(&p).len(), 2);
        assert_eq!(std::fs::read_to_string(dir.join("a.jnl")).unwrap(), "A2 changed");
        assert!(dir.join(".partial").exists());
    }
}

#[test]
fn watch_dir_keeps_a_file_it_could_not_upload_and_retries_it() {
    let mut p = Pipeline::with(Backend::Remote, Options { retries: 0, ..Options::default() });
    let dir = p.path().join("export");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.jnl"), "A").unwrap();
    let args =
        ["journal", "watch-dir", dir.to_str().unwrap(), "--cluster", "dev-modelling", "--once", "--interval", "100ms"];
    p.wrong_secret();
    let (code, v, _) = p.json(&args);
    assert_eq!(code, 1);
    assert_eq!(v["failed"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(std::fs::read_to_string(dir.join("a.jnl")).unwrap(), "A");
    p.right_secret();
    let (code, v, err) = p.json(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["uploaded"].as_array().unwrap().len(), 1, "{v}");
}

fn with_servicenow(sn: &ServiceNow) -> Pipeline {
    let extra = format!("  change_approval: servicenow\nservicenow:\n  instance: {}\n", sn.url);
    Pipeline::with(Backend::Files, Options { extra, ..Options::default() })
}

#[test]
fn servicenow_change_approval_gates_uploads() {
    let now = chrono::Utc::now();
    let fmt = |d: chrono::Duration| (now + d).format("%Y-%m-%d %H:%M:%S").to_string();
    let (open, close) = (fmt(chrono::Duration::hours(-1)), fmt(chrono::Duration::hours(1)));
    let sn = ServiceNow::start(vec![
        change("CHG0000001", "approved", "-1", &open, &close),
        change("CHG0000002", "requested", "-1", &open, &close),
        change("CHG0000003", "approved", "-2", &fmt(chrono::Duration::hours(2)), &fmt(chrono::Duration::hours(3))),
        change("CHG0000004", "approved", "3", &open, &close),
    ]);
    let p = with_servicenow(&sn);
    let file = p.sb.write("model.jnl", "x");
    let path = file.to_str().unwrap();
    let upload = |change: Option<&str>, password: &str| {
        let mut c = p.cmd();
        c.env("SERVICENOW_USER", &sn.user).env("SERVICENOW_PASSWORD", password).env_remove("SERVICENOW_TOKEN");
        c.args(["journal", "upload", path, "--cluster", "dev-modelling"]);
        if let Some(ch) = change {
            c.args(["--change", ch]);
        }
        crate::support::run_json(c)
    };
    let refused = |case: &str, local: &str, why: &str| {
        let Some(number) = sn.number(case, local) else { return };
        let (code, v, _) = upload(Some(&number), &sn.password);
        assert_eq!(code, 3, "{case}: {v}");
        assert!(v["error"]["message"].as_str().unwrap().contains(why), "{case}: {v}");
    };
    let (code, v, _) = upload(None, &sn.password);
    assert_eq!((code, v["error"]["code"].as_str()), (3, Some("stagegate::servicenow::change_required")));
    refused("requested", "CHG0000002", "not approved");
    refused("future", "CHG0000003", "may be implemented only from");
    refused("closed", "CHG0000004", "not scheduled or implementing");
    refused("missing", "CHG0009999", "does not exist");
    assert!(versions(&p).is_empty());
    let Some(approved) = sn.number("approved", "CHG0000001") else { return };
    let (code, v, err) = upload(Some(&approved), "wrong-password");
    assert_eq!(code, 1);
    assert!(v["error"]["code"] == "stagegate::servicenow::auth", "{v}");
    assert!(!err.contains("wrong-password") && !v.to_string().contains("wrong-password"));
    let (code, v, err) = upload(Some(&approved), &sn.password);
    assert_eq!(code, 0, "{err}");
    let (_, list, _) = p.json(&["journal", "versions"]);
    assert_eq!(list["versions"][0]["change"], approved.as_str());
    assert_eq!(list["versions"][0]["version"], v["version"]);
}
