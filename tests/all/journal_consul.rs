//! The Consul KV semantics stagegate relies on, checked against the test
//! server — or against a real Consul when `CONSUL_HTTP_ADDR` is set — and
//! stagegate's own behaviour with ACLs and a snapshot restore.

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use crate::support::consul::{Consul, consul};
use crate::support::journal::{Backend, Pipeline};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

struct Api {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
    prefix: String,
}

impl Api {
    fn new(c: &Consul) -> Api {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let base = if c.addr.starts_with("http") { c.addr.clone() } else { format!("http://{}", c.addr) };
        let prefix = format!("stagegate-test-{}-{}", std::process::id(), rand_suffix());
        Api { base, token: c.token.clone(), http: reqwest::Client::new(), prefix }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let r = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => r.header("X-Consul-Token", t),
            None => r,
        }
    }

    fn key(&self, k: &str) -> String {
        format!("{}/{k}", self.prefix)
    }

    async fn put(&self, k: &str, value: &str, cas: Option<u64>) -> bool {
        let mut r = self.req(reqwest::Method::PUT, &format!("/v1/kv/{}", self.key(k))).body(value.to_string());
        if let Some(c) = cas {
            r = r.query(&[("cas", c)]);
        }
        r.send().await.unwrap().text().await.unwrap().trim() == "true"
    }

    async fn txn(&self, ops: Value) -> (u16, Value) {
        let resp = self.req(reqwest::Method::PUT, "/v1/txn").json(&ops).send().await.unwrap();
        (resp.status().as_u16(), resp.json::<Value>().await.unwrap_or(Value::Null))
    }

    async fn get(&self, k: &str, query: &[(&str, String)]) -> (u16, u64, Value) {
        let resp =
            self.req(reqwest::Method::GET, &format!("/v1/kv/{}", self.key(k))).query(query).send().await.unwrap();
        let status = resp.status().as_u16();
        let index = resp.headers().get("X-CONSUL-INDEX").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        let body = resp.json().await.unwrap_or(Value::Null);
        (status, index.expect("X-Consul-Index on every KV read"), body)
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() as u64
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn kv_reads_writes_and_cas() {
    let c = consul();
    let api = Api::new(&c);
    rt().block_on(async {
        let (status, index, _) = api.get("missing", &[]).await;
        assert_eq!(status, 404);
        assert!(index >= 1, "a missing key still carries X-Consul-Index");
        assert!(api.put("lane", "v1", Some(0)).await, "cas=0 creates");
        assert!(!api.put("lane", "v2", Some(0)).await, "cas=0 is create-only");
        let (status, index, body) = api.get("lane", &[]).await;
        assert_eq!(status, 200);
        assert_eq!(body[0]["Value"], b64("v1"));
        let modify = body[0]["ModifyIndex"].as_u64().unwrap();
        assert_eq!(index, modify);
        assert!(!api.put("lane", "v2", Some(modify + 1000)).await, "stale cas refused");
        assert!(api.put("lane", "v2", Some(modify)).await);
        let raw = api.req(reqwest::Method::GET, &format!("/v1/kv/{}", api.key("lane"))).query(&[("raw", "")]);
        assert_eq!(raw.send().await.unwrap().text().await.unwrap(), "v2");
        let (_, _, all) = api.get("", &[("recurse", String::new())]).await;
        assert_eq!(all.as_array().unwrap().len(), 1);
    });
}

#[test]
fn blocking_queries_wait_for_a_change() {
    let c = consul();
    let api = std::sync::Arc::new(Api::new(&c));
    rt().block_on(async {
        assert!(api.put("lane", "v1", None).await);
        let (_, index, _) = api.get("lane", &[]).await;
        // Nothing changes: the query returns after `wait` with the same index.
        let (status, same, _) = api.get("lane", &[("index", index.to_string()), ("wait", "1s".into())]).await;
        assert_eq!((status, same), (200, index));
        let writer = api.clone();
        let change = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            writer.put("lane", "v2", None).await
        });
        let (_, newer, body) = api.get("lane", &[("index", index.to_string()), ("wait", "30s".into())]).await;
        assert!(change.await.unwrap());
        assert!(newer > index);
        assert_eq!(body[0]["Value"], b64("v2"));
    });
}

