//! Journal benchmarks (not tests; `bash benches/journal.sh` runs them):
//!
//! - transfer: a journal uploaded and downloaded by the release binary and by
//!   the AWS CLI, on the same in-process s3s-fs server, interleaved, in one run:
//!   wall time, CPU (`wait4` rusage) and peak RSS (GNU time's `%M`) of each;
//! - watch: KV change → import command start, over N changes, on the Consul
//!   test server (with s3s-fs as the store) and on the `file://` pair.
//!
//! The peers are the test suite's own (`tests/all/support`), built here with
//! release optimisations so the server is not what is measured.
// clippy.toml refuses printing outside stagegate_core::console;
// a benchmark prints its table; the rule is for the binary.
#![allow(clippy::disallowed_macros, clippy::disallowed_methods)]

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

#[allow(dead_code)]
#[path = "../tests/all/support"]
mod support {
    pub mod consul;
    pub mod http;
    pub mod s3;
}

use support::consul::Consul;
use support::s3::{ACCESS_KEY, BUCKET, Faults, S3Peer, SECRET_KEY};

struct Opts {
    bin: PathBuf,
    /// An older stagegate to compare with, measured in the same rounds.
    before: Option<PathBuf>,
    aws: Option<PathBuf>,
    s5cmd: Option<PathBuf>,
    sizes_mib: Vec<u64>,
    runs: usize,
    changes: usize,
    only: Option<String>,
}

fn opts() -> Opts {
    let mut o = Opts {
        bin: PathBuf::from("target/release/stagegate"),
        before: None,
        aws: None,
        s5cmd: None,
        sizes_mib: vec![256, 1024],
        runs: 3,
        changes: 200,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--bin" => o.bin = val().into(),
            "--before" => o.before = Some(val().into()),
            "--aws" => o.aws = Some(val().into()),
            "--s5cmd" => o.s5cmd = Some(val().into()),
            "--sizes" => o.sizes_mib = val().split(',').map(|s| s.parse().expect("MiB")).collect(),
            "--runs" => o.runs = val().parse().expect("runs"),
            "--changes" => o.changes = val().parse().expect("changes"),
            "--only" => o.only = Some(val()),
            _ => {} // `cargo bench` passes --bench
        }
    }
    o.bin = std::path::absolute(&o.bin).expect("path");
    o.before = o.before.map(|b| std::path::absolute(b).expect("path"));
    o
}

/// Wall time, CPU time (user + system) and peak RSS of one process.
struct Measured {
    secs: f64,
    cpu: f64,
    rss_mib: f64,
    /// CPU time of this process (the in-process server) meanwhile.
    server: f64,
}

fn cpu_secs(u: &libc::rusage) -> f64 {
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn self_cpu() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    cpu_secs(&u)
}

/// `cmd` run through GNU time, which writes the client's own peak RSS (KiB)
/// to `rss`. The high-water mark cannot be taken from this process's `wait4`:
/// Linux starts a spawned child's maxrss at the RSS of the process it was
/// spawned from (this bench, which holds the server and grows with the file),
/// whereas GNU time forks from its own small image before it execs the client.
fn through_time(cmd: &Command, rss: &Path) -> Command {
    let mut c = Command::new("/usr/bin/time");
    c.args(["-f", "%M", "-o"]).arg(rss).arg("--").arg(cmd.get_program()).args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        c.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c
}

/// Runs `cmd` to completion: wall time, CPU time (`wait4` rusage, which
/// includes the client reaped by GNU time) and the client's own peak RSS.
/// With `BENCH_VERBOSE` set, also prints its CPU time and that of this process
/// (the in-process server) meanwhile: where the time goes.
// The child is reaped by `wait4` (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn measure(what: &str, cmd: &mut Command, dir: &Path) -> Measured {
    let err_path = dir.join("stderr.txt");
    let rss_path = dir.join("rss.txt");
    let err = File::create(&err_path).expect("stderr file");
    let mut cmd = through_time(cmd, &rss_path);
    let (start, server_start) = (Instant::now(), self_cpu());
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(err).spawn().expect("spawn /usr/bin/time");
    let mut status = 0;
    // SAFETY: plain wait4 on our own child, with valid out-pointers.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(pid, child.id() as i32, "wait4");
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        panic!("{what} failed ({status}):\n{}", std::fs::read_to_string(&err_path).unwrap_or_default());
    }
    let rss = std::fs::read_to_string(&rss_path).expect("GNU time's output");
    let kib: f64 = rss.lines().last().and_then(|l| l.trim().parse().ok()).expect("peak RSS in KiB");
    let (cpu, server_cpu) = (cpu_secs(&usage), self_cpu() - server_start);
    if std::env::var_os("BENCH_VERBOSE").is_some() {
        eprintln!(
            "  {what}: {secs:.2}s wall, {cpu:.2}s CPU, {:.1} MiB peak; server {server_cpu:.2}s CPU",
            kib / 1024.0
        );
    }
    Measured { secs, cpu, rss_mib: kib / 1024.0, server: server_cpu }
}

