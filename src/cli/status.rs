//! `stagegate status`: what is deployed where — release, sha, when, by whom,
//! the state of the latest deployment, and health now.

use serde_json::{Value, json};

use super::{Ctx, known_env};
use crate::actions;
use crate::error::{Error, Exit};
use crate::forge::{DeploymentState, ForgeKind};
use crate::human;
use crate::output::table;
use crate::policy::Policy;
use crate::run::lock::{self, Busy};
use crate::run::{health, history};

/// `status` asks each health check once, and waits at most this long.
const PROBE_CAP: std::time::Duration = std::time::Duration::from_secs(5);

/// Whether the run of a deployment in progress still runs.
enum RunNow {
    Running,
    /// It died, but a hook it started still runs.
    HookLeft(String),
    /// It died, and nothing of it runs: the deployment will never finish.
    Died,
}

impl RunNow {
    fn as_str(&self) -> &'static str {
        match self {
            RunNow::Running => "running",
            RunNow::HookLeft(_) => "died, hook still running",
            RunNow::Died => "died",
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this environment
    #[arg(long)]
    env: Option<String>,
    /// Do not probe the health checks
    #[arg(long)]
    no_health: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    let forge = ctx.forge()?;
    let mut envs = Vec::new();
    let mut rows = Vec::new();
    let names = match &args.env {
        Some(e) => vec![known_env(&policy, e)?.name.as_str()],
        None => policy.graph.ordered(),
    };
    let mut summary = Vec::new();
    for name in names {
        let env = policy.env(name).expect("graph names come from the config");
        let deps = forge.deployments(name).await?;
        let current = history::current(&deps);
        let latest = deps.first();
        let probes = if args.no_health || env.health.is_empty() {
            None
        } else {
            Some(health::probe_all(&env.health, cfg.steps.health_check_timeout, PROBE_CAP).await)
        };
        // A deployment in progress is only in progress while its run (or a
        // hook it left behind) is: on the local forge the lock tells.
        let run = latest.filter(|l| l.state().is_active() && forge.kind() == ForgeKind::Local).map(|_| {
            match lock::inspect(&ctx.state, name) {
                Some(Busy::Held { .. }) => RunNow::Running,
                Some(Busy::HookRunning { hook, .. }) => RunNow::HookLeft(hook.step),
                None => RunNow::Died,
            }
        });
        let latest_state = |l: &crate::forge::Deployment| match &run {
            Some(RunNow::Died) => "abandoned".to_string(),
            _ => l.state().to_string(),
        };
        // What the current release replaced when it is a rollback: the
        // attempt that failed (or was rolled away from) stays visible.
        let undone = current.and_then(|c| c.request.rollback_of).and_then(|id| deps.iter().find(|d| d.id == id));
        let now = ctx.now();
        let state = match (current, latest) {
            (_, None) => None,
            (Some(c), Some(l)) if c.id == l.id => Some(match undone {
                // The DEPLOYED column says when.
                Some(u) => format!("success (rolled back from {})", u.request.release),
                None => DeploymentState::Success.to_string(),
            }),
            (_, Some(l)) => Some(match &run {
                Some(RunNow::Died) => format!("abandoned ({}): its run died", l.request.release),
                Some(RunNow::HookLeft(step)) => {
                    format!("in_progress ({}): its run died, its {step} hook still runs", l.request.release)
                }
                _ => format!("{} ({})", l.state(), l.request.release),
            }),
        };
        let health_text = match &probes {
            None => "—".to_string(),
            Some(p) if p.iter().all(|x| x.ok) => ctx.out.good("healthy"),
            Some(p) => {
                ctx.out.bad(&format!("down: {}", p.iter().find(|x| !x.ok).map(|x| x.describe()).unwrap_or_default()))
            }
        };
        summary.push(vec![
            name.to_string(),
            current.map_or("—".into(), |c| c.request.release.clone()),
            current.and_then(|c| c.request.sha.as_deref()).map_or("—".into(), |s| s.chars().take(12).collect()),
            current.map_or("—".into(), |c| human::when(now, c.updated_at())),
            current.map_or("—".into(), |c| c.request.creator.clone()),
            state.clone().unwrap_or_else(|| "never deployed".into()),
            match &probes {
                None => "—".into(),
                Some(p) if p.iter().all(|x| x.ok) => "healthy".into(),
                Some(p) => format!("down: {}", p.iter().find(|x| !x.ok).map(|x| x.describe()).unwrap_or_default()),
            },
            env.url.clone().unwrap_or_default(),
        ]);
        let dash = || ctx.out.dim("—");
        rows.push(vec![
            ctx.out.bold(name),
            current.map_or_else(dash, |c| c.request.release.clone()),
            current.and_then(|c| c.request.sha.as_deref()).map_or_else(dash, |s| s.chars().take(12).collect()),
            current.map_or_else(dash, |c| human::when(now, c.updated_at())),
            current.map_or_else(dash, |c| c.request.creator.clone()),
            state.clone().unwrap_or_else(dash),
            health_text,
        ]);
        envs.push(json!({
            "name": name,
            "release": current.map(|c| &c.request.release),
            "sha": current.and_then(|c| c.request.sha.as_ref()),
            "ref": current.and_then(|c| c.request.git_ref.as_ref()),
            "deployed_at": current.map(|c| human::timestamp(c.updated_at())),
            "rolled_back_from": undone.map(|u| json!({
                "deployment_id": u.id, "release": u.request.release, "state": u.state(),
                "at": current.map(|c| human::timestamp(c.request.at)),
            })),
            "deployed_by": current.map(|c| &c.request.creator),
            "deployment_id": current.map(|c| c.id),
            "state": latest.map(latest_state),
            "latest": latest.filter(|l| current.is_none_or(|c| c.id != l.id)).map(|l| json!({
                "id": l.id, "release": l.request.release, "state": latest_state(l), "at": human::timestamp(l.updated_at()),
                "run": run.as_ref().map(RunNow::as_str),
                "description": l.statuses.last().map(|s| s.description.clone()),
            })),
            "health": probes.as_ref().map(|p| serde_json::to_value(p).unwrap_or(Value::Null)),
        }));
    }
    actions::summary(&format!(
        "### What is deployed where\n\n{}",
        actions::markdown_table(
            &["Environment", "Release", "Sha", "Deployed", "By", "State", "Health", "URL"],
            &summary
        )
    ));
    if ctx.out.json() {
        ctx.out.emit(&json!({ "environments": envs }));
    } else {
        println!("{}", table(&["ENVIRONMENT", "RELEASE", "SHA", "DEPLOYED", "BY", "STATE", "HEALTH"], &rows));
    }
    Ok(Exit::Success)
}
