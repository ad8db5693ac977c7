//! The failure matrix of `flow`: backup, deploy, health checks and the
//! rollback failing in turn, with scripted hooks and health probes and the
//! local forge in a temporary directory — no process, no network.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::effects::Effects;
use super::health::Probe;
use super::hooks::{Ended, Hook, Hooks, Sink};
use super::liveness::Process;
use super::report::Outcome;
use super::{Runner, Target};
use crate::clock::Clock;
use crate::config::{Config, HealthCheck};
use crate::forge::local::LocalForge;
use crate::forge::{Deployment, DeploymentState, Forge, NewDeployment};
use crate::output::{Format, Out};
use crate::plan::{Act, Mode};
use crate::state::StateDir;

const CONFIG: &str = r#"version: 1
environments:
  prod:
    branches: [main]
    health:
      - { http: "http://app.invalid/healthz", expect: 200 }
steps:
  backup: backup
  deploy: deploy
  verify: verify
  rollback: rollback
"#;

const PREVIOUS: &str = "26.1.1.1";
const NEW: &str = "26.1.2.1";

/// Hooks that fail the steps named in `failing`, and health probes that
/// answer as `probes` says, in order (then pass); every call is recorded.
#[derive(Default)]
struct Scripted {
    failing: HashSet<&'static str>,
    probes: Mutex<Vec<bool>>,
    calls: Mutex<Vec<String>>,
}

#[async_trait::async_trait(?Send)]
impl Hooks for Scripted {
    async fn run(&self, hook: &Hook<'_>, _started: &dyn for<'p> Fn(&'p Process)) -> std::io::Result<Ended> {
        self.calls.lock().unwrap().push(hook.name.to_string());
        Ok(if self.failing.contains(hook.name) { Ended::Exit(1) } else { Ended::Ok })
    }

    async fn probe(
        &self,
        check: &HealthCheck,
        _: Duration,
        _: tokio::time::Instant,
        _: &mut dyn for<'p> FnMut(&'p Probe, Duration),
    ) -> Probe {
        let mut probes = self.probes.lock().unwrap();
        let ok = if probes.is_empty() { true } else { probes.remove(0) };
        self.calls.lock().unwrap().push("probe".into());
        let status = Some(if ok { 200 } else { 503 });
        Probe { url: check.http.clone(), expect: check.expect, status, error: None, ok, tries: 1 }
    }
}

struct Ran {
    outcome: Outcome,
    message: String,
    calls: Vec<String>,
    /// The deployments to prod, by release and rollback: their last state.
    states: Vec<(String, bool, DeploymentState)>,
}

fn target(release: &str) -> Target {
    Target {
        env: "prod".into(),
        from: None,
        release: release.into(),
        sha: None,
        git_ref: Some("refs/heads/main".into()),
        actor: "alice".into(),
        run_id: "1".into(),
        previous_release: Some(PREVIOUS.into()),
    }
}

/// A successful earlier deployment of [`PREVIOUS`] to roll back to.
async fn deployed(forge: &dyn Forge) -> Deployment {
    let t = target(PREVIOUS);
    let new = NewDeployment {
        environment: t.env,
        release: t.release,
        git_ref: t.git_ref,
        sha: None,
        creator: t.actor,
        description: "earlier".into(),
        run_id: t.run_id,
        from: None,
        rollback_of: None,
        reason: None,
        at: crate::clock::now(),
        environment_url: None,
        log_url: None,
        verdict: None,
    };
    let d = forge.create_deployment(&new).await.unwrap();
    forge.set_deployment_status(&d, DeploymentState::Success, "live", crate::clock::now()).await.unwrap();
    d
}

