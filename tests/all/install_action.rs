//! scripts/install-action.sh and scripts/locate-action.sh, run directly: a
//! release asset (the static musl build on Linux) is verified and replaces a
//! stale binary; with the GitHub CLI, its build provenance is verified too; a
//! failed download or verification says why (no release, no network,
//! checksum, no attestation) and falls back to `cargo install --force`; the
//! cache key follows the action's ref and source.

use std::path::Path;
use std::process::Command;

use crate::support::act::{self, ACTION_REPO};
use crate::support::repo_root;

struct Install {
    code: i32,
    out: String,
    cargo: String,
    gh: String,
}

/// Runs install-action.sh for version `version` against `server`, with the
/// cargo stand-in of tests/act/bin first on PATH.
fn install(server: &str, version: &str, dest: &Path) -> Install {
    install_with(server, version, dest, None)
}

const TOKEN: &str = "ghs_installtoken0123456789";

/// [`install`], with the gh stand-in of tests/act/bin as the GitHub CLI,
/// answering `verdict` (`pass` or `fail`) when given.
fn install_with(server: &str, version: &str, dest: &Path, gh: Option<&str>) -> Install {
    let work = tempfile::tempdir().unwrap();
    let cargo_log = work.path().join("cargo.log");
    let gh_log = work.path().join("gh.log");
    let path = format!("{}:{}", repo_root().join("tests/act/bin").display(), std::env::var("PATH").unwrap());
    let mut cmd = Command::new("bash");
    if let Some(verdict) = gh {
        cmd.env("STAGEGATE_TEST_GH", repo_root().join("tests/act/bin/gh"))
            .env("STAGEGATE_TEST_GH_VERDICT", verdict)
            .env("STAGEGATE_TEST_GH_LOG", &gh_log);
    }
    let out = cmd
        .arg(repo_root().join("scripts/install-action.sh"))
        .env("PATH", path)
        .env("STAGEGATE_VERSION", version)
        .env("STAGEGATE_INSTALL_DIR", dest)
        .env("STAGEGATE_ACTION_REPOSITORY", ACTION_REPO)
        .env("STAGEGATE_RUNNER_OS", "Linux")
        .env("STAGEGATE_RUNNER_ARCH", if cfg!(target_arch = "aarch64") { "ARM64" } else { "X64" })
        .env("GITHUB_SERVER_URL", server)
        .env("GITHUB_ACTION_PATH", repo_root())
        .env("STAGEGATE_TEST_CARGO_LOG", &cargo_log)
        .env("STAGEGATE_TEST_BINARY", env!("CARGO_BIN_EXE_stagegate"))
        .env("STAGEGATE_GH_TOKEN", TOKEN)
        .output()
        .unwrap();
    Install {
        code: out.status.code().unwrap_or(-1),
        out: format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        cargo: std::fs::read_to_string(cargo_log).unwrap_or_default(),
        gh: std::fs::read_to_string(gh_log).unwrap_or_default(),
    }
}

fn stale(dest: &Path) {
    std::fs::create_dir_all(dest.join("bin")).unwrap();
    std::fs::write(dest.join("bin/stagegate"), "#!/bin/sh\necho stale\n").unwrap();
}

fn is_the_test_binary(dest: &Path) -> bool {
    std::fs::read(dest.join("bin/stagegate")).unwrap() == std::fs::read(env!("CARGO_BIN_EXE_stagegate")).unwrap()
}

#[test]
fn a_verified_release_asset_replaces_a_stale_binary() {
    let releases = act::release_server(act::release_files("0.1.0", true));
    let dest = tempfile::tempdir().unwrap();
    stale(dest.path());
    let r = install(&releases.server.url(), "0.1.0", dest.path());
    assert_eq!(r.code, 0, "{}", r.out);
    assert!(r.out.contains("installed from the release asset") && r.out.contains("sha256 verified"), "{}", r.out);
    assert!(r.cargo.is_empty(), "no build: {}", r.cargo);
    assert!(is_the_test_binary(dest.path()), "the stale binary was not replaced");
}

