//! A Consul KV test server following HashiCorp's published HTTP API:
//! `GET/PUT/DELETE /v1/kv/<key>` (blocking queries with `?index=&wait=`,
//! `X-Consul-Index` also on a 404, `?cas=`, `?recurse`, `?raw`), `PUT /v1/txn`
//! (set/cas/get/delete/check-index, all-or-nothing: 409 with `Errors`, else 200
//! with `Results`; at most 128 operations), and ACLs: with a token configured,
//! a request without it gets 403 "Permission denied". Like Consul, a value (and
//! a transaction's body) larger than 512 KiB is refused with 413.
//!
//! When `CONSUL_HTTP_ADDR` is set, [`consul`] returns that address instead, so
//! the same tests run against a real Consul.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Response};
use serde_json::{Value, json};

use super::http::{Req, Server, rebind, respond, serve_fn_on};

/// Consul's `kv_max_value_size` default: 512 KiB.
pub const MAX_VALUE: usize = 512 * 1024;

fn too_large(len: usize) -> Response<Full<Bytes>> {
    respond(
        413,
        &[],
        format!(
            "Request body({len} bytes) too large, max size: {MAX_VALUE} bytes. See https://developer.hashicorp.com/consul/docs/agent/config/config-files#kv_max_value_size."
        ),
    )
}

#[derive(Debug, Clone)]
struct Entry {
    value: Vec<u8>,
    flags: u64,
    create_index: u64,
    modify_index: u64,
}

#[derive(Debug, Default)]
struct State {
    index: u64,
    /// Bumped by a snapshot restore: blocked queries return at once.
    generation: u64,
    keys: BTreeMap<String, Entry>,
}

struct Shared {
    state: Mutex<State>,
    changed: tokio::sync::Notify,
    token: Option<String>,
}

/// The test server, or a real Consul's address.
pub struct Consul {
    pub addr: String,
    pub token: Option<String>,
    server: Option<(Server, Arc<Shared>)>,
}

/// `CONSUL_HTTP_ADDR` (a real Consul) if set, else a fresh test server.
pub fn consul() -> Consul {
    match std::env::var("CONSUL_HTTP_ADDR").ok().filter(|a| !a.is_empty()) {
        Some(addr) => Consul { addr, token: std::env::var("CONSUL_HTTP_TOKEN").ok(), server: None },
        None => Consul::start(None),
    }
}

impl Consul {
    pub fn start(token: Option<&str>) -> Consul {
        let shared = Arc::new(Shared {
            state: Mutex::new(State { index: 1, ..State::default() }),
            changed: tokio::sync::Notify::new(),
            token: token.map(str::to_string),
        });
        let server = listen(super::http::ephemeral(), &shared);
        Consul { addr: server.url(), token: token.map(str::to_string), server: Some((server, shared)) }
    }

    fn test_server(&mut self) -> &mut (Server, Arc<Shared>) {
        self.server.as_mut().expect("only the test server can be stopped and changed")
    }

    /// The agent goes down: every connection, blocked queries included, is cut.
    pub fn stop(&mut self) {
        self.test_server().0.stop();
    }

    /// The agent comes back on the same port with the data it had (plus what
    /// [`Consul::set`] wrote while it was down), as after a restart.
    pub fn start_again(&mut self) {
        let (server, shared) = self.test_server();
        let fresh = listen(rebind(server.addr), shared);
        *server = fresh;
    }

    /// Writes `key` as another client would, also while the server is down.
    pub fn set(&mut self, key: &str, value: &str) {
        assert!(value.len() <= MAX_VALUE, "Consul refuses values over 512 KiB");
        let shared = self.test_server().1.clone();
        let mut st = shared.state.lock().unwrap();
        st.index += 1;
        let index = st.index;
        let create_index = st.keys.get(key).map_or(index, |e| e.create_index);
        st.keys.insert(
            key.to_string(),
            Entry { value: value.as_bytes().to_vec(), flags: 0, create_index, modify_index: index },
        );
        drop(st);
        shared.changed.notify_waiters();
    }

    /// The keys under `prefix` (test server only).
    pub fn keys(&mut self, prefix: &str) -> Vec<String> {
        let st = self.test_server().1.state.lock().unwrap();
        st.keys.keys().filter(|k| k.starts_with(prefix)).cloned().collect()
    }

