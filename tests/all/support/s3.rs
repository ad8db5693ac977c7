//! The S3 test peer: s3s-fs (a real S3 protocol implementation that checks
//! SigV4 and does multipart) in-process on an ephemeral port. A bucket is a
//! directory under `root`, an object a plain file — so a test can tamper with one.

use std::path::{Path, PathBuf};

use super::http::{Server, serve};

pub const ACCESS_KEY: &str = "AKIASTAGEGATETEST";
pub const SECRET_KEY: &str = "stagegate-test-secret-key";
pub const BUCKET: &str = "journals";

pub struct S3Peer {
    pub server: Server,
    pub root: PathBuf,
}

impl S3Peer {
    /// With `fail_part`, every `UploadPart` of that part number gets a 500
    /// `InternalError` (S3's own answer to a transient fault): a multipart
    /// upload that cannot complete.
    pub fn start(root: &Path, fail_part: Option<u32>) -> S3Peer {
        std::fs::create_dir_all(root.join(BUCKET)).unwrap();
        let dir = root.to_path_buf();
        let server = serve(move || {
            let fs = s3s_fs::FileSystem::new(&dir).expect("s3s-fs root");
            let mut b = s3s::service::S3ServiceBuilder::new(fs);
            b.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
            let s3 = b.build();
            let faulty = fail_part.map(|n| format!("partNumber={n}"));
            hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let fault = faulty.as_ref().is_some_and(|f| {
                    req.method() == hyper::Method::PUT
                        && req.uri().query().is_some_and(|q| q.split('&').any(|p| p == f))
                });
                let s3 = s3.clone();
                async move {
                    if fault {
                        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>";
                        let resp = hyper::Response::builder()
                            .status(500)
                            .header("Content-Type", "application/xml")
                            .body(s3s::Body::from(body.to_string()))
                            .expect("response");
                        return Ok::<_, s3s::HttpError>(resp);
                    }
                    hyper::service::Service::call(&s3, req).await
                }
            })
        });
        S3Peer { server, root: root.to_path_buf() }
    }

    /// The file s3s-fs keeps an object in.
    pub fn object_path(&self, key: &str) -> PathBuf {
        self.root.join(BUCKET).join(key)
    }
}
