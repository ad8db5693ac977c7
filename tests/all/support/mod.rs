//! Shared helpers: run the real binary in an isolated directory.

pub mod consul;
pub mod http;
pub mod journal;
pub mod s3;
pub mod servicenow;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn example(name: &str) -> PathBuf {
    repo_root().join("examples").join(name)
}

/// A fresh working directory, so no test sees another's `.stagegate/`.
pub struct Sandbox {
    pub dir: TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        p
    }

    /// `stagegate` run in the sandbox, with the Actions environment removed so a
    /// developer's or CI's variables cannot change the outcome.
    pub fn cmd(&self) -> Command {
        Command::from_std(self.std_cmd())
    }

    /// [`Sandbox::cmd`] as a `std::process::Command`, for spawning in the background.
    pub fn std_cmd(&self) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("stagegate"));
        c.current_dir(self.path());
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().to_string();
            if k.starts_with("GITHUB_") || k.starts_with("STAGEGATE_") || k == "RUNNER_TEMP" {
                c.env_remove(&k);
            }
        }
        c.env("NO_COLOR", "1");
        c
    }

    /// `stagegate -c examples/seed-environments.yml …`
    pub fn seed(&self) -> Command {
        let mut c = self.cmd();
        c.arg("-c").arg(example("seed-environments.yml"));
        c
    }
}

/// Runs a command and returns (exit code, stdout, stderr).
pub fn run(mut cmd: Command) -> (i32, String, String) {
    let out = cmd.output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs with `--output json` and parses stdout as the one JSON document.
pub fn run_json(mut cmd: Command) -> (i32, serde_json::Value, String) {
    cmd.arg("--output").arg("json");
    let (code, out, err) = run(cmd);
    let v = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{out}\nstderr:\n{err}"));
    (code, v, err)
}