    /// A snapshot restore: every index goes back to a low number, as after
    /// `consul snapshot restore` of an old snapshot. Only on the test server.
    pub fn restore_snapshot(&self) {
        let (_, shared) = self.server.as_ref().expect("only the test server can be restored");
        let mut st = shared.state.lock().unwrap();
        for e in st.keys.values_mut() {
            e.create_index = 1;
            e.modify_index = 1;
        }
        st.index = 1;
        st.generation += 1;
        drop(st);
        shared.changed.notify_waiters();
    }
}

fn listen(listener: std::net::TcpListener, shared: &Arc<Shared>) -> Server {
    let s = shared.clone();
    serve_fn_on(listener, move |req| handle(s.clone(), req))
}

fn denied() -> Response<Full<Bytes>> {
    respond(403, &[], "Permission denied")
}

fn entry_json(key: &str, e: &Entry) -> Value {
    json!({
        "LockIndex": 0, "Key": key, "Flags": e.flags,
        "Value": if e.value.is_empty() { Value::Null } else { Value::String(B64.encode(&e.value)) },
        "CreateIndex": e.create_index, "ModifyIndex": e.modify_index,
    })
}

/// Consul's duration syntax for `wait`: `10s`, `5m`, `250ms`; default 5m, max 10m.
fn wait_of(req: &Req) -> Duration {
    let w = req.param("wait").unwrap_or("5m");
    let d = if let Some(n) = w.strip_suffix("ms") {
        n.parse().map(Duration::from_millis).ok()
    } else if let Some(n) = w.strip_suffix('s') {
        n.parse().map(Duration::from_secs).ok()
    } else if let Some(n) = w.strip_suffix('m') {
        n.parse().map(|m: u64| Duration::from_secs(m * 60)).ok()
    } else {
        None
    };
    d.unwrap_or(Duration::from_secs(300)).min(Duration::from_secs(600))
}

async fn handle(shared: Arc<Shared>, req: Req) -> Response<Full<Bytes>> {
    if let Some(t) = &shared.token {
        let given = req
            .header("x-consul-token")
            .map(str::to_string)
            .or_else(|| req.header("authorization").and_then(|a| a.strip_prefix("Bearer ")).map(str::to_string))
            .or_else(|| req.param("token").map(str::to_string));
        if given.as_deref() != Some(t.as_str()) {
            return denied();
        }
    }
    if req.path == "/v1/txn" && req.method == Method::PUT {
        return txn(&shared, &req);
    }
    let Some(key) = req.path.strip_prefix("/v1/kv/").map(str::to_string) else {
        return respond(404, &[], "");
    };
    match req.method {
        Method::GET => get(&shared, &req, &key).await,
        Method::PUT => put(&shared, &req, &key),
        Method::DELETE => delete(&shared, &req, &key),
        _ => respond(405, &[], "method not allowed"),
    }
}

