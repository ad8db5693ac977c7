//! The slice of GitHub's REST API stagegate uses: request and response shapes,
//! path encoding, and error translation into something a user can act on.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::forge::{ForgeError, Release};

/// A path segment, percent-encoded. Refs like `tags/26.11.21.` must travel as
/// `tags%2F26.11.21.`: GitHub accepts both, and OpenAPI routers (Prism) need it.
pub use crate::values::segment::encode as seg;

#[derive(Debug, Deserialize)]
pub struct GitRef {
    #[serde(rename = "ref")]
    pub name: String,
    pub object: GitObject,
}

#[derive(Debug, Deserialize)]
pub struct GitObject {
    pub sha: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Serialize)]
pub struct NewTagObject<'a> {
    pub tag: &'a str,
    pub message: &'a str,
    pub object: &'a str,
    #[serde(rename = "type")]
    pub kind: &'a str,
}

#[derive(Debug, Deserialize)]
pub struct TagObject {
    pub sha: String,
}

#[derive(Debug, Serialize)]
pub struct NewRef<'a> {
    #[serde(rename = "ref")]
    pub name: &'a str,
    pub sha: &'a str,
}

#[derive(Debug, Deserialize)]
pub struct Commit {
    pub sha: String,
    /// The git commit: its committer's date is when the change was made.
    #[serde(default)]
    pub commit: Option<GitCommit>,
}

#[derive(Debug, Deserialize)]
pub struct GitCommit {
    pub committer: Option<GitPerson>,
}

#[derive(Debug, Deserialize)]
pub struct GitPerson {
    pub date: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
pub struct GhRelease {
    pub id: u64,
    pub tag_name: String,
    pub name: Option<String>,
    pub draft: bool,
    pub html_url: String,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<GhRelease> for Release {
    fn from(r: GhRelease) -> Release {
        Release {
            id: r.id,
            name: r.name.unwrap_or_else(|| r.tag_name.clone()),
            tag: r.tag_name,
            draft: r.draft,
            html_url: r.html_url,
            published_at: r.published_at,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CreateRelease<'a> {
    pub tag_name: &'a str,
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<&'a str>,
    pub draft: bool,
    pub generate_release_notes: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_commitish: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct PublishRelease {
    pub draft: bool,
    pub make_latest: &'static str,
}

/// Whether a 422 says the thing already exists (GitHub: "Reference already exists").
pub fn already_exists(e: &octocrab::Error) -> bool {
    match e {
        octocrab::Error::GitHub { source, .. } => {
            source.status_code.as_u16() == 422
                && (source.message.contains("already exists")
                    || source.errors.iter().flatten().any(|v| v.to_string().contains("already_exists")))
        }
        _ => false,
    }
}

pub fn status(e: &octocrab::Error) -> Option<u16> {
    match e {
        octocrab::Error::GitHub { source, .. } => Some(source.status_code.as_u16()),
        _ => None,
    }
}

/// Translates a failed call into an error that says what failed, the HTTP
/// status, and what to do about it.
pub fn error(action: &str, permission: &str, e: octocrab::Error) -> ForgeError {
    match e {
        octocrab::Error::GitHub { source, .. } => {
            let status = source.status_code.as_u16();
            let secondary = source.message.to_ascii_lowercase().contains("rate limit");
            let help = match status {
                401 => "the token is missing, expired or wrong: set GITHUB_TOKEN (or --github-token)".to_string(),
                403 if secondary => "GitHub's rate limit held after the retries; wait and run again".to_string(),
                403 | 404 => format!(
                    "the token may lack `{permission}` permission: add `permissions: {permission}` to the job, \
                     and check the repository name (GITHUB_REPOSITORY or --repo)"
                ),
                422 => "GitHub refused the request as invalid; see the message".to_string(),
                s if s >= 500 => "GitHub kept failing after the retries; run again later".to_string(),
                _ => "see GitHub's message above".to_string(),
            };
            let message = super::redact::server_text(&source.message);
            ForgeError::GitHub { action: action.into(), status, message, help }
        }
        other => ForgeError::Network { action: action.into(), detail: super::redact::server_text(&other.to_string()) },
    }
}
