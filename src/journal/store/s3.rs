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
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;

use super::{Cond, Object, Store, StoreError, Transferred};
use crate::config::S3;
use crate::journal::progress::Progress;

/// Files above this size go up in parts.
pub const MULTIPART_THRESHOLD: u64 = 16 << 20;
/// Part size; with [`PART_CONCURRENCY`] parts in flight, at most 32 MiB of a
/// journal is in memory, whatever its size.
pub const PART_SIZE: usize = 8 << 20;
pub const PART_CONCURRENCY: usize = 4;
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
    /// `rest` is `BUCKET[/PREFIX]` from `s3://BUCKET/PREFIX`.
    pub async fn connect(rest: &str, opts: Option<&S3>) -> Result<S3Store, StoreError> {
        use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
        crate::tls::install();
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(StoreError::Url(format!("s3://{rest}")));
        }
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

    fn err<E, R>(op: &'static str, key: &str, e: SdkError<E, R>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let message = match e.as_service_error() {
            Some(s) if s.code().is_some() => {
                format!("{}: {}", s.code().unwrap_or_default(), s.message().unwrap_or_default())
            }
            _ => DisplayErrorContext(&e).to_string(),
        };
        StoreError::S3 { op, key: key.to_string(), message }
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
        file: &mut tokio::fs::File,
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

    async fn parts(
        &self,
        key: &str,
        upload_id: &str,
        file: &mut tokio::fs::File,
        path: &Path,
        size: u64,
        progress: &Progress,
    ) -> Result<Transferred, StoreError> {
        let part_size = (PART_SIZE as u64).max(size.div_ceil(MAX_PARTS)) as usize;
        let full = Arc::new(self.key(key));
        let mut hasher = Sha256::new();
        let mut tasks = JoinSet::new();
        let mut parts = Vec::new();
        let mut total = 0u64;
        for number in 1.. {
            // A free slot first, then the next part read: at most
            // PART_CONCURRENCY parts are in memory.
            while tasks.len() >= PART_CONCURRENCY {
                parts.push(Self::joined(key, tasks.join_next().await, progress)?);
            }
            let chunk = Self::read_chunk(file, part_size, path).await?;
            if chunk.is_empty() {
                break;
            }
            hasher.update(&chunk);
            total += chunk.len() as u64;
            let (client, bucket, full, id) =
                (self.client.clone(), self.bucket.clone(), full.clone(), upload_id.to_string());
            tasks.spawn(async move {
                let len = chunk.len() as u64;
                let out = client
                    .upload_part()
                    .bucket(bucket)
                    .key(full.as_str())
                    .upload_id(id)
                    .part_number(number)
                    .body(ByteStream::from(chunk))
                    .send()
                    .await;
                out.map(|o| (CompletedPart::builder().part_number(number).set_e_tag(o.e_tag).build(), len))
                    .map_err(|e| Self::err("UploadPart", &full, e))
            });
        }
        while !tasks.is_empty() {
            parts.push(Self::joined(key, tasks.join_next().await, progress)?);
        }
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
        Ok(Transferred { sha256: hex::encode(hasher.finalize()), size: total })
    }

    /// A large object in [`PART_SIZE`] ranges, [`PART_CONCURRENCY`] in flight
    /// (one stream is bound by one core on either side), hashed and written in
    /// order: at most that many ranges are held, whatever the object's size.
    async fn ranges(
        &self,
        key: &str,
        total: u64,
        out: &mut Sink,
        dest: &Path,
        progress: &Progress,
    ) -> Result<(), StoreError> {
        let parts = total.div_ceil(PART_SIZE as u64);
        let full = Arc::new(self.key(key));
        let mut tasks = JoinSet::new();
        let mut ready: std::collections::BTreeMap<u64, Vec<u8>> = std::collections::BTreeMap::new();
        let (mut next_spawn, mut next_write) = (0u64, 0u64);
        while next_write < parts {
            while next_spawn < parts && next_spawn < next_write + PART_CONCURRENCY as u64 {
                let start = next_spawn * PART_SIZE as u64;
                let end = (start + PART_SIZE as u64).min(total) - 1;
                let req = self
                    .client
                    .get_object()
                    .bucket(&self.bucket)
                    .key(full.as_str())
                    .range(format!("bytes={start}-{end}"));
                let key = key.to_string();
                let part = next_spawn;
                tasks.spawn(async move {
                    let resp = req.send().await.map_err(|e| Self::err("GetObject", &key, e))?;
                    // One buffer of the range's size, filled once: no copy of a copy.
                    let mut buf = Vec::with_capacity((end + 1 - start) as usize);
                    let mut body = resp.body;
                    while let Some(chunk) = body.next().await {
                        buf.extend_from_slice(&chunk.map_err(|e| body_error(&key, &e))?);
                    }
                    Ok::<_, StoreError>((part, buf))
                });
                next_spawn += 1;
            }
            if let Some(bytes) = ready.remove(&next_write) {
                out.write(&bytes, dest, progress).await?;
                next_write += 1;
                continue;
            }
            match tasks.join_next().await {
                Some(Ok(Ok((part, bytes)))) => {
                    ready.insert(part, bytes);
                }
                Some(Ok(Err(e))) => return Err(e),
                Some(Err(e)) => {
                    return Err(StoreError::S3 { op: "GetObject", key: key.into(), message: e.to_string() });
                }
                None => return Err(StoreError::S3 { op: "GetObject", key: key.into(), message: "no range".into() }),
            }
        }
        Ok(())
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
        let mut file = tokio::fs::File::open(path).await.map_err(StoreError::io("open", path))?;
        let size = file.metadata().await.map_err(StoreError::io("read", path))?.len();
        if size > MULTIPART_THRESHOLD {
            return self.multipart(key, &mut file, path, size, meta, progress).await;
        }
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
        let f = tokio::fs::File::create(dest).await.map_err(StoreError::io("create", dest))?;
        // The body arrives in small chunks; each write to a tokio file is a trip
        // to the blocking pool, so they go out 1 MiB at a time.
        let mut out = Sink { file: tokio::io::BufWriter::with_capacity(1 << 20, f), hasher: Sha256::new(), size: 0 };
        if total <= PART_SIZE as u64 {
            let resp = self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(self.key(key))
                .send()
                .await
                .map_err(|e| Self::err("GetObject", key, e))?;
            let mut body = resp.body;
            while let Some(chunk) = body.next().await {
                out.write(&chunk.map_err(|e| body_error(key, &e))?, dest, progress).await?;
            }
        } else {
            self.ranges(key, total, &mut out, dest, progress).await?;
        }
        out.file.flush().await.map_err(StoreError::io("write", dest))?;
        Ok(Transferred { sha256: hex::encode(out.hasher.finalize()), size: out.size })
    }

    async fn get(&self, key: &str) -> Result<Option<Object>, StoreError> {
        let out = self.client.get_object().bucket(&self.bucket).key(self.key(key)).send().await;
        let out = match out {
            Ok(o) => o,
            Err(e) if Self::status(&e) == Some(404) => return Ok(None),
            Err(e) => return Err(Self::err("GetObject", key, e)),
        };
        let etag = out.e_tag().unwrap_or_default().to_string();
        let bytes = out.body.collect().await.map_err(|e| StoreError::S3 {
            op: "GetObject",
            key: key.into(),
            message: e.to_string(),
        })?;
        Ok(Some(Object { bytes: bytes.to_vec(), etag }))
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

/// Where a download goes: the file, hashed on the way.
struct Sink {
    file: tokio::io::BufWriter<tokio::fs::File>,
    hasher: Sha256,
    size: u64,
}

impl Sink {
    async fn write(&mut self, chunk: &[u8], dest: &Path, progress: &Progress) -> Result<(), StoreError> {
        self.hasher.update(chunk);
        self.file.write_all(chunk).await.map_err(StoreError::io("write", dest))?;
        self.size += chunk.len() as u64;
        progress.inc(chunk.len() as u64);
        Ok(())
    }
}

/// A body that broke off, or failed the CRC S3 stored at upload (the SDK checks
/// it before our sha256 can).
fn body_error(key: &str, e: &dyn std::error::Error) -> StoreError {
    let message = crate::journal::error_chain(e);
    if message.contains("checksum mismatch") {
        StoreError::Integrity { key: key.into(), detail: message }
    } else {
        StoreError::S3 { op: "GetObject", key: key.into(), message }
    }
}
