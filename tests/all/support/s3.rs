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
    pub fn start(root: &Path) -> S3Peer {
        std::fs::create_dir_all(root.join(BUCKET)).unwrap();
        let dir = root.to_path_buf();
        let server = serve(move || {
            let fs = s3s_fs::FileSystem::new(&dir).expect("s3s-fs root");
            let mut b = s3s::service::S3ServiceBuilder::new(fs);
            b.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
            b.build()
        });
        S3Peer { server, root: root.to_path_buf() }
    }

    /// The file s3s-fs keeps an object in.
    pub fn object_path(&self, key: &str) -> PathBuf {
        self.root.join(BUCKET).join(key)
    }
}
