//! Webhook deliveries: the signature GitHub puts on each one, and the two
//! events the App acts on.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;

use super::store::Request;

/// Whether `header` (`X-Hub-Signature-256: sha256=<hex>`) is the HMAC-SHA256
/// of `body` under the webhook secret. Compared in constant time.
pub fn verify(secret: &SecretString, body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else { return false };
    let Ok(sig) = hex::decode(hex_sig) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) else { return false };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// The signature header GitHub would send for `body` (tests, benchmarks).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[derive(Deserialize)]
struct Repository {
    name: String,
    owner: Owner,
    #[serde(default = "default_branch")]
    default_branch: String,
}

fn default_branch() -> String {
    "main".into()
}

#[derive(Deserialize)]
struct Owner {
    login: String,
}

#[derive(Deserialize)]
struct Installation {
    id: u64,
}

#[derive(Deserialize)]
struct Deployment {
    sha: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
}

#[derive(Deserialize)]
struct RuleRequested {
    action: String,
    environment: String,
    sha: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    deployment_callback_url: String,
    deployment: Option<Deployment>,
    repository: Repository,
    installation: Installation,
}

#[derive(Deserialize)]
struct Run {
    id: u64,
}

#[derive(Deserialize)]
struct Review {
    workflow_run: Option<Run>,
    repository: Repository,
}

/// What a delivery asks of the App.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// A job waits to enter an environment: decide.
    Requested(Request),
    /// Someone reviewed a run's deployments: decide that run's requests again.
    Reviewed { owner: String, repo: String, run_id: u64 },
    /// Anything else (`ping`, other actions): acknowledged, nothing done.
    Ignored(String),
}

/// Why a delivery of an event the App acts on was refused (answered 400, logged).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Malformed {
    #[error("malformed {event}: {source}")]
    #[diagnostic(help("the body is not the payload GitHub documents for this event"))]
    Body { event: String, source: serde_json::Error },
    #[error("no run id in the callback URL `{0}`")]
    #[diagnostic(help("GitHub's callback URLs end in …/actions/runs/{{run_id}}/deployment_protection_rule"))]
    CallbackUrl(String),
}

/// Reads a delivery. `Err` when an event the App acts on is malformed.
pub fn parse(event: &str, body: &[u8], now: chrono::DateTime<chrono::Utc>) -> Result<Event, Malformed> {
    let malformed = |source| Malformed::Body { event: event.to_owned(), source };
    match event {
        "deployment_protection_rule" => {
            let p: RuleRequested = serde_json::from_slice(body).map_err(malformed)?;
            if p.action != "requested" {
                return Ok(Event::Ignored(format!("{event}.{}", p.action)));
            }
            let run_id = run_of_callback(&p.deployment_callback_url)
                .ok_or_else(|| Malformed::CallbackUrl(p.deployment_callback_url.clone()))?;
            let dep = p.deployment.as_ref();
            let sha = p.sha.clone().or_else(|| dep.and_then(|d| d.sha.clone())).unwrap_or_default();
            let git_ref = p.git_ref.clone().or_else(|| dep.and_then(|d| d.git_ref.clone())).unwrap_or_default();
            Ok(Event::Requested(Request {
                installation: p.installation.id,
                owner: p.repository.owner.login,
                repo: p.repository.name,
                default_branch: p.repository.default_branch,
                run_id,
                environment: p.environment,
                sha,
                git_ref,
                received_at: now,
            }))
        }
        "deployment_review" => {
            let p: Review = serde_json::from_slice(body).map_err(malformed)?;
            match p.workflow_run {
                Some(run) => {
                    Ok(Event::Reviewed { owner: p.repository.owner.login, repo: p.repository.name, run_id: run.id })
                }
                None => Ok(Event::Ignored(format!("{event} without a workflow run"))),
            }
        }
        other => Ok(Event::Ignored(other.to_owned())),
    }
}

/// `…/actions/runs/{run_id}/deployment_protection_rule` → the run id. The App
/// answers on the path it builds itself from that id, never on the URL as given.
fn run_of_callback(url: &str) -> Option<u64> {
    let mut parts = url.trim_end_matches('/').rsplit('/');
    (parts.next()? == "deployment_protection_rule").then_some(())?;
    let id = parts.next()?.parse().ok()?;
    (parts.next()? == "runs").then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_checked() {
        let secret = SecretString::from("s3cret".to_string());
        let body = br#"{"zen":"Keep it logically awesome."}"#;
        let good = sign("s3cret", body);
        assert!(verify(&secret, body, Some(&good)));
        assert!(!verify(&secret, b"{}", Some(&good)));
        assert!(!verify(&secret, body, Some(&sign("other", body))));
        assert!(!verify(&secret, body, Some(good.trim_start_matches("sha256="))));
        assert!(!verify(&secret, body, Some("sha256=zz")));
        assert!(!verify(&secret, body, None));
    }

    #[test]
    fn the_run_comes_from_the_callback_path() {
        let u = "https://api.github.com/repos/acme/app/actions/runs/1234/deployment_protection_rule";
        assert_eq!(run_of_callback(u), Some(1234));
        assert_eq!(run_of_callback("https://x/repos/a/b/actions/jobs/1/deployment_protection_rule"), None);
        assert_eq!(run_of_callback("https://x/repos/a/b/actions/runs/x/deployment_protection_rule"), None);
    }

    #[test]
    fn malformed_deliveries_say_what_is_wrong() {
        let now = chrono::DateTime::UNIX_EPOCH;
        let e = parse("deployment_review", b"[]", now).unwrap_err();
        assert!(matches!(&e, Malformed::Body { event, .. } if event == "deployment_review"), "{e:?}");
        assert!(e.to_string().starts_with("malformed deployment_review: "), "{e}");
        assert_eq!(
            Malformed::CallbackUrl("https://x/y".into()).to_string(),
            "no run id in the callback URL `https://x/y`"
        );
        assert!(matches!(parse("ping", b"not json", now), Ok(Event::Ignored(e)) if e == "ping"));
    }
}
