//! What `stagegate serve` asks of GitHub besides the forge: the config file on
//! the default branch, the workflow run, and the answer on a run's deployment
//! protection rule. Authenticated as an App installation (octocrab mints and
//! caches the installation tokens).

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::GitHubForge;
use super::api::{error, seg, status};
use crate::forge::ForgeError;

/// The parts of a workflow run the App decides with.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowRun {
    pub id: u64,
    /// `run-name:` of the workflow (or the commit title): where a ServiceNow
    /// change number is given to the App.
    #[serde(default)]
    pub display_title: String,
    /// The workflow file that runs (`.github/workflows/rollback.yml`).
    #[serde(default)]
    pub path: String,
    /// The commit the workflow file was read at.
    #[serde(default)]
    pub head_sha: String,
    pub actor: Option<Login>,
    pub triggering_actor: Option<Login>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Login {
    pub login: String,
}

#[derive(Deserialize)]
struct ContentFile {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    encoding: String,
}

/// `approved` or `rejected`: the answer on a deployment protection rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleState {
    Approved,
    Rejected,
}

#[derive(Serialize)]
struct Review<'a> {
    environment_name: &'a str,
    state: RuleState,
    comment: &'a str,
}

/// How answering a protection rule went.
#[derive(Debug)]
pub enum Answered {
    Done,
    /// GitHub (or the network) failed; worth trying again.
    Retry(String),
    /// GitHub refused it for good (the run is no longer waiting, say).
    Refused(String),
}

#[derive(Deserialize)]
struct GitRef {
    object: GitObject,
}

#[derive(Deserialize)]
struct GitObject {
    sha: String,
}

impl GitHubForge {
    /// The commit branch `branch` points at (`git/ref/heads/…`: a branch,
    /// never a tag of the same name), or `None` when there is no such branch.
    pub async fn branch_head(&self, branch: &str) -> Result<Option<String>, ForgeError> {
        let url = self.repo_path(&format!("git/ref/{}", seg(&format!("heads/{branch}"))));
        match self.octo.get::<GitRef, _, ()>(&url, None).await {
            Ok(r) if r.object.sha.len() == 40 && r.object.sha.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Ok(Some(r.object.sha))
            }
            Ok(_) => Ok(None),
            Err(e) if status(&e) == Some(404) => Ok(None),
            Err(e) => Err(error(&format!("resolve the branch {branch}"), "contents: read", e)),
        }
    }

    /// A file's bytes on `git_ref`, or `None` when it is not there.
    pub async fn file_at(&self, path: &str, git_ref: &str) -> Result<Option<Vec<u8>>, ForgeError> {
        let url = self.repo_path(&format!("contents/{}?ref={}", seg(path), seg(git_ref)));
        let file: ContentFile = match self.octo.get(&url, None::<&()>).await {
            Ok(f) => f,
            Err(e) if status(&e) == Some(404) => return Ok(None),
            Err(e) => return Err(error(&format!("read {path} on {git_ref}"), "contents: read", e)),
        };
        if file.kind != "file" || file.encoding != "base64" {
            return Ok(None);
        }
        let clean: String = file.content.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        base64::engine::general_purpose::STANDARD.decode(clean).map(Some).map_err(|e| ForgeError::GitHub {
            action: format!("read {path} on {git_ref}"),
            status: 200,
            message: format!("the content is not base64: {e}"),
            help: "report this as a bug".into(),
        })
    }

    pub async fn workflow_run(&self, run_id: u64) -> Result<WorkflowRun, ForgeError> {
        self.get(&self.repo_path(&format!("actions/runs/{run_id}")), "read the workflow run", "actions: read").await
    }

    /// Approves or rejects the run's deployment to `env` (one attempt).
    pub async fn review_protection_rule(&self, run_id: u64, env: &str, state: RuleState, comment: &str) -> Answered {
        let path = self.repo_path(&format!("actions/runs/{run_id}/deployment_protection_rule"));
        let body = Review { environment_name: env, state, comment };
        // GitHub answers 204 with no body: a body that does not parse after a
        // success is the success.
        let sent: Result<serde_json::Value, _> = self.octo.post(path, Some(&body)).await;
        match sent {
            Ok(_) | Err(octocrab::Error::Serde { .. } | octocrab::Error::Json { .. }) => Answered::Done,
            Err(e) => match status(&e) {
                Some(code) if code >= 500 || code == 429 => {
                    Answered::Retry(format!("GitHub answered {code}: {}", message(&e)))
                }
                Some(code) => Answered::Refused(format!("GitHub answered {code}: {}", message(&e))),
                None => Answered::Retry(message(&e)),
            },
        }
    }
}

fn message(e: &octocrab::Error) -> String {
    match e {
        octocrab::Error::GitHub { source, .. } => super::redact::server_text(&source.message),
        other => super::redact::server_text(&other.to_string()),
    }
}