/// `size` bytes that do not compress or repeat (xorshift), written in 1 MiB blocks.
fn write_data(path: &Path, size: u64) {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path).expect("data file"));
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut block = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        for chunk in block.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        let n = left.min(block.len() as u64) as usize;
        w.write_all(&block[..n]).expect("write data");
        left -= n as u64;
    }
    w.flush().expect("flush data");
}

/// One command's runs.
#[derive(Default)]
struct Series {
    secs: Vec<f64>,
    cpu: Vec<f64>,
    rss_mib: Vec<f64>,
    server: Vec<f64>,
}

fn median_of(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

impl Series {
    fn push(&mut self, m: Measured) {
        self.secs.push(m.secs);
        self.cpu.push(m.cpu);
        self.server.push(m.server);
        self.rss_mib.push(m.rss_mib);
    }

    fn median(&self) -> f64 {
        median_of(&self.secs)
    }

    fn median_cpu(&self) -> f64 {
        median_of(&self.cpu)
    }

    fn max_rss(&self) -> f64 {
        self.rss_mib.iter().copied().fold(0.0, f64::max)
    }
}

/// `stagegate -c CONFIG` in `dir`, with the S3 peer's credentials and nothing
/// of the developer's AWS setup.
fn stagegate(bin: &Path, dir: &Path, config: &Path) -> Command {
    let mut c = Command::new(bin);
    c.current_dir(dir).arg("-c").arg(config);
    aws_env(&mut c, dir);
    c.env("NO_COLOR", "1").env_remove("CONSUL_HTTP_ADDR").env_remove("AWS_ENDPOINT_URL");
    c
}

fn aws_env(c: &mut Command, dir: &Path) {
    for k in ["AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_SESSION_TOKEN"] {
        c.env_remove(k);
    }
    c.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", dir.join("aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true");
}

fn config(dir: &Path, store: &str, kv: &str) -> PathBuf {
    let text = format!(
        "version: 1\nenvironments:\n  dev: {{ auto_deploy: true }}\njournal:\n  store: {store}\n  kv: {kv}\n  key_prefix: journal_version\n  status_prefix: journal_status\n  lanes: [dev, qa, dit]\n  writers:\n    dev-modelling: {{ mandators: [tech-head] }}\n"
    );
    std::fs::write(dir.join("aws-config"), "").unwrap();
    std::fs::write(dir.join("aws-credentials"), "").unwrap();
    let path = dir.join("stagegate.yml");
    std::fs::write(&path, text).unwrap();
    path
}

fn s3_store(s3: &S3Peer) -> String {
    format!("s3://{BUCKET}/bench\n  s3: {{ endpoint: \"{}\", path_style: true, region: us-east-1 }}", s3.server.url())
}

/// One client under test: how it uploads `data` as round `run` and downloads it again.
enum Client<'a> {
    Stagegate(&'a Path),
    S5cmd(&'a Path),
    Aws(&'a Path),
}

impl Client<'_> {
    /// Upload, then download (verified where the client verifies); each measured.
    fn round(&self, s3: &S3Peer, dir: &Path, cfg: &Path, data: &Path, run: usize) -> (Measured, Measured) {
        let url = format!("s3://{BUCKET}/cli/{run}/journal.bin");
        let back = dir.join("back.bin");
        let cli = |bin: &Path, s5: bool| {
            let mut c = Command::new(bin);
            aws_env(&mut c, dir);
            c.arg("--endpoint-url").arg(s3.server.url());
            if !s5 {
                c.args(["s3"]);
            }
            c
        };
        let (up, down) = match self {
            Client::Stagegate(bin) => {
                let up = measure(
                    "stagegate upload",
                    stagegate(bin, dir, cfg).args(["journal", "upload"]).arg(data).args(["--cluster", "dev-modelling"]),
                    dir,
                );
                // The lane now points at the newest upload: download, verify, "import".
                measure("stagegate seed", stagegate(bin, dir, cfg).args(["journal", "seed"]), dir);
                let down = measure(
                    "stagegate download",
                    stagegate(bin, dir, cfg).args(["journal", "watch", "--lane", "dev", "--once", "--exec", "true"]),
                    dir,
                );
                return (up, down);
            }
            Client::S5cmd(bin) => (
                measure("s5cmd upload", cli(bin, true).arg("cp").arg(data).arg(&url), dir),
                measure("s5cmd download", cli(bin, true).arg("cp").arg(&url).arg(&back), dir),
            ),
            Client::Aws(bin) => (
                measure("aws upload", cli(bin, false).args(["cp", "--only-show-errors"]).arg(data).arg(&url), dir),
                measure("aws download", cli(bin, false).args(["cp", "--only-show-errors", &url]).arg(&back), dir),
            ),
        };
        assert_eq!(std::fs::metadata(&back).unwrap().len(), std::fs::metadata(data).unwrap().len());
        std::fs::remove_file(&back).unwrap();
        // Keep the server's directory to one copy of each.
        let _ = std::fs::remove_dir_all(s3.object_path(&format!("cli/{run}")));
        (up, down)
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split(' ').take(3).collect::<Vec<_>>().join(" ")
}

fn transfer(o: &Opts) {
    let mut clients = Vec::new();
    if let Some(b) = &o.before {
        clients.push(("stagegate before", Client::Stagegate(b)));
    }
    clients.push(("stagegate", Client::Stagegate(&o.bin)));
    if let Some(b) = &o.s5cmd {
        clients.push(("s5cmd", Client::S5cmd(b)));
    }
    if let Some(b) = &o.aws {
        clients.push(("AWS CLI", Client::Aws(b)));
    }
    println!(
        "## transfer: {} on one s3s-fs server ({} rounds, clients interleaved in each; median)\n",
        clients.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "),
        o.runs
    );
    println!("load average before: {}\n", loadavg());
    println!(
        "| size | client | upload wall | upload CPU | download wall | download CPU | peak RSS up / down (max) | server CPU up / down |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for &mib in &o.sizes_mib {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path();
        let s3 = S3Peer::with(&dir.join("s3"), Faults::default());
        let cfg = config(dir, &s3_store(&s3), "file://kv");
        let data = dir.join("journal.bin");
        write_data(&data, mib << 20);
        let mut series: Vec<(Series, Series)> = clients.iter().map(|_| Default::default()).collect();
        for run in 0..o.runs {
            let mut line = format!("{mib} MiB round {run}:");
            for ((name, client), (up, down)) in clients.iter().zip(series.iter_mut()) {
                let (u, d) = client.round(&s3, dir, &cfg, &data, run);
                let _ = write!(line, " {name} {:.2}s up {:.2}s down;", u.secs, d.secs);
                up.push(u);
                down.push(d);
            }
            eprintln!("{line}");
        }
        for ((name, _), (up, down)) in clients.iter().zip(&series) {
            println!(
                "| {mib} MiB | {name} | {:.2} s | {:.2} s | {:.2} s | {:.2} s | {:.1} / {:.1} MiB | {:.2} / {:.2} s |",
                up.median(),
                up.median_cpu(),
                down.median(),
                down.median_cpu(),
                up.max_rss(),
                down.max_rss(),
                median_of(&up.server),
                median_of(&down.server),
            );
        }
    }
    println!("\nload average after: {}\n", loadavg());
}

/// A one-shot HTTP/1.1 request to the Consul test server.
fn http(addr: &str, method: &str, path: &str, body: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr.trim_start_matches("http://")).expect("connect");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: consul\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("send");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

/// Sets a key in the `file://` KV as stagegate does: under the directory's
/// lock, a new store-wide index, an atomic rename.
fn file_kv_set(dir: &Path, key: &str, value: &str) {
    let lock = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(dir.join(".lock")).unwrap();
    lock.lock().expect("lock");
    let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("kv.json")).unwrap()).unwrap();
    let index = doc["index"].as_u64().unwrap() + 1;
    doc["index"] = index.into();
    doc["keys"][key] = serde_json::json!({"value": B64.encode(value), "modify_index": index});
    let tmp = dir.join("kv.json.bench");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    std::fs::rename(&tmp, dir.join("kv.json")).unwrap();
}

fn now_ns() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos()
}

