//! Environments on GitHub: reading protection rules, applying the config's,
//! and resolving reviewers to the ids the API wants.

use serde::Deserialize;
use serde_json::{Value, json};

use super::GitHubForge;
use super::api::{error, seg};
use crate::config::Reviewer;
use crate::forge::{EnvDeleted, ForgeError, Protection, ReviewerRef};
use crate::policy::environments::RefPolicy;

const PERM: &str = "administration: write";

#[derive(Deserialize)]
struct Environment {
    #[serde(default)]
    protection_rules: Vec<Value>,
    deployment_branch_policy: Option<BranchPolicySettings>,
}

#[derive(Deserialize)]
struct BranchPolicySettings {
    protected_branches: bool,
    custom_branch_policies: bool,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
struct EnvironmentList {
    total_count: u64,
    environments: Vec<Named>,
}

#[derive(Deserialize)]
struct Policies {
    branch_policies: Vec<Policy>,
}

#[derive(Deserialize)]
struct Policy {
    id: u64,
    name: String,
    #[serde(rename = "type", default = "branch")]
    kind: String,
}

fn branch() -> String {
    "branch".into()
}

#[derive(Deserialize)]
struct Identified {
    id: u64,
}

#[derive(Deserialize)]
struct Rules {
    #[serde(default)]
    custom_deployment_protection_rules: Vec<Rule>,
}

#[derive(Deserialize)]
struct Rule {
    id: u64,
    app: Identified,
}

impl GitHubForge {
    fn env_path(&self, name: &str, rest: &str) -> String {
        self.repo_path(&format!("environments/{}{rest}", seg(name)))
    }

    async fn policies(&self, name: &str) -> Result<Vec<Policy>, ForgeError> {
        let mut all = Vec::new();
        for page in 1..=20u32 {
            let path = self.env_path(name, &format!("/deployment-branch-policies?per_page=100&page={page}"));
            let p: Policies = self.get(&path, "list deployment branch policies", PERM).await?;
            let done = p.branch_policies.len() < 100;
            all.extend(p.branch_policies);
            if done {
                break;
            }
        }
        Ok(all)
    }

    pub(super) async fn read_environment(&self, name: &str) -> Result<Option<Protection>, ForgeError> {
        let env: Environment = match self.octo.get(self.env_path(name, ""), None::<&()>).await {
            Ok(e) => e,
            Err(e) if super::api::status(&e) == Some(404) => return Ok(None),
            Err(e) => return Err(error("read an environment", PERM, e)),
        };
        let mut p = Protection {
            wait_timer: 0,
            prevent_self_review: false,
            reviewers: Vec::new(),
            policies: None,
            app_rule: self.app_rule(name).await?.is_some(),
        };
        for rule in &env.protection_rules {
            match rule["type"].as_str() {
                Some("wait_timer") => p.wait_timer = rule["wait_timer"].as_u64().unwrap_or(0) as u32,
                Some("required_reviewers") => {
                    p.prevent_self_review = rule["prevent_self_review"].as_bool().unwrap_or(false);
                    for r in rule["reviewers"].as_array().into_iter().flatten() {
                        let kind = r["type"].as_str().unwrap_or("User").to_owned();
                        let who = &r["reviewer"];
                        let name = match (who["login"].as_str(), who["slug"].as_str()) {
                            (Some(l), _) => format!("@{l}"),
                            (None, Some(slug)) => format!("team {slug}"),
                            _ => "?".into(),
                        };
                        p.reviewers.push(ReviewerRef { kind, id: who["id"].as_u64().unwrap_or(0), name });
                    }
                }
                _ => {}
            }
        }
        p.policies = match env.deployment_branch_policy {
            None => None,
            Some(s) if s.custom_branch_policies => {
                Some(self.policies(name).await?.into_iter().map(|p| RefPolicy { name: p.name, kind: p.kind }).collect())
            }
            Some(s) if s.protected_branches => {
                Some(vec![RefPolicy { name: "(protected branches)".into(), kind: "protected".into() }])
            }
            Some(_) => None,
        };
        Ok(Some(p))
    }

    pub(super) async fn write_environment(&self, name: &str, desired: &Protection) -> Result<(), ForgeError> {
        let reviewers: Vec<Value> = desired.reviewers.iter().map(|r| json!({"type": r.kind, "id": r.id})).collect();
        let body = json!({
            "wait_timer": desired.wait_timer,
            "prevent_self_review": desired.prevent_self_review && !reviewers.is_empty(),
            "reviewers": reviewers,
            "deployment_branch_policy": desired.policies.as_ref().map(|_| json!({"protected_branches": false, "custom_branch_policies": true})),
        });
        let _: Value = self
            .octo
            .put(self.env_path(name, ""), Some(&body))
            .await
            .map_err(|e| error("update an environment", PERM, e))?;
        self.set_app_rule(name, desired.app_rule).await?;
        let Some(want) = &desired.policies else { return Ok(()) };
        let have = self.policies(name).await?;
        for p in have.iter().filter(|p| !want.iter().any(|w| w.name == p.name && w.kind == p.kind)) {
            let url = format!(
                "{}{}",
                self.ctx.api_url,
                self.env_path(name, &format!("/deployment-branch-policies/{}", p.id))
            );
            let resp =
                self.octo._delete(url, None::<&()>).await.map_err(|e| error("delete a branch policy", PERM, e))?;
            octocrab::map_github_error(resp).await.map_err(|e| error("delete a branch policy", PERM, e))?;
        }
        for w in want.iter().filter(|w| !have.iter().any(|p| w.name == p.name && w.kind == p.kind)) {
            let created: Result<Value, _> = self
                .octo
                .post(
                    self.env_path(name, "/deployment-branch-policies"),
                    Some(&json!({"name": w.name, "type": w.kind})),
                )
                .await;
            match created {
                Ok(_) => {}
                Err(e) if super::api::already_exists(&e) => {}
                Err(e) => return Err(error("create a branch policy", PERM, e)),
            }
        }
        Ok(())
    }