#[test]
fn with_gh_the_build_provenance_is_verified_too() {
    let releases = act::release_server(act::release_files("0.1.0", true));
    let dest = tempfile::tempdir().unwrap();
    let r = install_with(&releases.server.url(), "0.1.0", dest.path(), Some("pass"));
    assert_eq!(r.code, 0, "{}", r.out);
    assert!(r.out.contains("sha256 verified, build provenance verified"), "{}", r.out);
    let asset = format!("stagegate-{}.tar.gz", act::host_target());
    let line = r.gh.lines().next().unwrap_or_default();
    assert!(line.starts_with("gh attestation verify ") && line.contains(&asset), "{}", r.gh);
    let signer = format!("--repo {ACTION_REPO} --signer-workflow {ACTION_REPO}/.github/workflows/ci.yml");
    assert!(line.ends_with(&signer), "the attestation must come from the action's release workflow: {line}");
    assert!(r.gh.contains(&format!("GH_TOKEN={TOKEN}")), "gh gets the token: {}", r.gh);
    assert!(r.cargo.is_empty(), "no build: {}", r.cargo);
    assert!(is_the_test_binary(dest.path()));
}

#[test]
fn an_asset_without_a_verified_attestation_is_not_used() {
    let releases = act::release_server(act::release_files("0.1.0", true));
    let dest = tempfile::tempdir().unwrap();
    stale(dest.path());
    let r = install_with(&releases.server.url(), "0.1.0", dest.path(), Some("fail"));
    assert_eq!(r.code, 0, "{}", r.out);
    assert!(r.out.contains("::warning::gh attestation verify found no build provenance"), "{}", r.out);
    assert!(r.out.contains("no matching attestations found"), "gh's reason is shown: {}", r.out);
    assert!(!r.out.contains("installed from the release asset"), "{}", r.out);
    assert!(r.cargo.contains("install --locked --force"), "built from source instead: {}", r.cargo);
    assert!(!r.out.contains(TOKEN), "the token stays out of the log");
}

#[test]
fn the_token_reaches_gh_alone() {
    // The cargo stand-in logs the credentials in its environment: a source
    // build after a failed verification must see none.
    let releases = act::release_server(act::release_files("0.1.0", true));
    let dest = tempfile::tempdir().unwrap();
    let r = install_with(&releases.server.url(), "0.1.0", dest.path(), Some("fail"));
    assert!(r.gh.contains(TOKEN), "{}", r.gh);
    assert!(r.cargo.contains("install --locked --force"), "{}", r.cargo);
    assert!(!r.cargo.contains(TOKEN), "cargo got the token: {}", r.cargo);
}

#[test]
fn no_such_release_is_named_and_the_source_build_overwrites() {
    let releases = act::release_server(act::release_files("0.1.0", true));
    let dest = tempfile::tempdir().unwrap();
    stale(dest.path());
    let r = install(&releases.server.url(), "9.9.9", dest.path());
    assert_eq!(r.code, 0, "{}", r.out);
    assert!(r.out.contains("HTTP 404: no such release"), "{}", r.out);
    assert!(!r.out.contains("network"), "{}", r.out);
    assert!(r.cargo.contains("install --locked --force"), "{}", r.cargo);
    assert!(is_the_test_binary(dest.path()));
}

#[test]
fn no_network_is_named_as_such() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dest = tempfile::tempdir().unwrap();
    let r = install(&format!("http://127.0.0.1:{port}"), "0.1.0", dest.path());
    assert_eq!(r.code, 0, "{}", r.out);
    assert!(r.out.contains("(network: "), "{}", r.out);
    assert!(!r.out.contains("HTTP 404"), "{}", r.out);
    assert!(r.cargo.contains("--force"), "{}", r.cargo);
}

#[test]
fn a_checksum_mismatch_is_named_and_the_asset_is_not_used() {
    let releases = act::release_server(act::release_files("0.1.0", false));
    let dest = tempfile::tempdir().unwrap();
    let r = install(&releases.server.url(), "0.1.0", dest.path());
    assert_eq!(r.code, 0, "{}", r.out);
    assert!(r.out.contains("::warning::checksum mismatch"), "{}", r.out);
    assert!(r.cargo.contains("--force"), "built from source instead: {}", r.cargo);
}

