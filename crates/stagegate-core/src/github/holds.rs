//! Holds on GitHub: a deployment in the held environment with task
//! `stagegate:hold` and the hold in its payload (`{reason, until,
//! rollbacks_too, by}`); cleared, it gets an `inactive` status whose
//! description says who cleared it and why. Ordinary deployment lists ask
//! for task `deploy` and never see them.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::GitHubForge;
use super::api::{error, seg};
use super::deployments::truncate;
use crate::forge::ForgeError;
use crate::forge::hold::{MAX_HOLDS, TASK};
use crate::forge::{Cleared, Hold, NewHold};
use crate::redact::server_text;

const PERM: &str = "deployments: write";

#[derive(Deserialize)]
struct GhHold {
    id: u64,
    environment: String,
    #[serde(default)]
    payload: Value,
    creator: Option<Login>,
    created_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct Login {
    login: String,
}

/// The payload as stagegate writes it; every field optional when read back.
#[derive(Deserialize, Default)]
struct Payload {
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    until: Option<DateTime<Utc>>,
    #[serde(default)]
    rollbacks_too: bool,
    #[serde(default)]
    by: Option<String>,
}

#[derive(Deserialize)]
struct GhStatus {
    state: String,
    #[serde(default)]
    description: Option<String>,
    created_at: DateTime<Utc>,
}

impl GhHold {
    /// The hold as people may read it: text from the payload is escaped and bounded.
    fn hold(self, cleared: Option<Cleared>) -> Hold {
        let p: Payload = serde_json::from_value(self.payload).unwrap_or_default();
        let creator = self.creator.map_or_else(|| "unknown".to_owned(), |c| c.login);
        Hold {
            id: self.id,
            set: NewHold {
                environment: server_text(&self.environment),
                reason: server_text(p.reason.as_deref().unwrap_or("(no reason recorded)")),
                by: server_text(p.by.as_deref().unwrap_or(&creator)),
                until: p.until,
                rollbacks_too: p.rollbacks_too,
                at: self.created_at,
            },
            cleared,
        }
    }
}

impl GitHubForge {
    pub(super) async fn gh_holds(&self, environment: &str, limit: usize) -> Result<Vec<Hold>, ForgeError> {
        let per_page = limit.clamp(1, MAX_HOLDS);
        let path = self.repo_path(&format!(
            "deployments?environment={}&task={}&per_page={per_page}",
            seg(environment),
            seg(TASK)
        ));
        let mut page: Vec<GhHold> =
            self.get(&path, &format!("list the holds of {environment}"), "deployments: read").await?;
        page.truncate(per_page);
        let mut out = Vec::with_capacity(page.len());
        for h in page {
            let cleared = self.gh_hold_cleared(h.id).await?;
            out.push(h.hold(cleared));
        }
        Ok(out)
    }

    /// The `inactive` status of a hold's deployment, if it has one.
    async fn gh_hold_cleared(&self, id: u64) -> Result<Option<Cleared>, ForgeError> {
        let path = self.repo_path(&format!("deployments/{id}/statuses?per_page=100"));
        let statuses: Vec<GhStatus> = self.get(&path, "read a hold's statuses", "deployments: read").await?;
        // GitHub lists newest first: the earliest `inactive` ended the hold.
        Ok(statuses.into_iter().take(100).rfind(|s| s.state == "inactive").map(|s| Cleared {
            at: s.created_at,
            description: server_text(s.description.as_deref().unwrap_or("cleared")),
        }))
    }

    pub(super) async fn gh_set_hold(&self, new: &NewHold) -> Result<Hold, ForgeError> {
        // The commit the workflow run is at: a hold is not a deployment of
        // anything, but GitHub records every deployment at a ref.
        let Some(git_ref) = self.ctx.sha.clone().or_else(|| self.ctx.git_ref.clone()) else {
            return Err(ForgeError::Setup(
                "no commit to record the hold at: GITHUB_SHA is not set".into(),
                "run `hold set` in a workflow (the hold.yml that `stagegate init` writes), or set GITHUB_SHA".into(),
            ));
        };
        let body = json!({
            "ref": git_ref,
            "task": TASK,
            "environment": new.environment,
            "description": truncate(&format!("hold: {}", new.reason), 140),
            "auto_merge": false,
            "required_contexts": [],
            "transient_environment": false,
            // GitHub's `auto_inactive` (a later deployment's `success`) ends
            // prior non-production deployments: a hold ends only by `hold clear`.
            "production_environment": true,
            "payload": {
                "reason": new.reason,
                "until": new.until.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                "rollbacks_too": new.rollbacks_too,
                "by": new.by,
            },
        });
        let created: GhHold = self
            .octo
            .post(self.repo_path("deployments"), Some(&body))
            .await
            .map_err(|e| error(&format!("set a hold on {}", new.environment), PERM, e))?;
        Ok(Hold { id: created.id, set: new.clone(), cleared: None })
    }

    pub(super) async fn gh_clear_hold(&self, hold: &Hold, description: &str) -> Result<(), ForgeError> {
        let body = json!({
            "state": "inactive",
            "description": truncate(description, 140),
            "auto_inactive": false,
        });
        let id = hold.id;
        let _: Value =
            self.octo.post(self.repo_path(&format!("deployments/{id}/statuses")), Some(&body)).await.map_err(|e| {
                error(&format!("clear the hold on {} (deployment {id})", hold.set.environment), PERM, e)
            })?;
        Ok(())
    }
}