    /// `DELETE …/environments/{name}`. A workflow's `GITHUB_TOKEN` may not
    /// (GitHub answers 403, or 404 "Resource not accessible by integration"):
    /// that is [`EnvDeleted::NotAllowed`], for the caller to say, not an error.
    pub(super) async fn gh_delete_environment(&self, name: &str) -> Result<EnvDeleted, ForgeError> {
        let url = format!("{}{}", self.ctx.api_url, self.env_path(name, ""));
        let action = "delete an environment";
        let resp = self.octo._delete(url, None::<&()>).await.map_err(|e| error(action, PERM, e))?;
        match octocrab::map_github_error(resp).await {
            Ok(_) => Ok(EnvDeleted::Deleted),
            Err(e) => match super::api::status(&e) {
                Some(404) if self.read_environment(name).await.ok().flatten().is_none() => Ok(EnvDeleted::Absent),
                Some(s @ (403 | 404)) => match error(action, PERM, e) {
                    ForgeError::GitHub { message, .. } => Ok(EnvDeleted::NotAllowed { status: s, message }),
                    other => Err(other),
                },
                _ => Err(error(action, PERM, e)),
            },
        }
    }

    /// Every environment's name (`GET …/environments`, 100 a page).
    pub(super) async fn gh_environment_names(&self) -> Result<Vec<String>, ForgeError> {
        let mut names = Vec::new();
        for page in 1..=100u32 {
            let path = self.repo_path(&format!("environments?per_page=100&page={page}"));
            let list: EnvironmentList = self.get(&path, "list environments", "actions: read").await?;
            let done = list.environments.len() < 100 || names.len() as u64 + 100 >= list.total_count;
            names.extend(list.environments.into_iter().map(|e| e.name));
            if done {
                break;
            }
        }
        Ok(names)
    }

    /// The id of the stagegate App's protection rule on `name`, if enabled
    /// (nothing is read when no App id is known: `STAGEGATE_APP_ID`).
    async fn app_rule(&self, name: &str) -> Result<Option<u64>, ForgeError> {
        let Some(app) = self.ctx.app_id else { return Ok(None) };
        let rules: Rules = self
            .get(&self.env_path(name, "/deployment_protection_rules"), "list deployment protection rules", PERM)
            .await?;
        Ok(rules.custom_deployment_protection_rules.into_iter().find(|r| r.app.id == app).map(|r| r.id))
    }

    /// Enables or disables the stagegate App's rule on `name`.
    async fn set_app_rule(&self, name: &str, on: bool) -> Result<(), ForgeError> {
        let current = self.app_rule(name).await?;
        match (current, on) {
            (None, true) => {
                let app = self.ctx.app_id.ok_or_else(|| {
                    ForgeError::Setup(
                        format!("{name} wants the stagegate App's protection rule, but no App id is known"),
                        "set STAGEGATE_APP_ID to the App's id (its settings page shows it)".into(),
                    )
                })?;
                let _: Value = self
                    .octo
                    .post(self.env_path(name, "/deployment_protection_rules"), Some(&json!({"integration_id": app})))
                    .await
                    .map_err(|e| error("enable the App's deployment protection rule", PERM, e))?;
            }
            (Some(id), false) => {
                let url = format!(
                    "{}{}",
                    self.ctx.api_url,
                    self.env_path(name, &format!("/deployment_protection_rules/{id}"))
                );
                let what = "disable the App's deployment protection rule";
                let resp = self.octo._delete(url, None::<&()>).await.map_err(|e| error(what, PERM, e))?;
                octocrab::map_github_error(resp).await.map_err(|e| error(what, PERM, e))?;
            }
            _ => {}
        }
        Ok(())
    }

    pub(super) async fn reviewer_ref(&self, reviewer: &Reviewer) -> Result<ReviewerRef, ForgeError> {
        let (kind, path) = match reviewer {
            Reviewer::User(login) => ("User", format!("/users/{}", seg(login))),
            Reviewer::Team { org, slug } => ("Team", format!("/orgs/{}/teams/{}", seg(org), seg(slug))),
        };
        match self.octo.get::<Identified, _, ()>(&path, None).await {
            Ok(i) => Ok(ReviewerRef { kind: kind.into(), id: i.id, name: reviewer.to_string() }),
            Err(e) if super::api::status(&e) == Some(404) => Err(ForgeError::NotFound {
                what: format!("reviewer {reviewer}"),
                help:
                    "check the name in `approvals.reviewers`; a team needs the token to have `members: read` on the org"
                        .into(),
            }),
            Err(e) => Err(error(&format!("look up reviewer {reviewer}"), "members: read", e)),
        }
    }
}
