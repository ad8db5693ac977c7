//! Consul's KV over its HTTP API: `GET /v1/kv/<key>` with blocking queries
//! (`?index=&wait=`, `X-Consul-Index`), `PUT ?cas=`, and `PUT /v1/txn`.
//! `CONSUL_HTTP_ADDR` and `CONSUL_HTTP_TOKEN` work as for the consul CLI; the
//! token travels only in `X-Consul-Token` and is never printed.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use super::{Entry, Kv, KvError, MAX_TXN_OPS, Read, TxnOp};
use crate::bounded;

pub struct Consul {
    base: String,
    token: Option<SecretString>,
    http: reqwest::Client,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KvPair {
    #[serde(default)]
    key: String,
    #[serde(default)]
    value: Option<String>,
    modify_index: u64,
}

fn value_of(key: &str, value: Option<String>) -> Result<Vec<u8>, KvError> {
    match value {
        Some(v) => B64.decode(v).map_err(|e| KvError::Corrupt { key: key.into(), detail: e.to_string() }),
        None => Ok(Vec::new()),
    }
}

impl Consul {
    /// `addr` from `consul://HOST:PORT`; `CONSUL_HTTP_ADDR` takes precedence.
    pub fn from_env(addr: &str) -> Result<Consul, KvError> {
        let env = std::env::var("CONSUL_HTTP_ADDR").ok().filter(|s| !s.is_empty());
        let addr = env.as_deref().unwrap_or(addr).trim_end_matches('/');
        if addr.is_empty() {
            return Err(KvError::Url("consul://".into()));
        }
        let ssl = std::env::var("CONSUL_HTTP_SSL").is_ok_and(|v| v == "true" || v == "1");
        let base = if addr.starts_with("http://") || addr.starts_with("https://") {
            addr.to_string()
        } else {
            format!("{}://{addr}", if ssl { "https" } else { "http" })
        };
        let token = std::env::var("CONSUL_HTTP_TOKEN").ok().filter(|t| !t.is_empty()).map(SecretString::from);
        Consul::new(base, token)
    }

    pub fn new(base: String, token: Option<SecretString>) -> Result<Consul, KvError> {
        crate::tls::install();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| KvError::Http { url: base.clone(), message: e.to_string() })?;
        Ok(Consul { base, token, http })
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let req = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => match reqwest::header::HeaderValue::from_str(t.expose_secret()) {
                Ok(mut v) => {
                    // Kept out of any debug output of the request.
                    v.set_sensitive(true);
                    req.header("X-Consul-Token", v)
                }
                Err(_) => req,
            },
            None => req,
        }
    }

    async fn send(&self, req: RequestBuilder, what: &str) -> Result<Response, KvError> {
        let resp =
            req.send().await.map_err(|e| KvError::Http { url: self.base.clone(), message: crate::error_chain(&e) })?;
        match resp.status() {
            StatusCode::FORBIDDEN => Err(KvError::Denied { what: what.into() }),
            _ => Ok(resp),
        }
    }

    fn body_error(&self, what: &str, e: bounded::BodyError) -> KvError {
        match e {
            bounded::BodyError::TooLarge { limit } => {
                KvError::TooLarge { what: what.into(), limit: bounded::size(limit as u64) }
            }
            bounded::BodyError::Http(e) => KvError::Http { url: self.base.clone(), message: e.to_string() },
        }
    }

    /// `PUT` (with `value`) or `DELETE` of `key` with `?cas=index`: Consul
    /// answers `true` when applied, `false` when the index did not match.
    async fn checked(&self, method: Method, key: &str, index: u64, value: Option<Vec<u8>>) -> Result<bool, KvError> {
        let what = format!("{method} {key}?cas={index}");
        let mut req = self
            .request(method, &format!("/v1/kv/{key}"))
            .query(&[("cas", index.to_string())])
            .timeout(Duration::from_secs(30));
        if let Some(v) = value {
            req = req.body(v);
        }
        let resp = self.send(req, &what).await?;
        if !resp.status().is_success() {
            return Err(Self::fail(resp, &what).await);
        }
        let body = bounded::text(resp, bounded::ANSWER).await.map_err(|e| self.body_error(&what, e))?;
        Ok(body.trim() == "true")
    }

    async fn fail(resp: Response, what: &str) -> KvError {
        let status = resp.status().as_u16();
        let body = bounded::text(resp, bounded::ANSWER).await.unwrap_or_default();
        KvError::Status { what: what.into(), status, body: body.trim().chars().take(500).collect() }
    }
}

