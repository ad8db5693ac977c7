//! A journal pipeline to run commands against: a sandbox, a config, and the
//! store and KV peers of one backend — S3 (s3s-fs) + Consul, or the offline
//! `file://` pair. Tests loop over [`Backend::ALL`] so both pass the same suite.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;

use super::Sandbox;
use super::consul::{Consul, consul};
use super::s3::{ACCESS_KEY, BUCKET, Faults, S3Peer, SECRET_KEY};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `file://` store and KV: the embedded, offline default.
    Files,
    /// s3s-fs over HTTP with SigV4, and Consul (test server or real).
    Remote,
}

impl Backend {
    pub const ALL: [Backend; 2] = [Backend::Files, Backend::Remote];
}

pub struct Pipeline {
    pub sb: Sandbox,
    pub s3: Option<S3Peer>,
    pub consul: Option<Consul>,
    pub config: PathBuf,
    /// Unique per pipeline, so tests sharing a real Consul do not meet.
    pub prefix: String,
    secret: String,
}

pub struct Options {
    pub retries: u32,
    pub extra: String,
    /// S3 endpoint in `journal.s3` (else only in `AWS_ENDPOINT_URL`).
    pub endpoint_in_config: bool,
    /// How the S3 peer misbehaves.
    pub faults: Faults,
}

impl Default for Options {
    fn default() -> Self {
        Options { retries: 2, extra: String::new(), endpoint_in_config: true, faults: Faults::default() }
    }
}

impl Pipeline {
    pub fn new(backend: Backend) -> Pipeline {
        Pipeline::with(backend, Options::default())
    }

    pub fn with(backend: Backend, opts: Options) -> Pipeline {
        let sb = Sandbox::new();
        let prefix = format!("t{}", sb.path().file_name().unwrap().to_string_lossy().trim_start_matches('.'));
        let (s3, consul, store, kv) = match backend {
            Backend::Files => (None, None, "file://store".to_string(), "file://kv".to_string()),
            Backend::Remote => {
                let s3 = S3Peer::with(&sb.path().join("s3"), opts.faults);
                let consul = consul();
                let endpoint = if opts.endpoint_in_config {
                    format!("endpoint: \"{}\", ", s3.server.url())
                } else {
                    String::new()
                };
                let store =
                    format!("s3://{BUCKET}/safer-payments\n  s3: {{ {endpoint}path_style: true, region: us-east-1 }}");
                let kv = format!("consul://{}", consul.addr.trim_start_matches("http://"));
                (Some(s3), Some(consul), store, kv)
            }
        };
        let text = format!(
            "version: 1\nenvironments:\n  dev: {{ auto_deploy: true }}\njournal:\n  store: {store}\n  kv: {kv}\n  key_prefix: {prefix}/journal_version\n  status_prefix: {prefix}/journal_status\n  lanes: [dev, qa, dit]\n  writers:\n    dev-modelling: {{ mandators: [tech-head] }}\n    prod-modelling: {{ mandators: [tech-head, business-head] }}\n  retries: {}\n{}",
            opts.retries, opts.extra
        );
        let config = sb.write("stagegate.yml", text);
        // Empty AWS config files: nothing of the developer's profiles leaks in.
        sb.write("aws-config", "");
        sb.write("aws-credentials", "");
        Pipeline { sb, s3, consul, config, prefix, secret: SECRET_KEY.into() }
    }

    pub fn path(&self) -> &Path {
        self.sb.path()
    }

    /// Commands from now on sign with a wrong secret key.
    pub fn wrong_secret(&mut self) {
        self.secret = "not-the-secret".into();
    }

    /// Commands from now on sign with the right secret key again.
    pub fn right_secret(&mut self) {
        self.secret = SECRET_KEY.into();
    }

    /// `stagegate -c stagegate.yml …` with the peers' addresses and
    /// credentials, and nothing of the developer's AWS setup.
    pub fn cmd(&self) -> Command {
        Command::from_std(self.std_cmd())
    }