/// KV change → import command start, `changes` times; latencies in ms.
fn watch_latency(o: &Opts, consul: bool) -> Vec<f64> {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let peers = consul.then(|| (S3Peer::with(&dir.join("s3"), Faults::default()), Consul::start(None)));
    let cfg = match &peers {
        Some((s3, c)) => config(dir, &s3_store(s3), &format!("consul://{}", c.addr.trim_start_matches("http://"))),
        None => config(dir, "file://store", "file://kv"),
    };
    let export = dir.join("export");
    std::fs::create_dir_all(&export).unwrap();
    for i in 0..=o.changes {
        std::fs::write(export.join(format!("j{i:04}.jnl")), format!("journal {i}\n")).unwrap();
    }
    let mut c = stagegate(&o.bin, dir, &cfg);
    c.arg("journal").arg("watch-dir").arg(&export).args([
        "--cluster",
        "dev-modelling",
        "--once",
        "--interval",
        "200ms",
    ]);
    measure("watch-dir", &mut c, dir);
    let out = stagegate(&o.bin, dir, &cfg).args(["--output", "json", "journal", "versions"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("versions");
    let mut versions: Vec<String> =
        v["versions"].as_array().unwrap().iter().map(|m| m["version"].as_str().unwrap().to_string()).collect();
    assert_eq!(versions.len(), o.changes + 1);
    measure("seed", stagegate(&o.bin, dir, &cfg).args(["journal", "seed"]), dir);
    let log = dir.join("imports.log");
    let mut w = stagegate(&o.bin, dir, &cfg);
    w.args(["journal", "watch", "--lane", "dev", "--exec"])
        .arg(format!("date +%s%N >> {}", log.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut watcher = w.spawn().expect("watcher");
    let lines = |n: usize| loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.lines().count() >= n && text.ends_with('\n') {
            break text.lines().nth(n - 1).unwrap().trim().parse::<u128>().expect("timestamp");
        }
        std::thread::sleep(Duration::from_micros(200));
    };
    lines(1); // the seeded version
    versions.remove(0); // newest first: that one is imported
    let mut latencies = Vec::new();
    for (i, version) in versions.iter().enumerate() {
        // Changes arrive apart, as lane changes do: let the watcher block again.
        std::thread::sleep(Duration::from_millis(150 + (i as u64 * 7) % 20));
        let t0 = now_ns();
        match &peers {
            Some((_, c)) => {
                let r = http(&c.addr, "PUT", "/v1/kv/journal_version/dev", version);
                assert!(r.ends_with("true"), "{r}");
            }
            None => file_kv_set(&dir.join("kv"), "journal_version/dev", version),
        }
        let started = lines(i + 2);
        latencies.push((started - t0) as f64 / 1e6);
    }
    let _ = Command::new("kill").arg("-TERM").arg(watcher.id().to_string()).status();
    let _ = watcher.wait();
    latencies
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn watch(o: &Opts) {
    println!("## watch: KV change → import command start ({} changes each)\n", o.changes);
    println!("| KV (store) | p50 | p99 | max | mean |");
    println!("|---|---|---|---|---|");
    for (name, consul) in [("Consul test server (s3s-fs)", true), ("file:// (file://)", false)] {
        let mut l = watch_latency(o, consul);
        l.sort_by(f64::total_cmp);
        let mean = l.iter().sum::<f64>() / l.len() as f64;
        println!(
            "| {name} | {:.1} ms | {:.1} ms | {:.1} ms | {mean:.1} ms |",
            percentile(&l, 50.0),
            percentile(&l, 99.0),
            l[l.len() - 1]
        );
    }
    println!();
}

fn main() {
    let o = opts();
    assert!(o.bin.exists(), "{} missing: cargo build --release first", o.bin.display());
    if o.only.as_deref().is_none_or(|w| w == "transfer") {
        transfer(&o);
    }
    if o.only.as_deref().is_none_or(|w| w == "watch") {
        watch(&o);
    }
}
