//! ServiceNow change approval over the Table API: a change request must be
//! approved, scheduled or implementing, and inside its implementation window.
//!
//! Credentials: `SERVICENOW_TOKEN` (bearer) or `SERVICENOW_USER` +
//! `SERVICENOW_PASSWORD` (basic), held as secrets and never printed, sent
//! only to an [`Instance`] (https, or http on loopback) and never along a
//! redirect. A change counts only for what it is about: the config may name
//! fields it must carry (`match:`), compared with what ServiceNow returns.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use miette::Diagnostic;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use thiserror::Error;

use super::servicenow_instance::{Instance, InstanceError};
use crate::exit::Exit;
use crate::refusal::{Kind, Refusal};

#[derive(Debug, Error, Diagnostic)]
pub enum ServiceNowError {
    #[error("change approval is required, but no ServiceNow instance is configured")]
    #[diagnostic(
        code(stagegate::servicenow::no_instance),
        help("set `servicenow: {{ instance: https://ORG.service-now.com }}` in the config")
    )]
    NoInstance,

    #[error("the ServiceNow instance {0}")]
    #[diagnostic(
        code(stagegate::servicenow::instance),
        help(
            "use the instance's https URL, e.g. https://acme.service-now.com (plain http only for a test server on this machine)"
        )
    )]
    Instance(#[from] InstanceError),

    #[error("change {number} is not about this: its `{field}` is `{got}`, not `{want}`")]
    #[diagnostic(
        code(stagegate::servicenow::unrelated),
        help(
            "name the change approved for this service and environment; the config's `match:` says which fields it must carry"
        )
    )]
    Unrelated { number: String, field: String, want: String, got: String },

    #[error("no ServiceNow credentials in the environment")]
    #[diagnostic(
        code(stagegate::servicenow::no_credentials),
        help("set SERVICENOW_TOKEN, or SERVICENOW_USER and SERVICENOW_PASSWORD")
    )]
    NoCredentials,

    #[error("a change number is required")]
    #[diagnostic(
        code(stagegate::servicenow::change_required),
        help("pass --change CHG… naming the approved change request")
    )]
    ChangeRequired,

    #[error("`{0}` is not a change number")]
    #[diagnostic(code(stagegate::servicenow::bad_number), help("change numbers look like CHG0030001"))]
    BadNumber(String),

    #[error("change {0} does not exist in ServiceNow")]
    #[diagnostic(
        code(stagegate::servicenow::not_found),
        help("check the number; the change request must be documented before the upload")
    )]
    NotFound(String),

    #[error("change {number} is not approved (approval: {approval})")]
    #[diagnostic(
        code(stagegate::servicenow::not_approved),
        help("wait until the change's approvers approve it in ServiceNow")
    )]
    NotApproved { number: String, approval: String },

    #[error("change {number} is not scheduled or implementing (state {state})")]
    #[diagnostic(
        code(stagegate::servicenow::state),
        help("the change must be in state Scheduled (-2) or Implement (-1)")
    )]
    WrongState { number: String, state: String },

    #[error("change {number} may be implemented only from {start} to {end} (UTC); it is now {now}")]
    #[diagnostic(
        code(stagegate::servicenow::window),
        help("upload inside the change's implementation window, or reschedule the change")
    )]
    OutsideWindow { number: String, start: String, end: String, now: String },

    #[error("ServiceNow refused the credentials: {message}")]
    #[diagnostic(
        code(stagegate::servicenow::auth),
        help(
            "check SERVICENOW_TOKEN or SERVICENOW_USER/SERVICENOW_PASSWORD and the account's access to change_request"
        )
    )]
    Auth { message: String },

    #[error("ServiceNow request failed: {0}")]
    #[diagnostic(code(stagegate::servicenow::http), help("check servicenow.instance and the network; try again later"))]
    Http(String),
}

impl ServiceNowError {
    /// The policy refusal this is, when the change itself is what is wrong
    /// (missing, not approved, outside its window) rather than the setup or
    /// the connection.
    pub fn refusal(&self) -> Option<Refusal> {
        use ServiceNowError::*;
        match self {
            ChangeRequired
            | NotFound(_)
            | NotApproved { .. }
            | WrongState { .. }
            | OutsideWindow { .. }
            | Unrelated { .. } => Some(Refusal::new(Kind::Change, self.to_string())),
            NoInstance | Instance(_) | NoCredentials | BadNumber(_) | Auth { .. } | Http(_) => None,
        }
    }

    pub fn exit(&self) -> Exit {
        use ServiceNowError::*;
        match self {
            NoInstance | Instance(_) | NoCredentials | BadNumber(_) => Exit::Invalid,
            ChangeRequired
            | NotFound(_)
            | NotApproved { .. }
            | WrongState { .. }
            | OutsideWindow { .. }
            | Unrelated { .. } => Exit::Refused,
            Auth { .. } | Http(_) => Exit::Failed,
        }
    }
}

