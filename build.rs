//! `stagegate --version` names the commit it was built from: `0.1.0 (3f2c1a9e4b7d)`.
//! Read from git when the build runs in this repository's own checkout; a
//! build elsewhere (`cargo install` from the crate) says the version alone,
//! unless the packager sets STAGEGATE_COMMIT.
//!
//! Cargo reruns a build script whose `rerun-if-changed` path does not exist
//! on every build, and a rerun recompiles the binary: so only paths that exist
//! are watched (a fresh `git init` has no `packed-refs`; a packed branch has no
//! loose ref file until its next commit).
// clippy.toml refuses printing outside stagegate_core::console;
// build scripts speak to cargo on stdout.
#![allow(clippy::disallowed_macros, clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &str, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().ok().filter(|o| o.status.success())?;
    let text = String::from_utf8(out.stdout).ok()?;
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The absolute path of `name` in the git directory (the worktree's own for
/// HEAD, the common one for refs).
fn git_path(dir: &str, name: &str) -> Option<PathBuf> {
    git(dir, &["rev-parse", "--path-format=absolute", "--git-path", name]).map(PathBuf::from)
}

/// Watch `path`; if it does not exist (yet), the nearest directory above it
/// that does, up to `stop`, so that its creation is still seen.
fn watch(path: &Path, stop: &Path) {
    let mut p = path;
    while !p.exists() {
        match p.parent() {
            Some(parent) if parent.starts_with(stop) => p = parent,
            _ => return,
        }
    }
    println!("cargo:rerun-if-changed={}", p.display());
}

/// The checkout's commit, if this crate is the top of a git work tree (not a
/// crate unpacked inside some other repository).
fn commit(manifest_dir: &Path) -> Option<String> {
    let dir = manifest_dir.to_str()?;
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != manifest_dir.canonicalize().ok()? {
        return None;
    }
    // Rebuild when HEAD moves: HEAD itself, the branch it names (a loose ref,
    // or the refs directory where the next commit creates it), packed refs.
    if let Some(head) = git_path(dir, "HEAD") {
        watch(&head, &head);
    }
    if let Some(packed) = git_path(dir, "packed-refs").filter(|p| p.exists()) {
        watch(&packed, &packed);
    }
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"])
        && let Some(loose) = git_path(dir, &branch)
        && let Some(refs) = git_path(dir, "refs")
    {
        watch(&loose, &refs);
    }
    git(dir, &["rev-parse", "--short=12", "HEAD"])
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=STAGEGATE_COMMIT");
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let commit = std::env::var("STAGEGATE_COMMIT")
        .ok()
        .filter(|c| !c.is_empty() && c.chars().all(|c| c.is_ascii_hexdigit()))
        .or_else(|| commit(Path::new(&manifest_dir)));
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let long = match commit {
        Some(c) => format!("{version} ({c})"),
        None => version,
    };
    println!("cargo:rustc-env=STAGEGATE_VERSION={long}");
}
