//! The console sessions of the README and the book are what the binary prints.
//!
//! Every ```` ```console ```` block of a page is run by `trycmd`, in order, as one
//! session: `$ stagegate …` lines are commands (a `? N` line under one is its exit
//! code), the lines after it the output, `[..]` anything within a line and `...`
//! any lines (times, durations, process ids). Each page runs in a directory of its
//! own on the embedded default config and the local forge, on a clock that moves a
//! minute per command from 2026-11-21 10:00 UTC, with the example hooks
//! and no Actions environment, as a newcomer's shell would. Blocks that cannot run
//! here (GitHub, a clock at a given time) are ```` ```text ````.
//!
//! After a deliberate change of output: `TRYCMD=overwrite cargo test --test all
//! docs_console`, then review the diff of the pages (wildcards that still match are
//! kept).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::{Sandbox, demo_port, repo_root};

/// The pages with console sessions: the README and every chapter that has one.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![repo_root().join("README.md")];
    let mut chapters: Vec<PathBuf> = std::fs::read_dir(repo_root().join("docs/src"))
        .expect("docs/src exists")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    chapters.sort();
    pages.extend(chapters);
    pages.retain(|p| std::fs::read_to_string(p).is_ok_and(|t| t.lines().any(|l| l.trim_start() == "```console")));
    pages
}

/// The directory a page's session runs in: the example hooks the embedded
/// default config names (`sh examples/hooks/…`) and the files the pages name
/// (`docs/src/files/`, e.g. `broken.yml`), nothing else.
fn session_dir() -> Sandbox {
    let sb = Sandbox::new();
    copy_tree(&repo_root().join("examples/hooks"), &sb.path().join("examples/hooks"));
    copy_tree(&repo_root().join("docs/src/files"), sb.path());
    sb
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a directory in the sandbox");
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let path = entry.expect("a directory entry").path();
        let target = to.join(path.file_name().expect("a file name"));
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
}

/// `stagegate` as the pages call it: run in `dir`, without the Actions and
/// stagegate variables of whoever runs the tests, as user `newcomer`, on a
/// clock that starts at 2026-11-21 10:00 UTC and moves one minute per command —
/// so recorded times, ages, wait timers and calver dates are the same on every
/// run, and each review or deployment comes after the one before.
fn wrapper(dir: &Path) -> PathBuf {
    let quote = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', r"'\''"));
    let script = format!(
        "#!/bin/sh\n\
         for v in $(env | cut -d= -f1 | grep -E '^(GITHUB_[A-Za-z0-9_]*|STAGEGATE_[A-Za-z0-9_]*|RUNNER_TEMP)$'); do unset \"$v\"; done\n\
         cd {dir} || exit 1\n\
         n=$(cat .bin/minutes 2>/dev/null || echo 0)\n\
         echo $((n + 1)) > .bin/minutes\n\
         export STAGEGATE_NOW=$(printf '2026-11-21T%02d:%02d:00Z' $((10 + n / 60)) $((n % 60)))\n\
         export NO_COLOR=1 USER=newcomer\n\
         unset COLUMNS\n\
         exec {bin} \"$@\"\n",
        dir = quote(dir),
        bin = quote(&assert_cmd::cargo::cargo_bin("stagegate")),
    );
    let path = dir.join(".bin/stagegate");
    std::fs::create_dir_all(dir.join(".bin")).expect("a directory for the wrapper");
    std::fs::write(&path, script).expect("the wrapper writes");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("the wrapper runs");
    path
}

/// Stops the demo web server a page's deploy hook started, so the port is free
/// for the next user.
fn stop_demo_server(dir: &Path) {
    let Ok(pid) = std::fs::read_to_string(dir.join(".stagegate/demo/server.pid")) else { return };
    let _ = std::process::Command::new("kill").arg(pid.trim()).status();
}

#[test]
fn the_console_sessions_of_the_readme_and_the_book_are_what_stagegate_prints() {
    let pages = pages();
    assert!(pages.len() >= 3, "console sessions in the README and the book: {pages:?}");
    // The example hooks serve health pages on the demo's fixed port.
    let _port = demo_port();
    for page in pages {
        crate::support::wait_until_the_demo_port_is_free();
        let dir = session_dir();
        let bin = wrapper(dir.path());
        let cases = trycmd::TestCases::new();
        cases.register_bin("stagegate", bin).case(&page);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cases.run()));
        stop_demo_server(dir.path());
        if let Err(panic) = outcome {
            eprintln!("in {}", page.display());
            std::panic::resume_unwind(panic);
        }
    }
}
