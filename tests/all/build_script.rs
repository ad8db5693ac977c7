//! build.rs in a fresh `git init` checkout: a second build with no change
//! compiles nothing (with and without `.git/packed-refs`), and a new commit
//! still reaches `--version`.
//!
//! The checkout is a minimal crate built with the project's own build.rs and
//! a `main` that prints what build.rs gave it: what is under test is when
//! cargo reruns the build script, not the project's dependencies, so each
//! build takes a second or two instead of minutes.

use std::path::Path;
use std::process::Command;

use crate::support::repo_root;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=stagegate tests",
            "-c",
            "user.email=tests@example.com",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A crate with the project's build.rs, committed in a fresh repository.
fn checkout(dir: &Path) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::copy(repo_root().join("build.rs"), dir.join("build.rs")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"probe\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), "fn main() { println!(\"{}\", env!(\"STAGEGATE_VERSION\")); }\n").unwrap();
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "first"]);
}

/// `cargo build`; the units it compiled (not fresh).
fn build(dir: &Path) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--offline", "--message-format=json"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("STAGEGATE_COMMIT")
        .env_remove("GIT_DIR")
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo build: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|m| m["reason"] == "compiler-artifact" && m["fresh"] == false)
        .map(|m| m["target"]["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn version(dir: &Path) -> String {
    let out = Command::new(dir.join("target/debug/probe")).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn head(dir: &Path) -> String {
    git(dir, &["rev-parse", "--short=12", "HEAD"])
}

#[test]
fn a_second_build_compiles_nothing_and_a_commit_still_reaches_the_version() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    checkout(dir);
    assert!(!dir.join(".git/packed-refs").exists(), "a fresh `git init` has no packed-refs");
    assert!(build(dir).contains(&"probe".to_string()), "the first build compiles the binary");
    assert_eq!(version(dir), format!("0.1.0 ({})", head(dir)));
    assert_eq!(build(dir), Vec::<String>::new(), "a second build with no change compiled something");

    git(dir, &["commit", "-q", "--allow-empty", "-m", "second"]);
    assert!(build(dir).contains(&"probe".to_string()), "a new commit rebuilds");
    assert_eq!(version(dir), format!("0.1.0 ({})", head(dir)));
    assert_eq!(build(dir), Vec::<String>::new());

    // Packed refs: the branch's loose ref is gone until the next commit.
    git(dir, &["pack-refs", "--all"]);
    assert!(dir.join(".git/packed-refs").exists() && !dir.join(".git/refs/heads/main").exists());
    build(dir);
    assert_eq!(build(dir), Vec::<String>::new(), "no change with packed refs compiled something");
    git(dir, &["commit", "-q", "--allow-empty", "-m", "third"]);
    assert!(build(dir).contains(&"probe".to_string()), "a commit on a packed branch rebuilds");
    assert_eq!(version(dir), format!("0.1.0 ({})", head(dir)));
    assert_eq!(build(dir), Vec::<String>::new());
}
