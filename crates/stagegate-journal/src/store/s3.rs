//! `s3://BUCKET/PREFIX`: the journal store on S3 or an S3-compatible server.
//!
//! Credentials come from the AWS default chain (env keys, profiles, SSO,
//! credential_process, web identity / OIDC in Actions); `AWS_ENDPOINT_URL` is
//! honoured and `journal.s3` overrides it. The SDK gets an explicit rustls + ring
//! HTTPS client so the binary carries one TLS stack (see Cargo.toml).

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::primitives::Length;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use sha2::{Digest, Sha256};
use std::os::unix::fs::FileExt;
use tokio::io::AsyncReadExt;
use tokio::task::JoinSet;

mod classify;
mod ordered;

use super::{Cond, Object, Store, StoreError, Transferred};
use crate::config::S3;
use crate::progress::Progress;

/// Files above this size go up in parts.
pub const MULTIPART_THRESHOLD: u64 = 16 << 20;
/// Upload part size, and how many go up at once. Parts are streamed from the
/// file, so memory does not grow with either.
pub const PART_SIZE: usize = 8 << 20;
pub const PART_CONCURRENCY: usize = 4;
/// Download range size and how many are fetched at once; ranges are written in
/// place, so memory does not grow with either.
pub const RANGE_SIZE: u64 = 8 << 20;
pub const RANGE_CONCURRENCY: usize = 4;
/// What a part's body reads from the file at a time.
const STREAM_BUFFER: usize = 256 << 10;
/// The most a small document (manifest, endpoint, sequence) is read to.
const DOCUMENT: usize = crate::bounded::ANSWER;
/// S3 allows 10 000 parts; larger files get larger parts.
const MAX_PARTS: u64 = 10_000;

/// An uploaded part and its length, or why it failed.
type PartResult = Result<(CompletedPart, u64), StoreError>;

pub struct S3Store {
    client: Client,
    bucket: String,
    prefix: String,
}

