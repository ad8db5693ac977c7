//! Shared helpers: run the real binary in an isolated directory.

pub mod act;
pub mod consul;
pub mod github;
pub mod github_app;
mod github_deploy;
mod github_envs;
mod github_git;
mod github_graphql;
pub mod http;
pub mod journal;
pub mod s3;
pub mod serve;
pub mod servicenow;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The example hooks' demo web server listens on a fixed port (47811), so a test
/// whose hooks start it holds this for as long as the server may run: a lock on
/// a file in the temporary directory, which every test process on the machine
/// (other checkouts' too) takes before it binds that port. Another process's
/// server on the port would answer this test's health checks, and stop under it.
pub struct DemoPort {
    _file: std::fs::File,
}

pub fn demo_port() -> DemoPort {
    let path = std::env::temp_dir().join("stagegate-demo-port-47811.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    file.lock().unwrap_or_else(|e| panic!("lock {}: {e}", path.display()));
    wait_until_the_demo_port_is_free();
    DemoPort { _file: file }
}

/// Waits until nothing listens on the demo's port, so the example hooks' server
/// is this test's own, never a demo of another checkout (whose tests may not
/// take the lock). Bounded: after two minutes the test says why it cannot run.
pub fn wait_until_the_demo_port_is_free() {
    for _ in 0..1200 {
        if std::net::TcpStream::connect(("127.0.0.1", 47811)).is_err() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("127.0.0.1:47811 stayed taken for two minutes: another demo holds the port the example hooks serve on");
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

    /// `stagegate -c examples/seed-environments.yml …` as a std command.
    pub fn std_seed(&self) -> std::process::Command {
        let mut c = self.std_cmd();
        c.arg("-c").arg(example("seed-environments.yml"));
        c
    }

    /// `stagegate -c examples/seed-environments.yml …`
    pub fn seed(&self) -> Command {
        Command::from_std(self.std_seed())
    }
}

/// The `$GITHUB_OUTPUT` file as the runner reads it: `name=value` lines and
/// `name<<DELIM` … `DELIM` blocks, in order.
pub fn outputs(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delim)) = line.split_once("<<") {
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delim).collect();
            out.push((name.to_string(), value.join("\n")));
        } else if let Some((name, value)) = line.split_once('=') {
            out.push((name.to_string(), value.to_string()));
        }
    }
    out
}

/// `(name, value)` pairs, for comparing with [`outputs`].
pub fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
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

/// `stagegate -c CFG check --output json`: its exit code and each
/// diagnostic as (line, column, message).
pub fn check_diagnostics(sb: &Sandbox, cfg: &Path) -> (i32, Vec<(u64, u64, String)>) {
    let mut cmd = sb.cmd();
    cmd.arg("-c").arg(cfg).arg("check");
    let (code, json, _) = run_json(cmd);
    let diags = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["line"].as_u64().unwrap(), d["column"].as_u64().unwrap(), d["message"].as_str().unwrap().into()))
        .collect();
    (code, diags)
}

/// A tiny health endpoint for promotion tests: answers 200 while the file
/// `healthy` exists in `dir` (hooks create and remove it), 503 otherwise.
pub fn health_server(dir: &Path) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let port = listener.local_addr().unwrap().port();
    let flag = dir.join("healthy");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 2048];
            let _ = s.read(&mut buf);
            let status = if flag.exists() { "200 OK" } else { "503 Service Unavailable" };
            let _ = write!(s, "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    port
}

/// A config for run tests: dev → staging → prod, staging health-checked on
/// `port`, prod behind two approvals; hooks log to `hooks.log` in the sandbox,
/// and the deploy hook makes the app healthy unless the release id contains `bad`.
pub fn run_config(port: u16, extra_steps: &str) -> String {
    run_config_with(port, "", extra_steps)
}

/// `run_config` with more keys for staging (`staging_extra`, indented 4).
pub fn run_config_with(port: u16, staging_extra: &str, extra_steps: &str) -> String {
    format!(
        r#"version: 1
environments:
  dev: {{ branches: [main, "release/*"], auto_deploy: true }}
  staging:
    branches: ["release/*"]
{staging_extra}    health:
      - {{ http: "http://127.0.0.1:{port}/healthz", expect: 200 }}
  prod:
    branches: ["release/*"]
    approvals: {{ required: 2, reviewers: ["@alice", "@bob", "@acme/sre"], prevent_self_review: true }}
promotions:
  - {{ from: dev, to: staging }}
  - {{ from: staging, to: prod }}
steps:
  backup: echo "backup $STAGEGATE_ENV $STAGEGATE_PREVIOUS_RELEASE" >> hooks.log
  deploy: sh deploy.sh
  rollback: echo "rollback $STAGEGATE_ENV to $STAGEGATE_RELEASE" >> hooks.log
{extra_steps}"#
    )
}

pub const DEPLOY_HOOK: &str = r#"echo "deploy $STAGEGATE_ENV $STAGEGATE_RELEASE" >> hooks.log
case "$STAGEGATE_RELEASE" in
  *bad*) rm -f healthy ;;
  *) touch healthy ;;
esac
"#;

impl Sandbox {
    /// A sandbox with `run_config` as `stagegate.yml` and the deploy hook.
    pub fn for_runs(extra_steps: &str) -> Sandbox {
        let sb = Sandbox::new();
        let port = health_server(sb.path());
        sb.write("stagegate.yml", run_config(port, extra_steps));
        sb.write("deploy.sh", DEPLOY_HOOK);
        sb
    }

    /// `stagegate -c stagegate.yml …` as actor `mallory`.
    pub fn sg(&self, args: &[&str]) -> Command {
        let mut c = self.cmd();
        c.env("GITHUB_ACTOR", "mallory").arg("-c").arg("stagegate.yml").args(args);
        c
    }

    /// The hooks' log, one line per hook run.
    pub fn hook_log(&self) -> Vec<String> {
        std::fs::read_to_string(self.path().join("hooks.log"))
            .map(|s| s.lines().map(String::from).collect())
            .unwrap_or_default()
    }
}

pub const SHORT_TIMEOUTS: &str = "  timeouts: { startup: 2s, health_check: 1s, hook: 10s }\n";

impl Sandbox {
    /// `sg` as a plain `std::process::Command`, to spawn in the background.
    pub fn sg_spawnable(&self, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("stagegate"));
        c.current_dir(self.path());
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().to_string();
            if k.starts_with("GITHUB_") || k.starts_with("STAGEGATE_") {
                c.env_remove(&k);
            }
        }
        c.env("NO_COLOR", "1").env("GITHUB_ACTOR", "mallory").arg("-c").arg("stagegate.yml").args(args);
        c
    }
}