async fn get(shared: &Shared, req: &Req, key: &str) -> Response<Full<Bytes>> {
    let recurse = req.has("recurse");
    let matches = |k: &str| if recurse { k.starts_with(key) } else { k == key };
    let min: u64 = req.param("index").and_then(|i| i.parse().ok()).unwrap_or(0);
    let deadline = Instant::now() + wait_of(req);
    let generation = shared.state.lock().unwrap().generation;
    loop {
        let notified = shared.changed.notified();
        {
            let st = shared.state.lock().unwrap();
            let found: Vec<(&String, &Entry)> = st.keys.iter().filter(|(k, _)| matches(k)).collect();
            let index = found.iter().map(|(_, e)| e.modify_index).max().unwrap_or(st.index);
            if min == 0 || index > min || st.generation != generation || Instant::now() >= deadline {
                let headers = [
                    ("X-Consul-Index", index.to_string()),
                    ("X-Consul-Knownleader", "true".to_string()),
                    ("X-Consul-Lastcontact", "0".to_string()),
                ];
                if found.is_empty() {
                    return respond(404, &headers, "");
                }
                if req.has("raw") {
                    return respond(200, &headers, found[0].1.value.clone());
                }
                let body: Vec<Value> = found.iter().map(|(k, e)| entry_json(k, e)).collect();
                let mut h = headers.to_vec();
                h.push(("Content-Type", "application/json".into()));
                return respond(200, &h, serde_json::to_vec(&body).unwrap());
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let _ = tokio::time::timeout(left, notified).await;
    }
}

fn put(shared: &Shared, req: &Req, key: &str) -> Response<Full<Bytes>> {
    if req.body.len() > MAX_VALUE {
        return too_large(req.body.len());
    }
    let mut st = shared.state.lock().unwrap();
    let current = st.keys.get(key).map(|e| e.modify_index);
    if let Some(cas) = req.param("cas") {
        let Ok(cas) = cas.parse::<u64>() else { return respond(400, &[], "Invalid CAS index") };
        let ok = match current {
            None => cas == 0,
            Some(m) => cas == m,
        };
        if !ok {
            return respond(200, &[("Content-Type", "application/json".into())], "false");
        }
    }
    st.index += 1;
    let index = st.index;
    let flags = req.param("flags").and_then(|f| f.parse().ok()).unwrap_or(0);
    let create_index = st.keys.get(key).map_or(index, |e| e.create_index);
    st.keys.insert(key.to_string(), Entry { value: req.body.to_vec(), flags, create_index, modify_index: index });
    drop(st);
    shared.changed.notify_waiters();
    respond(200, &[("Content-Type", "application/json".into())], "true")
}

fn delete(shared: &Shared, req: &Req, key: &str) -> Response<Full<Bytes>> {
    let mut st = shared.state.lock().unwrap();
    if let Some(cas) = req.param("cas").and_then(|c| c.parse::<u64>().ok())
        && st.keys.get(key).map(|e| e.modify_index) != Some(cas)
    {
        return respond(200, &[], "false");
    }
    if req.has("recurse") {
        st.keys.retain(|k, _| !k.starts_with(key));
    } else {
        st.keys.remove(key);
    }
    st.index += 1;
    drop(st);
    shared.changed.notify_waiters();
    respond(200, &[("Content-Type", "application/json".into())], "true")
}

/// `PUT /v1/txn`: run every operation against a copy; commit only if none failed.
fn txn(shared: &Shared, req: &Req) -> Response<Full<Bytes>> {
    if req.body.len() > MAX_VALUE {
        return too_large(req.body.len());
    }
    let Ok(Value::Array(ops)) = serde_json::from_slice::<Value>(&req.body) else {
        return respond(400, &[], "Failed to parse body");
    };
    if ops.len() > 128 {
        return respond(413, &[], format!("Transaction contains too many operations ({} > 128)", ops.len()));
    }
    let mut st = shared.state.lock().unwrap();
    let mut keys = st.keys.clone();
    let index = st.index + 1;
    let (mut results, mut errors, mut wrote) = (Vec::new(), Vec::new(), false);
    for (i, op) in ops.iter().enumerate() {
        let kv = &op["KV"];
        let verb = kv["Verb"].as_str().unwrap_or("");
        let key = kv["Key"].as_str().unwrap_or("").to_string();
        let value = kv["Value"].as_str().map(|v| B64.decode(v).unwrap_or_default()).unwrap_or_default();
        let want = kv["Index"].as_u64().unwrap_or(0);
        let current = keys.get(&key).map(|e| e.modify_index);
        let mut fail = |what: String| errors.push(json!({"OpIndex": i, "What": what}));
        match verb {
            "set" | "cas" => {
                if verb == "cas" && current.unwrap_or(0) != want {
                    fail(format!("failed to set key \"{key}\", index is stale"));
                    continue;
                }
                let create_index = keys.get(&key).map_or(index, |e| e.create_index);
                let flags = kv["Flags"].as_u64().unwrap_or(0);
                let e = Entry { value, flags, create_index, modify_index: index };
                results.push(json!({"KV": entry_json(&key, &Entry { value: Vec::new(), ..e.clone() })}));
                keys.insert(key, e);
                wrote = true;
            }
            "get" => match keys.get(&key) {
                Some(e) => results.push(json!({"KV": entry_json(&key, e)})),
                None => fail(format!("key \"{key}\" doesn't exist")),
            },
            "check-index" => match current {
                Some(m) if m == want => results.push(json!({"KV": entry_json(&key, &keys[&key])})),
                Some(_) => fail(format!("current modify index {} != {want}", current.unwrap_or(0))),
                None => fail(format!("key \"{key}\" doesn't exist")),
            },
            "check-not-exists" => {
                if current.is_some() {
                    fail(format!("key \"{key}\" exists"));
                }
            }
            "delete" => {
                keys.remove(&key);
                wrote = true;
            }
            other => fail(format!("unknown KV verb \"{other}\"")),
        }
    }
    let json_ct = [("Content-Type", "application/json".to_string())];
    if !errors.is_empty() {
        return respond(409, &json_ct, serde_json::to_vec(&json!({"Results": null, "Errors": errors})).unwrap());
    }
    if wrote {
        st.keys = keys;
        st.index = index;
    }
    drop(st);
    shared.changed.notify_waiters();
    respond(200, &json_ct, serde_json::to_vec(&json!({"Results": results, "Errors": null})).unwrap())
}
