//! A ServiceNow Table API test server for `change_request`: basic or bearer
//! auth (401 with ServiceNow's failure body otherwise), `sysparm_query=number=X`,
//! `sysparm_fields` (dot-walked names like `cmdb_ci.name` included),
//! `{"result": [...]}` with string values. Also [`Hostile`]: a host a
//! repository's config could name, which records what it is sent. `STAGEGATE_TEST_SERVICENOW_URL`
//! points the same tests at a real instance instead: credentials then come from
//! `SERVICENOW_USER`/`SERVICENOW_PASSWORD`, and the change numbers for each case
//! from `STAGEGATE_TEST_SERVICENOW_CHANGE_<CASE>` (cases without one are skipped).

use std::sync::{Arc, Mutex};

use base64::Engine;
use serde_json::{Value, json};

use super::http::{Server, respond, serve_fn};

pub const USER: &str = "svc-stagegate";
pub const PASSWORD: &str = "s3cret-pass";

pub struct ServiceNow {
    pub url: String,
    pub user: String,
    pub password: String,
    _server: Option<Server>,
}

/// A change request as the Table API returns it.
pub fn change(number: &str, approval: &str, state: &str, start: &str, end: &str) -> Value {
    json!({"number": number, "approval": approval, "state": state, "start_date": start, "end_date": end,
           "sys_id": format!("sys-{number}"), "short_description": "journal upload"})
}

impl ServiceNow {
    pub fn start(changes: Vec<Value>) -> ServiceNow {
        if let Some(url) = std::env::var("STAGEGATE_TEST_SERVICENOW_URL").ok().filter(|u| !u.is_empty()) {
            let var = |k: &str| std::env::var(k).unwrap_or_default();
            return ServiceNow {
                url,
                user: var("SERVICENOW_USER"),
                password: var("SERVICENOW_PASSWORD"),
                _server: None,
            };
        }
        let changes = Arc::new(changes);
        let server = serve_fn(move |req| {
            let changes = changes.clone();
            async move {
                let basic =
                    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}")));
                let auth = req.header("authorization").unwrap_or("");
                if auth != basic && auth != "Bearer test-token" {
                    let body = json!({"error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"}, "status": "failure"});
                    return respond(401, &[("Content-Type", "application/json".into())], body.to_string());
                }
                if req.path != "/api/now/table/change_request" {
                    return respond(
                        400,
                        &[],
                        json!({"error": {"message": "Invalid table"}, "status": "failure"}).to_string(),
                    );
                }
                let wanted = req.param("sysparm_query").and_then(|q| q.strip_prefix("number=")).unwrap_or("");
                let limit: usize = req.param("sysparm_limit").and_then(|l| l.parse().ok()).unwrap_or(10_000);
                let fields: Option<Vec<String>> =
                    req.param("sysparm_fields").map(|f| f.split(',').map(str::to_owned).collect());
                let result: Vec<Value> = changes
                    .iter()
                    .filter(|c| c["number"] == wanted)
                    .take(limit)
                    .map(|c| match &fields {
                        Some(f) => {
                            let o = c.as_object().unwrap();
                            Value::Object(
                                o.iter().filter(|(k, _)| f.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect(),
                            )
                        }
                        None => c.clone(),
                    })
                    .collect();
                respond(200, &[("Content-Type", "application/json".into())], json!({"result": result}).to_string())
            }
        });
        ServiceNow { url: server.url(), user: USER.into(), password: PASSWORD.into(), _server: Some(server) }
    }

    /// The change number for a test case: the test server's own, or on a real
    /// instance `STAGEGATE_TEST_SERVICENOW_CHANGE_<CASE>` (None: skip the case).
    pub fn number(&self, case: &str, local: &str) -> Option<String> {
        if self._server.is_some() {
            return Some(local.to_string());
        }
        std::env::var(format!("STAGEGATE_TEST_SERVICENOW_CHANGE_{}", case.to_uppercase())).ok()
    }
}

/// A ServiceNow look-alike on a host the operator never chose: it approves any
/// change asked about and records every request with its `Authorization`.
pub struct Hostile {
    pub url: String,
    seen: Arc<Mutex<Vec<String>>>,
    _server: Server,
}

impl Hostile {
    pub fn start() -> Hostile {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let server = serve_fn(move |req| {
            let log = log.clone();
            async move {
                let auth = req.header("authorization").unwrap_or("").to_owned();
                log.lock().unwrap().push(format!("{} {} authorization={auth}", req.method, req.path));
                let number = req.param("sysparm_query").and_then(|q| q.strip_prefix("number=")).unwrap_or("");
                let c = change(number, "approved", "-1", "2000-01-01 00:00:00", "2999-01-01 00:00:00");
                respond(200, &[("Content-Type", "application/json".into())], json!({"result": [c]}).to_string())
            }
        });
        Hostile { url: server.url(), seen, _server: server }
    }

    /// Every request it received: method, path and the Authorization header.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}