    /// [`Pipeline::cmd`] as a `std::process::Command`, for spawning in the background.
    pub fn std_cmd(&self) -> std::process::Command {
        let mut c = self.sb.std_cmd();
        c.arg("-c").arg(&self.config);
        for k in ["AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN"] {
            c.env_remove(k);
        }
        if let Some(s3) = &self.s3 {
            c.env("AWS_ENDPOINT_URL", s3.server.url());
        }
        c.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", &self.secret)
            .env("AWS_CONFIG_FILE", self.path().join("aws-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.path().join("aws-credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true");
        match &self.consul {
            Some(consul) => {
                c.env("CONSUL_HTTP_ADDR", &consul.addr);
                match &consul.token {
                    Some(t) => c.env("CONSUL_HTTP_TOKEN", t),
                    None => c.env_remove("CONSUL_HTTP_TOKEN"),
                };
            }
            None => {
                c.env_remove("CONSUL_HTTP_ADDR");
            }
        }
        c
    }

    /// `cmd()` with arguments. No output may show the S3 secret or the Consul token.
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let mut c = self.cmd();
        c.args(args);
        let (code, out, err) = super::run(c);
        self.assert_no_secret(&[&out, &err]);
        (code, out, err)
    }

    pub fn json(&self, args: &[&str]) -> (i32, serde_json::Value, String) {
        let mut c = self.cmd();
        c.args(args);
        let (code, json, err) = super::run_json(c);
        self.assert_no_secret(&[&json.to_string(), &err]);
        (code, json, err)
    }

    pub fn assert_no_secret(&self, texts: &[&str]) {
        let token = self.consul.as_ref().and_then(|c| c.token.clone());
        for t in texts {
            assert!(!t.contains(&self.secret) && !t.contains(SECRET_KEY), "the S3 secret key leaked:\n{t}");
            if let Some(tok) = &token {
                assert!(!t.contains(tok.as_str()), "the Consul token leaked:\n{t}");
            }
        }
    }

    /// Writes a journal file into the sandbox and uploads it; returns the version.
    pub fn upload(&self, name: &str, content: &str, cluster: &str) -> String {
        let file = self.sb.write(name, content);
        let (code, v, err) = self.json(&["journal", "upload", file.to_str().unwrap(), "--cluster", cluster]);
        assert_eq!(code, 0, "upload of {name} failed: {err}");
        v["version"].as_str().unwrap().to_string()
    }

    /// The file a journal object is stored in, for tampering with it.
    pub fn object_path(&self, version: &str, file: &str) -> PathBuf {
        let key = format!("journals/{version}/{file}");
        match &self.s3 {
            Some(s3) => s3.object_path(&format!("safer-payments/{key}")),
            None => self.path().join("store").join(key),
        }
    }

    /// The lane states as `journal status` reports them: (lane, version, state).
    pub fn lanes(&self) -> Vec<(String, Option<String>, Option<String>)> {
        let (code, v, err) = self.json(&["journal", "status"]);
        assert_eq!(code, 0, "{err}");
        v["lanes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["lane"].as_str().unwrap().to_string(),
                    l["version"].as_str().map(str::to_string),
                    l["state"].as_str().map(str::to_string),
                )
            })
            .collect()
    }

    /// An import command that appends `lane version content` to `imports.log`.
    pub fn import_cmd(&self) -> String {
        format!(
            "printf '%s %s %s\\n' \"$STAGEGATE_LANE\" \"$STAGEGATE_JOURNAL_VERSION\" \"$(cat \"$STAGEGATE_JOURNAL_FILE\")\" >> {}",
            self.path().join("imports.log").display()
        )
    }

    /// Waits, up to a generous bound, for the import log to reach `n` lines.
    pub fn wait_for_imports(&self, n: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.imports().len() < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.imports()
    }

    /// Waits, up to a generous bound, until `lane` has recorded `imported` for `version`.
    pub fn wait_until_imported(&self, lane: &str, version: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let want = (lane.to_string(), Some(version.to_string()), Some("imported".to_string()));
        while !self.lanes().contains(&want) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every import the import command saw, in order.
    pub fn imports(&self) -> Vec<String> {
        std::fs::read_to_string(self.path().join("imports.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}