#[async_trait]
impl Kv for Consul {
    fn describe(&self) -> String {
        format!("consul {}", self.base)
    }

    async fn read(&self, key: &str, index: u64, wait: Duration) -> Result<Read, KvError> {
        let what = format!("GET {key}");
        let mut req = self.request(Method::GET, &format!("/v1/kv/{key}"));
        if index > 0 {
            let secs = wait.as_secs().max(1);
            // Consul adds up to wait/16 of jitter before answering.
            req = req
                .query(&[("index", index.to_string()), ("wait", format!("{secs}s"))])
                .timeout(Duration::from_secs(secs + secs / 16 + 10));
        } else {
            req = req.timeout(Duration::from_secs(30));
        }
        let resp = self.send(req, &what).await?;
        let header = resp.headers().get("x-consul-index").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        match resp.status() {
            StatusCode::NOT_FOUND => Ok(Read { entry: None, index: header.unwrap_or(0) }),
            StatusCode::OK => {
                let body = bounded::body(resp, bounded::ANSWER).await.map_err(|e| self.body_error(&what, e))?;
                let pairs: Vec<KvPair> = serde_json::from_slice(&body)
                    .map_err(|e| KvError::Corrupt { key: key.into(), detail: e.to_string() })?;
                let Some(p) = pairs.into_iter().next() else {
                    return Ok(Read { entry: None, index: header.unwrap_or(0) });
                };
                let value = value_of(key, p.value)?;
                let index = header.unwrap_or(p.modify_index);
                Ok(Read { entry: Some(Entry { value, modify_index: p.modify_index }), index })
            }
            _ => Err(Self::fail(resp, &what).await),
        }
    }

    async fn cas(&self, key: &str, value: Vec<u8>, index: u64) -> Result<bool, KvError> {
        self.checked(Method::PUT, key, index, Some(value)).await
    }

    async fn txn(&self, ops: Vec<TxnOp>) -> Result<bool, KvError> {
        if ops.len() > MAX_TXN_OPS {
            return Err(KvError::TooManyOps(ops.len()));
        }
        let body: Vec<_> = ops
            .iter()
            .map(|TxnOp::Cas { key, value, index }| {
                json!({"KV": {"Verb": "cas", "Key": key, "Value": B64.encode(value), "Index": index}})
            })
            .collect();
        let what = "PUT /v1/txn";
        let req = self.request(Method::PUT, "/v1/txn").json(&body).timeout(Duration::from_secs(30));
        let resp = self.send(req, what).await?;
        match resp.status() {
            StatusCode::OK => Ok(true),
            // Rolled back: some check failed; `Errors` says which.
            StatusCode::CONFLICT => {
                let errors = bounded::text(resp, bounded::ANSWER).await.unwrap_or_default();
                tracing::info!("transaction rolled back: {errors}");
                Ok(false)
            }
            _ => Err(Self::fail(resp, what).await),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<(String, Entry)>, KvError> {
        let what = format!("GET {prefix}?recurse");
        let req = self
            .request(Method::GET, &format!("/v1/kv/{prefix}"))
            .query(&[("recurse", "true")])
            .timeout(Duration::from_secs(60));
        let resp = self.send(req, &what).await?;
        match resp.status() {
            StatusCode::NOT_FOUND => Ok(Vec::new()),
            StatusCode::OK => {
                let body = bounded::body(resp, bounded::LISTING).await.map_err(|e| self.body_error(&what, e))?;
                let pairs: Vec<KvPair> = serde_json::from_slice(&body)
                    .map_err(|e| KvError::Corrupt { key: prefix.into(), detail: e.to_string() })?;
                let mut out = Vec::with_capacity(pairs.len());
                for p in pairs.into_iter().filter(|p| p.key.starts_with(prefix)) {
                    let value = value_of(&p.key, p.value)?;
                    out.push((p.key, Entry { value, modify_index: p.modify_index }));
                }
                Ok(out)
            }
            _ => Err(Self::fail(resp, &what).await),
        }
    }

    async fn delete(&self, key: &str, index: u64) -> Result<bool, KvError> {
        self.checked(Method::DELETE, key, index, None).await
    }
}
