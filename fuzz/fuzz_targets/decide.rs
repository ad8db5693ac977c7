//! The App's decision on arbitrary input: a webhook body, a page of
//! deployment records (GitHub's REST shape, each with a success status) and a
//! config, split at 0xFF bytes. Parse the delivery as the App does, read the
//! records as the forge does, judge with the config — every check, the
//! comment and its cut. None of it may panic, hang or overflow: one request's
//! input must never stop the App answering the others.
#![no_main]

use std::sync::OnceLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use stagegate::config::Reviewer;
use stagegate::forge::*;
use stagegate::github::app::{Login, WorkflowRun};
use stagegate::serve::decide::{Inputs, judge};
use stagegate::serve::webhook::{Event, parse};

/// The forge the decision reads: the fuzzed records for every environment, no reviews.
struct Memory {
    deployments: Vec<Deployment>,
}

fn only(what: &str) -> ForgeError {
    ForgeError::LocalOnly { what: what.into(), help: "not read by a decision".into() }
}

#[async_trait]
impl Forge for Memory {
    fn describe(&self) -> String {
        "fuzz".into()
    }
    fn kind(&self) -> ForgeKind {
        ForgeKind::Github
    }
    async fn record_approval(&self, _: &Approval) -> Result<(), ForgeError> {
        Err(only("record_approval"))
    }
    async fn approvals(&self, _: &str) -> Result<Vec<Approval>, ForgeError> {
        Ok(Vec::new())
    }
    async fn tags(&self, _: &str) -> Result<Vec<Tag>, ForgeError> {
        Ok(Vec::new())
    }
    async fn create_tag(&self, _: &NewTag) -> Result<TagOutcome, ForgeError> {
        Err(only("create_tag"))
    }
    async fn resolve_commit(&self, _: &str) -> Result<String, ForgeError> {
        Err(only("resolve_commit"))
    }
    async fn releases(&self) -> Result<Vec<Release>, ForgeError> {
        Ok(Vec::new())
    }
    async fn create_release(&self, _: &NewRelease) -> Result<Release, ForgeError> {
        Err(only("create_release"))
    }
    async fn delete_release(&self, _: u64) -> Result<(), ForgeError> {
        Err(only("delete_release"))
    }
    async fn publish_release(&self, _: u64) -> Result<Release, ForgeError> {
        Err(only("publish_release"))
    }
    async fn environment(&self, _: &str) -> Result<Option<Protection>, ForgeError> {
        Ok(None)
    }
    async fn apply_environment(&self, _: &str, _: Option<&Protection>, _: &Protection) -> Result<(), ForgeError> {
        Err(only("apply_environment"))
    }
    async fn reviewer(&self, _: &Reviewer) -> Result<ReviewerRef, ForgeError> {
        Err(only("reviewer"))
    }
    async fn team_members(&self, _: &str, _: &str) -> Result<Vec<String>, ForgeError> {
        Ok(Vec::new())
    }
    async fn set_team_members(&self, _: &str, _: &str, _: &[String]) -> Result<(), ForgeError> {
        Err(only("set_team_members"))
    }
    async fn create_deployment(&self, _: &NewDeployment) -> Result<Deployment, ForgeError> {
        Err(only("create_deployment"))
    }
    async fn set_deployment_status(
        &self,
        _: &Deployment,
        _: DeploymentState,
        _: &str,
        _: DateTime<Utc>,
    ) -> Result<(), ForgeError> {
        Err(only("set_deployment_status"))
    }
    async fn commits_between(&self, _: &str, _: &str) -> Result<Option<Vec<CommitSummary>>, ForgeError> {
        Ok(None)
    }
    async fn deployments(&self, _: &str) -> Result<Vec<Deployment>, ForgeError> {
        Ok(self.deployments.clone())
    }
    async fn holds(&self, _: &str, _: usize) -> Result<Vec<Hold>, ForgeError> {
        Ok(Vec::new())
    }
    async fn set_hold(&self, _: &NewHold) -> Result<Hold, ForgeError> {
        Err(only("set_hold"))
    }
    async fn clear_hold(&self, _: &Hold, _: &str, _: DateTime<Utc>) -> Result<(), ForgeError> {
        Err(only("clear_hold"))
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap())
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == 0xFF);
    let (body, records, config) = (parts.next().unwrap_or(&[]), parts.next().unwrap_or(&[]), parts.next().unwrap_or(&[]));
    let now: DateTime<Utc> = "2026-11-21T12:00:00Z".parse().unwrap();
    let req = match parse("deployment_protection_rule", body, now) {
        Ok(Event::Requested(req)) => req,
        _ => {
            let _ = parse("deployment_review", body, now);
            return;
        }
    };
    let success = DeploymentStatus { state: DeploymentState::Success, description: String::new(), created_at: now };
    let deployments = match serde_json::from_slice::<Vec<serde_json::Value>>(records) {
        Ok(items) => items
            .iter()
            .take(50)
            .filter_map(|i| stagegate::github::deployments::from_api(i, vec![success.clone()]))
            .collect(),
        Err(_) => Vec::new(),
    };
    let forge = Memory { deployments };
    let login = |l: &str| Some(Login { login: l.into() });
    let run = WorkflowRun { id: req.run_id, display_title: req.git_ref.clone(), actor: login("mallory"), triggering_actor: login("mallory") };
    let inputs = Inputs { config_path: ".github/stagegate.yml", config, run: &run, now, servicenow: None, purpose: Default::default() };
    let _ = runtime().block_on(judge(&forge, &req, &inputs));
});