/// `key` and `dir` as locate-action.sh writes them for `action_ref` and source `src`.
fn locate(src: &Path, action_ref: &str) -> (String, String) {
    let work = tempfile::tempdir().unwrap();
    let out_file = work.path().join("out");
    let ok = Command::new("bash")
        .arg(repo_root().join("scripts/locate-action.sh"))
        .env("STAGEGATE_VERSION", "0.1.0")
        .env("STAGEGATE_ACTION_REF", action_ref)
        .env("STAGEGATE_TOOL_CACHE", "/opt/tool-cache")
        .env("STAGEGATE_RUNNER_OS", "Linux")
        .env("STAGEGATE_RUNNER_ARCH", "X64")
        .env("GITHUB_ACTION_PATH", src)
        .env("GITHUB_OUTPUT", &out_file)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let text = std::fs::read_to_string(out_file).unwrap();
    let get = |k: &str| text.lines().find_map(|l| l.strip_prefix(&format!("{k}="))).unwrap().to_owned();
    (get("key"), get("dir"))
}

#[test]
fn the_cache_key_follows_the_action_ref_and_its_source() {
    let src = tempfile::tempdir().unwrap();
    for f in ["Cargo.toml", "Cargo.lock", "src/main.rs"] {
        std::fs::create_dir_all(src.path().join(f).parent().unwrap()).unwrap();
        std::fs::write(src.path().join(f), f).unwrap();
    }
    let (k1, d1) = locate(src.path(), "v1");
    let (k2, _) = locate(src.path(), "v2");
    assert!(k1.starts_with("stagegate-0.1.0-v1-") && k1.ends_with("-Linux-X64"), "{k1}");
    assert_ne!(k1, k2, "another action ref, another key");
    // The same ref (a moved branch or tag) with other source: another key and directory.
    std::fs::write(src.path().join("src/main.rs"), "changed").unwrap();
    let (k3, d3) = locate(src.path(), "v1");
    assert_ne!(k1, k3);
    assert_ne!(d1, d3);
    // So is a change in a library crate of the workspace.
    std::fs::create_dir_all(src.path().join("crates/stagegate-core/src")).unwrap();
    std::fs::write(src.path().join("crates/stagegate-core/src/lib.rs"), "core").unwrap();
    assert_ne!(locate(src.path(), "v1").0, k3, "the core's source is part of the key");
    assert!(d1.starts_with("/opt/tool-cache/stagegate/0.1.0-"), "{d1}");
    // Commas are not allowed in cache keys.
    let (k4, _) = locate(src.path(), "a,b");
    assert!(!k4.contains(','), "{k4}");
}

/// Every key stagegate writes to $GITHUB_OUTPUT (`output("key", …)` in a
/// command's answer, or `set_output("key", …)`, in src/) is an output of
/// action.yml, or a consumer cannot read it.
#[test]
fn every_output_stagegate_writes_is_declared_in_action_yml() {
    let action: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(repo_root().join("action.yml")).unwrap()).unwrap();
    let declared = action["outputs"].as_object().unwrap();
    let mut written = std::collections::BTreeSet::new();
    let mut dirs = vec![repo_root().join("src")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for part in text.split("output(\"").skip(1) {
                    written.insert(part.split('"').next().unwrap().to_owned());
                }
            }
        }
    }
    assert!(written.len() >= 6, "{written:?}");
    for key in &written {
        assert!(declared.contains_key(key), "stagegate writes output `{key}`, action.yml does not declare it");
        assert_eq!(declared[key]["value"], format!("${{{{ steps.run.outputs.{key} }}}}"), "{key}");
    }
}

/// The demo names a missing python3 as such (not as a taken port).
#[test]
fn the_demo_says_python3_is_missing() {
    let bin = tempfile::tempdir().unwrap();
    for tool in ["dirname", "mktemp", "rm", "cat"] {
        let which = Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().unwrap();
        let path = String::from_utf8_lossy(&which.stdout).trim().to_owned();
        std::os::unix::fs::symlink(path, bin.path().join(tool)).unwrap();
    }
    let out = Command::new("/bin/bash")
        .arg(repo_root().join("scripts/demo.sh"))
        .env("PATH", bin.path())
        .env("STAGEGATE_BIN", env!("CARGO_BIN_EXE_stagegate"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("python3 is not installed"), "{err}");
    assert!(!err.contains("port"), "{err}");
}