/// Promotes [`NEW`] to prod with `failing` hooks and `probes`.
async fn promote(failing: &[&'static str], probes: &[bool], with_previous: bool) -> Ran {
    let dir = tempfile::tempdir().unwrap();
    let cfg: Config = crate::config::parse_bytes("flow.yml", CONFIG.as_bytes()).config.expect("a valid config");
    let forge: Arc<dyn Forge> = Arc::new(LocalForge::new(StateDir::new(dir.path())));
    let previous = if with_previous { Some(deployed(forge.as_ref()).await) } else { None };
    let hooks = Arc::new(Scripted {
        failing: failing.iter().copied().collect(),
        probes: Mutex::new(probes.to_vec()),
        ..Scripted::default()
    });
    // Step lines go nowhere: the test asserts the run's outcome and records.
    let fx = Effects::real(forge.clone(), StateDir::new(dir.path()), Clock::new(None), Sink::Quiet);
    let mut runner = Runner::new(&cfg, fx.with_hooks(hooks.clone()), Out::new(Format::Json));
    let env = cfg.env("prod").unwrap();
    let steps = [Act::Backup, Act::Deploy, Act::Health(0), Act::Verify, Act::Record];
    let executed = runner.execute(env, &target(NEW), previous.as_ref(), &steps, Mode::Promotion).await.unwrap();
    let states = forge
        .deployments("prod")
        .await
        .unwrap()
        .iter()
        .map(|d| (d.request.release.clone(), d.request.rollback_of.is_some(), d.state()))
        .collect();
    let calls = hooks.calls.lock().unwrap().clone();
    Ran { outcome: executed.outcome, message: executed.message, calls, states }
}

fn state_of(ran: &Ran, release: &str, rollback: bool) -> Option<DeploymentState> {
    ran.states.iter().find(|(r, rb, _)| r == release && *rb == rollback).map(|s| s.2)
}

#[tokio::test]
async fn a_passing_run_records_success_and_retires_the_previous_deployment() {
    let ran = promote(&[], &[], true).await;
    assert_eq!(ran.outcome, Outcome::Succeeded, "{}", ran.message);
    assert_eq!(ran.calls, ["backup", "deploy", "probe", "verify"]);
    assert_eq!(state_of(&ran, NEW, false), Some(DeploymentState::Success));
    assert_eq!(state_of(&ran, PREVIOUS, false), Some(DeploymentState::Inactive));
}

#[tokio::test]
async fn a_failed_deploy_rolls_back_to_the_previous_release() {
    let ran = promote(&["deploy"], &[], true).await;
    assert_eq!(ran.outcome, Outcome::RolledBack, "{}", ran.message);
    assert_eq!(ran.calls, ["backup", "deploy", "rollback", "rollback-deploy", "probe", "rollback-verify"]);
    assert!(ran.message.contains("rolled back to 26.1.1.1 (healthy again)"), "{}", ran.message);
    assert_eq!(state_of(&ran, NEW, false), Some(DeploymentState::Failure));
    assert_eq!(state_of(&ran, PREVIOUS, true), Some(DeploymentState::Success));
}

#[tokio::test]
async fn a_failed_health_check_rolls_back_without_running_verify() {
    let ran = promote(&[], &[false], true).await;
    assert_eq!(ran.outcome, Outcome::RolledBack, "{}", ran.message);
    assert_eq!(ran.calls, ["backup", "deploy", "probe", "rollback", "rollback-deploy", "probe", "rollback-verify"]);
    assert!(ran.message.contains("health check failed: GET http://app.invalid/healthz → 503"), "{}", ran.message);
    assert_eq!(state_of(&ran, NEW, false), Some(DeploymentState::Failure));
}

#[tokio::test]
async fn a_failed_rollback_hook_leaves_the_environment_to_a_person() {
    let ran = promote(&["deploy", "rollback"], &[], true).await;
    assert_eq!(ran.outcome, Outcome::Failed, "{}", ran.message);
    assert_eq!(ran.calls, ["backup", "deploy", "rollback"]);
    assert!(ran.message.contains("the rollback hook failed too"), "{}", ran.message);
    assert!(ran.message.contains("prod needs a person"), "{}", ran.message);
    assert_eq!(state_of(&ran, PREVIOUS, true), None, "no rollback deployment was started");
}

#[tokio::test]
async fn a_failed_redeploy_or_its_health_check_fails_the_rollback_deployment() {
    for (failing, probes) in [(&["deploy", "rollback-deploy"][..], &[][..]), (&["deploy"], &[false])] {
        let ran = promote(failing, probes, true).await;
        assert_eq!(ran.outcome, Outcome::Failed, "{failing:?}: {}", ran.message);
        assert!(ran.message.contains("the rollback to 26.1.1.1 failed too"), "{}", ran.message);
        assert_eq!(state_of(&ran, NEW, false), Some(DeploymentState::Failure));
        assert_eq!(state_of(&ran, PREVIOUS, true), Some(DeploymentState::Failure));
    }
}

#[tokio::test]
async fn a_failure_before_the_deploy_rolls_nothing_back() {
    let ran = promote(&["backup"], &[], true).await;
    assert_eq!(ran.outcome, Outcome::Failed, "{}", ran.message);
    assert_eq!(ran.calls, ["backup"]);
    assert!(ran.message.contains("failed before deploying"), "{}", ran.message);
    assert!(ran.message.contains("prod still runs 26.1.1.1"), "{}", ran.message);
    assert_eq!(state_of(&ran, PREVIOUS, false), Some(DeploymentState::Success));
}

#[tokio::test]
async fn without_an_earlier_release_the_rollback_hook_restores_and_the_run_fails() {
    let ran = promote(&["deploy"], &[], false).await;
    assert_eq!(ran.outcome, Outcome::Failed, "{}", ran.message);
    assert_eq!(ran.calls, ["backup", "deploy", "rollback"]);
    assert!(ran.message.contains("had no earlier successful release to redeploy"), "{}", ran.message);
}