#[test]
fn transactions_are_all_or_nothing() {
    let c = consul();
    let api = Api::new(&c);
    rt().block_on(async {
        assert!(api.put("dev", "v0", None).await);
        // The second operation's check fails: the first must not be applied.
        let ops = json!([
            {"KV": {"Verb": "set", "Key": api.key("qa"), "Value": b64("v1")}},
            {"KV": {"Verb": "cas", "Key": api.key("dev"), "Value": b64("v2"), "Index": 1}},
        ]);
        let (status, body) = api.txn(ops).await;
        assert_eq!(status, 409, "{body}");
        assert_eq!(body["Errors"][0]["OpIndex"], 1, "{body}");
        assert_eq!(api.get("qa", &[]).await.0, 404, "rolled back");
        let (_, _, dev) = api.get("dev", &[]).await;
        let index = dev[0]["ModifyIndex"].as_u64().unwrap();
        let ops = json!([
            {"KV": {"Verb": "cas", "Key": api.key("qa"), "Value": b64("v1"), "Index": 0}},
            {"KV": {"Verb": "cas", "Key": api.key("dev"), "Value": b64("v2"), "Index": index}},
        ]);
        let (status, body) = api.txn(ops).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["Results"].as_array().unwrap().len(), 2);
        let (_, _, qa) = api.get("qa", &[]).await;
        let (_, _, dev) = api.get("dev", &[]).await;
        assert_eq!(qa[0]["ModifyIndex"], dev[0]["ModifyIndex"], "one transaction, one index");
        let too_many: Vec<Value> = (0..129)
            .map(|i| json!({"KV": {"Verb": "set", "Key": api.key(&format!("k{i}")), "Value": b64("x")}}))
            .collect();
        let (status, _) = api.txn(Value::Array(too_many)).await;
        assert_eq!(status, 413);
    });
}

#[test]
fn acl_tokens_are_required_and_never_printed() {
    // Needs a server whose token we know: the test server, or a real Consul with ACLs on.
    if std::env::var("CONSUL_HTTP_ADDR").is_ok_and(|a| !a.is_empty()) && std::env::var("CONSUL_HTTP_TOKEN").is_err() {
        return;
    }
    let c = if std::env::var("CONSUL_HTTP_ADDR").is_ok_and(|a| !a.is_empty()) {
        consul()
    } else {
        Consul::start(Some("s3cr3t-token"))
    };
    let token = c.token.clone().unwrap();
    let anonymous = Api { token: None, ..Api::new(&c) };
    rt().block_on(async {
        let resp = anonymous.req(reqwest::Method::GET, "/v1/kv/anything").send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 403);
        assert!(resp.text().await.unwrap().contains("Permission denied"));
    });
    let mut p = Pipeline::new(Backend::Remote);
    p.consul = Some(c);
    p.upload("a.jnl", "A", "dev-modelling");
    let (code, v, err) = p.json(&["journal", "seed"]);
    assert_eq!(code, 0, "{err}");
    assert!(!v.to_string().contains(&token) && !err.contains(&token));
    let mut anonymous = p.cmd();
    anonymous.env_remove("CONSUL_HTTP_TOKEN").args(["--output", "json", "journal", "status"]);
    let (code, out, err) = crate::support::run(anonymous);
    assert_eq!(code, 1);
    assert!(out.contains("permission denied"), "{out}");
    assert!(!out.contains(&token) && !err.contains(&token));
}

#[test]
fn a_watcher_recovers_when_the_index_goes_backwards() {
    if std::env::var("CONSUL_HTTP_ADDR").is_ok_and(|a| !a.is_empty()) {
        return; // restoring a snapshot is only possible on the test server
    }
    let p = Pipeline::new(Backend::Remote);
    let v1 = p.upload("a.jnl", "A", "dev-modelling");
    let v2 = p.upload("b.jnl", "B", "dev-modelling");
    for _ in 0..5 {
        assert!(p.run(&["journal", "seed"]).0 == 0); // push the index up
    }
    let cmd = p.import_cmd();
    let mut c = p.std_cmd();
    c.args(["journal", "watch", "--lane", "dev", "--exec", &cmd]);
    let watcher = c.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    assert_eq!(p.wait_for_imports(1), [format!("dev {v2} B")]);
    // Let the watcher record the import and go back to its blocking query.
    p.wait_until_imported("dev", &v2);
    std::thread::sleep(Duration::from_millis(500));
    // The cluster is restored from an old snapshot: indexes drop to 1. The
    // watcher must start over from 0 and still see the next change.
    p.consul.as_ref().unwrap().restore_snapshot();
    let c = p.consul.as_ref().unwrap();
    rt().block_on(async {
        let api = Api { prefix: p.prefix.clone(), ..Api::new(c) };
        assert!(api.put("journal_version/dev", &v1, None).await);
    });
    let imports = p.wait_for_imports(2);
    let _ = std::process::Command::new("kill").arg("-TERM").arg(watcher.id().to_string()).status();
    let out = watcher.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(imports, [format!("dev {v2} B"), format!("dev {v1} A")], "{err}");
    assert!(out.status.success(), "{err}");
}