impl S3Store {
    /// The bucket and key prefix of `s3://BUCKET/PREFIX`.
    pub async fn connect(bucket: &str, prefix: &str, opts: Option<&S3>) -> Result<S3Store, StoreError> {
        use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
        crate::tls::install();
        let http =
            aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
        // The loader's own chain (env, profile, IMDS) finds the region unless the
        // config names one; it must use our HTTP client, so no separate chain here.
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http);
        if let Some(region) = opts.and_then(|o| o.region.clone()) {
            loader = loader.region(aws_config::Region::new(region));
        }
        let sdk = loader.load().await;
        let mut b = aws_sdk_s3::config::Builder::from(&sdk);
        if sdk.region().is_none() {
            // S3-compatible servers rarely care; SigV4 needs some region.
            b = b.region(aws_config::Region::new("us-east-1"));
        }
        if let Some(o) = opts {
            if let Some(ep) = &o.endpoint {
                b = b.endpoint_url(ep);
            }
            b = b.force_path_style(o.path_style);
        }
        let prefix = prefix.trim_matches('/');
        Ok(S3Store {
            client: Client::from_conf(b.build()),
            bucket: bucket.to_string(),
            prefix: if prefix.is_empty() { String::new() } else { format!("{prefix}/") },
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// The store's error for a failed request: `Refused` when another attempt
    /// cannot help (see [`classify`]), else `S3`, which is retried.
    fn err<E>(op: &'static str, key: &str, e: SdkError<E, HttpResponse>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let code = e.as_service_error().and_then(|s| s.code());
        let message = match e.as_service_error() {
            Some(s) if s.code().is_some() => {
                format!("{}: {}", s.code().unwrap_or_default(), s.message().unwrap_or_default())
            }
            _ => DisplayErrorContext(&e).to_string(),
        };
        let key = key.to_string();
        match classify::permanent(Self::status(&e), code) {
            Some(help) => StoreError::Refused { failed: format!("S3 {op} of `{key}` failed: {message}"), help },
            None => StoreError::S3 { op, key, message },
        }
    }

    fn status<E>(e: &SdkError<E, HttpResponse>) -> Option<u16> {
        e.raw_response().map(|r| r.status().as_u16())
    }

    async fn put_small(
        &self,
        key: &str,
        body: Vec<u8>,
        meta: &[(String, String)],
        cond: Option<&Cond>,
    ) -> Result<bool, StoreError> {
        let mut req = self.client.put_object().bucket(&self.bucket).key(self.key(key)).body(ByteStream::from(body));
        for (k, v) in meta {
            req = req.metadata(k, v);
        }
        req = match cond {
            Some(Cond::Absent) => req.if_none_match("*"),
            Some(Cond::Match(etag)) => req.if_match(etag),
            None => req,
        };
        match req.send().await {
            Ok(_) => Ok(true),
            // 409 is S3's answer to two conditional writes racing on one key.
            Err(e) if cond.is_some() && matches!(Self::status(&e), Some(412 | 409)) => Ok(false),
            Err(e) => Err(Self::err("PutObject", key, e)),
        }
    }

    /// Reads up to `max` bytes (less only at end of file).
    async fn read_chunk(file: &mut tokio::fs::File, max: usize, path: &Path) -> Result<Vec<u8>, StoreError> {
        let mut buf = Vec::with_capacity(max);
        let mut limited = (&mut *file).take(max as u64);
        limited.read_to_end(&mut buf).await.map_err(StoreError::io("read", path))?;
        Ok(buf)
    }

    async fn multipart(
        &self,
        key: &str,
        file: std::fs::File,
        path: &Path,
        size: u64,
        meta: &[(String, String)],
        progress: &Progress,
    ) -> Result<Transferred, StoreError> {
        let full = self.key(key);
        let mut req = self.client.create_multipart_upload().bucket(&self.bucket).key(&full);
        for (k, v) in meta {
            req = req.metadata(k, v);
        }
        let created = req.send().await.map_err(|e| Self::err("CreateMultipartUpload", key, e))?;
        let upload_id = created.upload_id().unwrap_or_default().to_string();
        let result = self.parts(key, &upload_id, file, path, size, progress).await;
        if result.is_err() {
            // Nothing of a failed upload may stay visible or billed.
            let abort =
                self.client.abort_multipart_upload().bucket(&self.bucket).key(&full).upload_id(&upload_id).send().await;
            if let Err(e) = abort {
                tracing::warn!("could not abort multipart upload {upload_id}: {}", DisplayErrorContext(&e));
            }
        }
        result
    }

    /// The parts go up [`PART_CONCURRENCY`] at a time, each streamed from the
    /// file (not held in memory) as soon as the hasher, reading the file once in
    /// order on its own thread, has its CRC32 (sent with it: S3 refuses a part
    /// whose bytes changed since they were hashed).
    async fn parts(
        &self,
        key: &str,
        upload_id: &str,
        file: std::fs::File,
        path: &Path,
        size: u64,
        progress: &Progress,
    ) -> Result<Transferred, StoreError> {
        let part_size = (PART_SIZE as u64).max(size.div_ceil(MAX_PARTS));
        let full = Arc::new(self.key(key));
        // A few parts ahead of the uploads at most: the hasher waits for them.
        let (tx, mut ready) = tokio::sync::mpsc::channel(PART_CONCURRENCY);
        let hasher = tokio::task::spawn_blocking(move || {
            ordered::parts(&file, size, part_size, |part| tx.blocking_send(part).is_ok())
        });
        let mut tasks = JoinSet::new();
        let mut parts = Vec::new();
        while let Some(part) = ready.recv().await {
            while tasks.len() >= PART_CONCURRENCY {
                parts.push(Self::joined(key, tasks.join_next().await, progress)?);
            }
            let body = ByteStream::read_from()
                .path(path)
                .offset(part.offset)
                .length(Length::Exact(part.len))
                .buffer_size(STREAM_BUFFER)
                .build()
                .await
                .map_err(|e| StoreError::S3 { op: "UploadPart", key: key.into(), message: e.to_string() })?;
            let req = self
                .client
                .upload_part()
                .bucket(&self.bucket)
                .key(full.as_str())
                .upload_id(upload_id)
                .part_number(part.number)
                .content_length(part.len as i64)
                .checksum_crc32(part.crc32)
                .body(body);
            let full = full.clone();
            tasks.spawn(async move {
                let out = req.send().await.map_err(|e| Self::err("UploadPart", &full, e))?;
                Ok((CompletedPart::builder().part_number(part.number).set_e_tag(out.e_tag).build(), part.len))
            });
        }
        while !tasks.is_empty() {
            parts.push(Self::joined(key, tasks.join_next().await, progress)?);
        }
        let sha256 = match hasher.await {
            Ok(Ok(Some(sha))) => sha,
            Ok(Ok(None)) => unreachable!("the receiver is kept until the hasher is done"),
            Ok(Err(e)) => return Err(StoreError::io("read", path)(e)),
            Err(e) => return Err(StoreError::S3 { op: "UploadPart", key: key.into(), message: e.to_string() }),
        };
        parts.sort_by_key(|p| p.part_number());
        let done = CompletedMultipartUpload::builder().set_parts(Some(parts)).build();
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(full.as_str())
            .upload_id(upload_id)
            .multipart_upload(done)
            .send()
            .await
            .map_err(|e| Self::err("CompleteMultipartUpload", key, e))?;
        Ok(Transferred { sha256: hex::encode(sha256), size })
    }

    /// A large object in [`RANGE_SIZE`] ranges, [`RANGE_CONCURRENCY`] in
    /// flight (one stream is bound by one core on either side), each written in
    /// place as it arrives; the hasher follows the written prefix on its own
    /// thread. Only the network's chunks are in memory, whatever the size.
    async fn ranges(&self, key: &str, total: u64, dest: &Path, progress: &Progress) -> Result<[u8; 32], StoreError> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(dest)
            .map_err(StoreError::io("create", dest))?;
        let file = Arc::new(file);
        let frontier = ordered::Frontier::new(total, RANGE_SIZE);
        let hasher = {
            let (file, frontier) = (file.clone(), frontier.clone());
            tokio::task::spawn_blocking(move || ordered::follow(&file, &frontier))
        };
        let got = self.fetch_ranges(key, &file, &frontier, dest, progress).await;
        if got.is_err() {
            frontier.abort();
        }
        let hashed = hasher.await;
        got?;
        match hashed {
            Ok(Ok(Some(sha))) => Ok(sha),
            Ok(Ok(None)) => unreachable!("only an error aborts"),
            Ok(Err(e)) => Err(StoreError::io("read", dest)(e)),
            Err(e) => Err(StoreError::S3 { op: "GetObject", key: key.into(), message: e.to_string() }),
        }
    }

    async fn fetch_ranges(
        &self,
        key: &str,
        file: &Arc<std::fs::File>,
        frontier: &Arc<ordered::Frontier>,
        dest: &Path,
        progress: &Progress,
    ) -> Result<(), StoreError> {
        let full = self.key(key);
        let mut tasks = JoinSet::new();
        let mut next = 0u64;
        loop {
            while next < frontier.ranges() && tasks.len() < RANGE_CONCURRENCY {
                let (start, end) = frontier.bounds(next);
                let req = self
                    .client
                    .get_object()
                    .bucket(&self.bucket)
                    .key(&full)
                    .range(format!("bytes={start}-{}", end - 1));
                let (key, file, frontier, dest, i) =
                    (key.to_string(), file.clone(), frontier.clone(), dest.to_path_buf(), next);
                tasks.spawn(async move {
                    let resp = req.send().await.map_err(|e| Self::err("GetObject", &key, e))?;
                    let mut body = resp.body;
                    let mut at = start;
                    while let Some(chunk) = body.next().await {
                        let chunk = chunk.map_err(|e| body_error(&key, &e))?;
                        if at + chunk.len() as u64 > end {
                            return Err(StoreError::Integrity { key, detail: "a range came back too long".into() });
                        }
                        // A write to the page cache: brief, so done here rather
                        // than by a trip to the blocking pool per chunk.
                        file.write_all_at(&chunk, at).map_err(StoreError::io("write", &dest))?;
                        at += chunk.len() as u64;
                        frontier.advance(i, chunk.len() as u64);
                    }
                    if at != end {
                        return Err(StoreError::S3 {
                            op: "GetObject",
                            key,
                            message: format!("the body of bytes {start}-{} ended at {at}", end - 1),
                        });
                    }
                    Ok::<_, StoreError>(end - start)
                });
                next += 1;
            }
            match tasks.join_next().await {
                Some(Ok(Ok(len))) => progress.inc(len),
                Some(Ok(Err(e))) => return Err(e),
                Some(Err(e)) => {
                    return Err(StoreError::S3 { op: "GetObject", key: key.into(), message: e.to_string() });
                }
                None => return Ok(()),
            }
        }
    }

    /// One finished part task: the part, or why it failed.
    fn joined(
        key: &str,
        joined: Option<Result<PartResult, tokio::task::JoinError>>,
        progress: &Progress,
    ) -> Result<CompletedPart, StoreError> {
        match joined {
            Some(Ok(Ok((part, len)))) => {
                progress.inc(len);
                Ok(part)
            }
            Some(Ok(Err(e))) => Err(e),
            Some(Err(e)) => Err(StoreError::S3 { op: "UploadPart", key: key.into(), message: e.to_string() }),
            None => Err(StoreError::S3 { op: "UploadPart", key: key.into(), message: "no part".into() }),
        }
    }
}

#[async_trait]
impl Store for S3Store {
    fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix.trim_end_matches('/'))
    }

    async fn upload(
        &self,
        key: &str,
        path: &Path,
        meta: &[(String, String)],
        progress: &Progress,
    ) -> Result<Transferred, StoreError> {
        let file = std::fs::File::open(path).map_err(StoreError::io("open", path))?;
        let size = file.metadata().map_err(StoreError::io("read", path))?.len();
        if size > MULTIPART_THRESHOLD {
            return self.multipart(key, file, path, size, meta, progress).await;
        }
        let mut file = tokio::fs::File::from_std(file);
        // Small enough to hold: hash first, so the sha256 goes into the metadata too.
        let body = Self::read_chunk(&mut file, MULTIPART_THRESHOLD as usize + 1, path).await?;
        let t = Transferred { sha256: hex::encode(Sha256::digest(&body)), size: body.len() as u64 };
        let mut meta = meta.to_vec();
        meta.push(("sha256".into(), t.sha256.clone()));
        self.put_small(key, body, &meta, None).await?;
        progress.inc(t.size);
        Ok(t)
    }

    async fn download(&self, key: &str, dest: &Path, progress: &Progress) -> Result<Transferred, StoreError> {
        let head = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(self.key(key))
            .send()
            .await
            .map_err(|e| Self::err("HeadObject", key, e))?;
        let total = head.content_length().unwrap_or(0).max(0) as u64;
        progress.set_total(total);
        let sha256 = self.ranges(key, total, dest, progress).await?;
        Ok(Transferred { sha256: hex::encode(sha256), size: total })
    }

    async fn get(&self, key: &str) -> Result<Option<Object>, StoreError> {
        let out = self.client.get_object().bucket(&self.bucket).key(self.key(key)).send().await;
        let out = match out {
            Ok(o) => o,
            // A missing key is no document; a missing bucket is an error.
            Err(e) if Self::status(&e) == Some(404) && e.code() != Some("NoSuchBucket") => return Ok(None),
            Err(e) => return Err(Self::err("GetObject", key, e)),
        };
        let etag = out.e_tag().unwrap_or_default().to_string();
        // Documents are a few kilobytes: a larger object under their key is not ours.
        let too_large = || StoreError::Corrupt {
            key: key.into(),
            detail: format!(
                "larger than {}, which no document stagegate writes is",
                crate::bounded::size(DOCUMENT as u64)
            ),
        };
        if out.content_length().is_some_and(|n| n > DOCUMENT as i64) {
            return Err(too_large());
        }
        let mut body = out.body;
        let mut bytes = Vec::new();
        while let Some(chunk) = body.try_next().await.map_err(|e| StoreError::S3 {
            op: "GetObject",
            key: key.into(),
            message: e.to_string(),
        })? {
            if bytes.len() + chunk.len() > DOCUMENT {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Some(Object { bytes, etag }))
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, cond: Cond) -> Result<bool, StoreError> {
        self.put_small(key, bytes, &[], Some(&cond)).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let out = self.client.delete_object().bucket(&self.bucket).key(self.key(key)).send().await;
        out.map(|_| ()).map_err(|e| Self::err("DeleteObject", key, e))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(self.key(prefix))
                .set_continuation_token(token)
                .send()
                .await
                .map_err(|e| Self::err("ListObjectsV2", prefix, e))?;
            for o in out.contents() {
                if let Some(k) = o.key().and_then(|k| k.strip_prefix(&self.prefix)) {
                    keys.push(k.to_string());
                }
            }
            match out.next_continuation_token() {
                Some(t) if out.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(keys)
    }
}

/// A body that broke off, or failed the CRC S3 stored at upload (the SDK checks
/// it before our sha256 can).
fn body_error(key: &str, e: &dyn std::error::Error) -> StoreError {
    let message = crate::error_chain(e);
    if message.contains("checksum mismatch") {
        StoreError::Integrity { key: key.into(), detail: message }
    } else {
        StoreError::S3 { op: "GetObject", key: key.into(), message }
    }
}