enum Credentials {
    Basic { user: String, password: SecretString },
    Bearer(SecretString),
}

pub struct ServiceNow {
    instance: String,
    credentials: Credentials,
    http: reqwest::Client,
}

/// A change request as the Table API returns it (all values are strings).
#[derive(Debug, Clone, Deserialize)]
pub struct Change {
    pub number: String,
    #[serde(default)]
    pub approval: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub start_date: String,
    #[serde(default)]
    pub end_date: String,
    /// The other fields asked for (the config's `match:`), as returned.
    #[serde(flatten)]
    pub fields: std::collections::HashMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct TableResult {
    result: Vec<Change>,
}

#[derive(Deserialize)]
struct Failure {
    error: FailureDetail,
}

#[derive(Deserialize)]
struct FailureDetail {
    #[serde(default)]
    message: String,
    #[serde(default)]
    detail: Option<String>,
}

impl ServiceNow {
    pub fn from_env(instance: Option<&str>) -> Result<ServiceNow, ServiceNowError> {
        let instance = instance.filter(|i| !i.is_empty()).ok_or(ServiceNowError::NoInstance)?;
        ServiceNow::at(&Instance::parse(instance)?)
    }

    /// A client of `instance` with the credentials from the environment.
    pub fn at(instance: &Instance) -> Result<ServiceNow, ServiceNowError> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let credentials = match (var("SERVICENOW_TOKEN"), var("SERVICENOW_USER"), var("SERVICENOW_PASSWORD")) {
            (Some(t), _, _) => Credentials::Bearer(SecretString::from(t)),
            (None, Some(user), Some(p)) => Credentials::Basic { user, password: SecretString::from(p) },
            _ => return Err(ServiceNowError::NoCredentials),
        };
        crate::tls::install();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            // A redirect could lead the credentials elsewhere: none is followed.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ServiceNowError::Http(e.to_string()))?;
        Ok(ServiceNow { instance: instance.as_str().to_owned(), credentials, http })
    }

    /// The change, if it carries `fields` and allows work now; otherwise why not.
    pub async fn check_change(
        &self,
        number: &str,
        now: DateTime<Utc>,
        fields: &[(String, String)],
    ) -> Result<Change, ServiceNowError> {
        if number.is_empty() || number.len() > 40 || !number.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ServiceNowError::BadNumber(number.escape_debug().to_string()));
        }
        let change = self.fetch(number, fields).await?;
        matches(&change, fields)?;
        evaluate(change, now)
    }

    async fn fetch(&self, number: &str, fields: &[(String, String)]) -> Result<Change, ServiceNowError> {
        let mut wanted = "number,approval,state,start_date,end_date".to_owned();
        for (f, _) in fields {
            wanted.push(',');
            wanted.push_str(f);
        }
        let req = self
            .http
            .get(format!("{}/api/now/table/change_request", self.instance))
            .query(&[
                ("sysparm_query", format!("number={number}")),
                ("sysparm_limit", "1".into()),
                ("sysparm_fields", wanted),
            ])
            .header("Accept", "application/json");
        let req = match &self.credentials {
            Credentials::Basic { user, password } => req.basic_auth(user, Some(password.expose_secret())),
            Credentials::Bearer(t) => req.bearer_auth(t.expose_secret()),
        };
        let resp = req.send().await.map_err(|e| ServiceNowError::Http(e.to_string()))?;
        let status = resp.status();
        let body = crate::bounded::text(resp, crate::bounded::ANSWER)
            .await
            .map_err(|e| ServiceNowError::Http(e.to_string()))?;
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            let message = serde_json::from_str::<Failure>(&body)
                .map(|f| match f.error.detail {
                    Some(d) if !d.is_empty() => format!("{} ({d})", f.error.message),
                    _ => f.error.message,
                })
                .unwrap_or_else(|_| status.to_string());
            return Err(ServiceNowError::Auth { message });
        }
        if !status.is_success() {
            return Err(ServiceNowError::Http(format!("{status}: {}", body.chars().take(300).collect::<String>())));
        }
        let table: TableResult =
            serde_json::from_str(&body).map_err(|e| ServiceNowError::Http(format!("unexpected answer: {e}")))?;
        table.result.into_iter().find(|c| c.number == number).ok_or_else(|| ServiceNowError::NotFound(number.into()))
    }
}

