//! `stagegate --version` names the commit it was built from: `0.1.0 (3f2c1a9e4b7d)`.
//! Read from git when the build runs in this repository's own checkout; a
//! build elsewhere (`cargo install` from the crate) says the version alone,
//! unless the packager sets STAGEGATE_COMMIT.
// clippy.toml refuses printing outside stagegate_core::console;
// build scripts speak to cargo on stdout.
#![allow(clippy::disallowed_macros, clippy::disallowed_methods)]

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok().filter(|o| o.status.success())?;
    let text = String::from_utf8(out.stdout).ok()?;
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The checkout's commit, if this crate is the top of a git work tree (not a
/// crate unpacked inside some other repository).
fn commit(manifest_dir: &Path) -> Option<String> {
    let top = git(&["-C", manifest_dir.to_str()?, "rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != manifest_dir.canonicalize().ok()? {
        return None;
    }
    // Rebuild when HEAD moves: HEAD itself, the branch it names, packed refs.
    for path in ["HEAD", "packed-refs"] {
        if let Some(p) = git(&["-C", manifest_dir.to_str()?, "rev-parse", "--path-format=absolute", "--git-path", path])
        {
            println!("cargo:rerun-if-changed={p}");
        }
    }
    if let Some(branch) = git(&["-C", manifest_dir.to_str()?, "symbolic-ref", "-q", "HEAD"])
        && let Some(p) =
            git(&["-C", manifest_dir.to_str()?, "rev-parse", "--path-format=absolute", "--git-path", &branch])
    {
        println!("cargo:rerun-if-changed={p}");
    }
    git(&["-C", manifest_dir.to_str()?, "rev-parse", "--short=12", "HEAD"])
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
