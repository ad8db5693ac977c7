//! `stagegate serve` as a child process, driven as GitHub drives it: signed
//! webhook deliveries in; the answers are read off the GitHub test server.
//! Shared by the serve tests and the webhook → verdict latency benchmark.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Sandbox;
use super::github::github;

pub const APP_ID: u64 = 4711;
pub const SECRET: &str = "whsec-test-only";
pub const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

/// The App's private key (PKCS#1 PEM, as GitHub hands it out), made once.
pub fn private_key() -> &'static str {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| {
        let out = std::process::Command::new("openssl").args(["genrsa", "-traditional", "2048"]).output().unwrap();
        assert!(out.status.success(), "openssl genrsa: {}", String::from_utf8_lossy(&out.stderr));
        let key = String::from_utf8(out.stdout).unwrap();
        let mut p = std::process::Command::new("openssl")
            .args(["rsa", "-pubout"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        p.stdin.take().unwrap().write_all(key.as_bytes()).unwrap();
        let public = String::from_utf8(p.wait_with_output().unwrap().stdout).unwrap();
        github().register_app(APP_ID, &public);
        key
    })
}

pub struct Service {
    child: Child,
    pub url: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Service {
    pub fn start(sb: &Sandbox, extra: &[&str], env: &[(&str, &str)]) -> Service {
        Service::start_with(sb, extra, env, None)
    }

    /// [`Service::start`], with `extra` free to name its own `--kv`, and the
    /// open-files soft limit set to `nofile` before the service starts.
    pub fn start_with(sb: &Sandbox, extra: &[&str], env: &[(&str, &str)], nofile: Option<u64>) -> Service {
        let key = sb.write("app.pem", private_key());
        let secret = sb.write("webhook-secret", SECRET);
        let mut c = sb.std_cmd();
        c.args(["serve", "--listen", "127.0.0.1:0", "--app-id", &APP_ID.to_string()])
            .arg("--private-key-file")
            .arg(&key)
            .arg("--webhook-secret-file")
            .arg(&secret);
        if !extra.contains(&"--kv") {
            c.arg("--kv").arg(format!("file://{}", sb.path().join("kv").display()));
        }
        if let Some(soft) = nofile {
            use std::os::unix::process::CommandExt;
            // SAFETY: only setrlimit, async-signal-safe, between fork and exec.
            unsafe {
                c.pre_exec(move || {
                    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
                    libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
                    lim.rlim_cur = soft.min(lim.rlim_max);
                    libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
                    Ok(())
                });
            }
        }
        c.args(["--retry-base-ms", "100"])
            .args(extra)
            .env("GITHUB_API_URL", &github().url)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            c.env(k, v);
        }
        let mut child = c.spawn().expect("stagegate serve starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && v["fields"]["message"] == "listening"
                {
                    let _ = tx.send(v["fields"]["addr"].as_str().unwrap_or_default().to_owned());
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("no `listening` line: {:#?}", log.lock().unwrap()));
        Service { child, url: format!("http://{addr}"), log }
    }

    /// POSTs a delivery; the HTTP status and body.
    pub fn post(&self, path: &str, headers: &[(&str, String)], body: &[u8]) -> (u16, String) {
        let addr = self.url.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        let mut req = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let status = out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        (status, out.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned())
    }

    /// A delivery as GitHub signs it.
    pub fn deliver(&self, event: &str, delivery: &str, payload: &Value) -> u16 {
        let body = serde_json::to_vec(payload).unwrap();
        let sig = stagegate::serve::webhook::sign(SECRET, &body);
        let headers = [
            ("X-GitHub-Event", event.to_string()),
            ("X-GitHub-Delivery", delivery.to_string()),
            ("X-Hub-Signature-256", sig),
        ];
        self.post("/webhook", &headers, &body).0
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn stop(mut self) {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "serve exited with {status}: {:#?}", self.log.lock().unwrap());
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "serve ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// GETs `path`; the HTTP status and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        use std::io::{Read, Write};
        let addr = self.url.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let status = out.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        (status, out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default())
    }

    pub fn logs(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `repo` has `n` answers; returns them.
pub fn answers(repo: &str, n: usize, svc: &Service) -> Vec<(u64, String, String, String)> {
    let started = Instant::now();
    loop {
        let a = github().answers(repo);
        if a.len() >= n {
            return a;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no answer from the App: {}", svc.logs());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the service has logged `what` for the request (e.g. `pending`).
pub fn logged(svc: &Service, what: &str, times: usize) {
    let started = Instant::now();
    while svc.logs().matches(&format!("\"message\":\"{what}\"")).count() < times {
        assert!(started.elapsed() < Duration::from_secs(20), "never logged {what}: {}", svc.logs());
        std::thread::sleep(Duration::from_millis(50));
    }
}