/// Is change `number` approved and inside its implement window now, on the
/// configured instance? `Ok(Ok(detail))` yes, `Ok(Err(refusal))` no (not
/// found, not approved, outside the window), `Err` when it cannot be told
/// (no instance or credentials, ServiceNow unreachable or refusing them).
pub async fn change_state(
    instance: Option<&str>,
    number: &str,
    now: DateTime<Utc>,
    fields: &[(String, String)],
) -> Result<Result<String, Refusal>, ServiceNowError> {
    Ok(approved_change(instance, number, now, fields).await?.map(|c| c.detail()))
}

/// [`change_state`] with the change itself when it allows work now, for
/// what a run keeps in its deployment record.
pub async fn approved_change(
    instance: Option<&str>,
    number: &str,
    now: DateTime<Utc>,
    fields: &[(String, String)],
) -> Result<Result<Change, Refusal>, ServiceNowError> {
    let checked = match ServiceNow::from_env(instance) {
        Ok(sn) => sn.check_change(number, now, fields).await,
        Err(e) => Err(e),
    };
    match checked {
        Ok(c) => Ok(Ok(c)),
        Err(e) => e.refusal().map(Err).ok_or(e),
    }
}

impl Change {
    /// `CHG0030001 approved; window 2026-11-21 06:00:00 – 2026-11-21 18:00:00`.
    pub fn detail(&self) -> String {
        format!("{} approved; window {} – {}", self.number, self.start_date, self.end_date)
    }
}

/// The change carries every field of `fields` with the value given (ServiceNow
/// returns every value as a string; a missing field is the empty string).
pub fn matches(c: &Change, fields: &[(String, String)]) -> Result<(), ServiceNowError> {
    for (field, want) in fields {
        let got = c.fields.get(field).and_then(|v| v.as_str()).unwrap_or_default();
        if got != want {
            return Err(ServiceNowError::Unrelated {
                number: c.number.clone(),
                field: field.clone(),
                want: want.clone(),
                got: got.chars().take(200).collect(),
            });
        }
    }
    Ok(())
}

/// The rules, apart from the network: approved, Scheduled or Implement, and
/// `now` inside `start_date..=end_date` (ServiceNow's `YYYY-MM-DD HH:MM:SS`, UTC).
pub fn evaluate(c: Change, now: DateTime<Utc>) -> Result<Change, ServiceNowError> {
    if c.approval != "approved" {
        return Err(ServiceNowError::NotApproved { number: c.number, approval: c.approval });
    }
    if !matches!(c.state.trim(), "-2" | "-1") {
        return Err(ServiceNowError::WrongState { number: c.number, state: c.state });
    }
    let parse = |s: &str| NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S").ok().map(|d| d.and_utc());
    let inside = match (parse(&c.start_date), parse(&c.end_date)) {
        (Some(start), Some(end)) => start <= now && now <= end,
        _ => false,
    };
    if !inside {
        return Err(ServiceNowError::OutsideWindow {
            number: c.number,
            start: if c.start_date.is_empty() { "(unset)".into() } else { c.start_date },
            end: if c.end_date.is_empty() { "(unset)".into() } else { c.end_date },
            now: now.format("%Y-%m-%d %H:%M:%S").to_string(),
        });
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(approval: &str, state: &str) -> Change {
        Change {
            number: "CHG0030001".into(),
            approval: approval.into(),
            state: state.into(),
            start_date: "2026-11-21 06:00:00".into(),
            end_date: "2026-11-21 18:00:00".into(),
            fields: [("cmdb_ci.name".to_owned(), serde_json::json!("payments"))].into(),
        }
    }

    #[test]
    fn rules() {
        let now = "2026-11-21T09:00:00Z".parse().unwrap();
        assert!(evaluate(change("approved", "-1"), now).is_ok());
        assert!(evaluate(change("approved", "-2"), now).is_ok());
        assert!(matches!(evaluate(change("requested", "-1"), now), Err(ServiceNowError::NotApproved { .. })));
        assert!(matches!(evaluate(change("approved", "0"), now), Err(ServiceNowError::WrongState { .. })));
        let late = "2026-11-21T19:00:00Z".parse().unwrap();
        assert!(matches!(evaluate(change("approved", "-1"), late), Err(ServiceNowError::OutsideWindow { .. })));
    }

    #[test]
    fn a_change_counts_only_for_what_it_is_about() {
        let want = |v: &str| vec![("cmdb_ci.name".to_owned(), v.to_owned())];
        assert!(super::matches(&change("approved", "-1"), &want("payments")).is_ok());
        assert!(super::matches(&change("approved", "-1"), &[]).is_ok());
        let e = super::matches(&change("approved", "-1"), &want("billing")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "change CHG0030001 is not about this: its `cmdb_ci.name` is `payments`, not `billing`"
        );
        let other = vec![("assignment_group".to_owned(), "x".to_owned())];
        assert!(matches!(super::matches(&change("approved", "-1"), &other), Err(ServiceNowError::Unrelated { .. })));
    }
}
