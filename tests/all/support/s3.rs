//! The S3 test peer: s3s-fs (a real S3 protocol implementation that checks
//! SigV4 and does multipart) in-process on an ephemeral port. A bucket is a
//! directory under `root`, an object a plain file — so a test can tamper with one.
//!
//! It can misbehave on request ([`Faults`]): fail one part number, answer
//! 500/503 at random ([`Chaos`]), or hang at a part so the test can kill it
//! mid-upload and start it again on the same port and directory.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

use http_body_util::BodyExt;

use super::http::{Server, ephemeral, rebind, serve_on};

pub const ACCESS_KEY: &str = "AKIASTAGEGATETEST";
pub const SECRET_KEY: &str = "stagegate-test-secret-key";
pub const BUCKET: &str = "journals";

/// What the peer does wrong.
#[derive(Clone, Default)]
pub struct Faults {
    /// Every `UploadPart` of this part number gets a 500 `InternalError` (S3's
    /// own answer to a transient fault): a multipart upload that cannot complete.
    pub fail_part: Option<u32>,
    /// Random 500 `InternalError` / 503 `SlowDown` answers.
    pub chaos: Option<Arc<Chaos>>,
    /// When the `UploadPart` of this number arrives, the peer says so on the
    /// channel and never answers: the test then stops the server mid-upload.
    pub hang_at_part: Option<(u32, Sender<()>)>,
    /// Called with the method and path of every request before it is served
    /// (a test changes a file mid-upload from here).
    pub before: Option<BeforeRequest>,
}

/// See [`Faults::before`].
pub type BeforeRequest = Arc<dyn Fn(&hyper::Method, &str) + Send + Sync>;

/// Seeded random faults, bounded: the same request (method and URI, so one
/// part of one upload) is never failed twice in a row, unless the rate is 100%.
pub struct Chaos {
    state: Mutex<ChaosState>,
}

struct ChaosState {
    rng: u64,
    per_mille: u32,
    failed_last: HashSet<String>,
    injected: u32,
}

impl Chaos {
    pub fn new(seed: u64, per_mille: u32) -> Arc<Chaos> {
        let rng = seed.max(1);
        Arc::new(Chaos { state: Mutex::new(ChaosState { rng, per_mille, failed_last: HashSet::new(), injected: 0 }) })
    }

    /// 0: well-behaved; 1000: every request fails (503 SlowDown).
    pub fn set_rate(&self, per_mille: u32) {
        self.state.lock().unwrap().per_mille = per_mille;
    }

    /// How many faults were answered so far.
    pub fn injected(&self) -> u32 {
        self.state.lock().unwrap().injected
    }

    /// The status to fail `request` with, if any.
    fn decide(&self, request: &str) -> Option<u16> {
        let mut st = self.state.lock().unwrap();
        if st.per_mille < 1000 && st.failed_last.remove(request) {
            return None;
        }
        // xorshift64: reproducible from the seed, no dependency.
        let mut x = st.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        st.rng = x;
        if (x % 1000) as u32 >= st.per_mille {
            return None;
        }
        st.failed_last.insert(request.to_string());
        st.injected += 1;
        // A server that fails everything is throttling: SlowDown.
        Some(if st.per_mille >= 1000 || (x >> 32) & 1 == 1 { 503 } else { 500 })
    }
}

fn s3_error(status: u16) -> hyper::Response<s3s::Body> {
    let (code, message) = match status {
        503 => ("SlowDown", "Please reduce your request rate."),
        _ => ("InternalError", "We encountered an internal error. Please try again."),
    };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    hyper::Response::builder()
        .status(status)
        .header("Content-Type", "application/xml")
        .body(s3s::Body::from(body))
        .expect("response")
}

fn is_part(req: &hyper::Request<hyper::body::Incoming>, number: u32) -> bool {
    let want = format!("partNumber={number}");
    req.method() == hyper::Method::PUT && req.uri().query().is_some_and(|q| q.split('&').any(|p| p == want))
}

pub struct S3Peer {
    pub server: Server,
    pub root: PathBuf,
}

impl S3Peer {
    pub fn with(root: &Path, faults: Faults) -> S3Peer {
        std::fs::create_dir_all(root.join(BUCKET)).unwrap();
        S3Peer { server: listen(ephemeral(), root, faults), root: root.to_path_buf() }
    }

    /// Stops the server (every connection is cut) and starts it again on the
    /// same port and directory, misbehaving as `faults` say.
    pub fn restart(&mut self, faults: Faults) {
        self.server.stop();
        self.server = listen(rebind(self.server.addr), &self.root, faults);
    }

    /// The file s3s-fs keeps an object in.
    pub fn object_path(&self, key: &str) -> PathBuf {
        self.root.join(BUCKET).join(key)
    }
}

fn listen(listener: std::net::TcpListener, root: &Path, faults: Faults) -> Server {
    let dir = root.to_path_buf();
    serve_on(listener, move || {
        let fs = s3s_fs::FileSystem::new(&dir).expect("s3s-fs root");
        let mut b = s3s::service::S3ServiceBuilder::new(fs);
        b.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let s3 = b.build();
        hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let failed_part = faults.fail_part.is_some_and(|n| is_part(&req, n));
            let hang = faults.hang_at_part.as_ref().filter(|(n, _)| is_part(&req, *n)).map(|(_, tx)| tx.clone());
            let chaos = faults.chaos.as_ref().and_then(|c| c.decide(&format!("{} {}", req.method(), req.uri())));
            if let Some(before) = &faults.before {
                before(req.method(), req.uri().path());
            }
            let s3 = s3.clone();
            async move {
                if let Some(tx) = hang {
                    let _ = tx.send(());
                    std::future::pending::<()>().await;
                }
                if failed_part {
                    return Ok::<_, s3s::HttpError>(s3_error(500));
                }
                if let Some(status) = chaos {
                    // Read the body first, as S3 does, so the client sees the answer.
                    let _ = req.into_body().collect().await;
                    return Ok(s3_error(status));
                }
                hyper::service::Service::call(&s3, req).await
            }
        })
    })
}
