//! `stagegate status`: what is deployed where — release, sha, when, by whom,
//! the state of the latest deployment, and health now.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::hold::HoldView;
use super::{Ctx, resolve_env};
use crate::actions::{Links, cell, link};
use crate::error::{Error, Exit};
use crate::forge::history;
use crate::forge::verdict::Verdict;
use crate::forge::{Deployment, DeploymentId, DeploymentState, ForgeKind, Window};
use crate::human;
use crate::output::{Out, Render, table};
use crate::policy::Policy;
use crate::run::health;
use crate::run::health::Probe;
use crate::run::lock::{self, Busy};

/// `status` asks each health check once, and waits at most this long.
/// Deployments read of each environment: what runs there is the newest
/// success among them (one GitHub page).
const STATUS_HISTORY: usize = 100;
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

/// What `status` answers: one entry per environment, in promotion order.
#[derive(Debug, Serialize)]
struct Status {
    environments: Vec<EnvStatus>,
    #[serde(skip)]
    now: DateTime<Utc>,
}

/// What runs in one environment.
#[derive(Debug, Serialize)]
struct EnvStatus {
    environment: String,
    /// The same as `environment`: the key scripts written against the
    /// first JSON contract of `status` read.
    name: String,
    /// The ephemeral environment this is an instance of (its name is its branch).
    template: Option<String>,
    /// The config's `url:` of the environment.
    url: Option<String>,
    release: Option<String>,
    sha: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    deployed_at: Option<String>,
    #[serde(skip)]
    deployed: Option<DateTime<Utc>>,
    deployed_by: Option<String>,
    deployment_id: Option<DeploymentId>,
    run_id: Option<String>,
    /// Who counted in the gate of the deployment that runs, as its record
    /// says (`null` when nothing runs or the record does not say).
    approved_by: Option<Vec<String>>,
    /// That record's whole verdict: approvers, reviews that did not count
    /// and why, the change, a freeze override.
    verdict: Option<Verdict>,
    /// The state of the latest deployment.
    state: Option<String>,
    /// The state in words, for people: `success (rolled back from 1.1)`, `never deployed`.
    #[serde(skip)]
    state_text: String,
    rolled_back_from: Option<RolledBackFrom>,
    /// The latest deployment, when it is not the one that runs.
    latest: Option<Latest>,
    health: Option<Vec<Probe>>,
    /// The hold on the environment now (`hold set`), or `null`.
    hold: Option<HoldView>,
}

#[derive(Debug, Serialize)]
struct RolledBackFrom {
    deployment_id: DeploymentId,
    release: String,
    state: DeploymentState,
    at: Option<String>,
}

#[derive(Debug, Serialize)]
struct Latest {
    id: DeploymentId,
    release: String,
    state: String,
    at: String,
    run: Option<&'static str>,
    description: Option<String>,
}

/// An environment's health, when its checks were probed.
enum Health<'a> {
    Healthy,
    /// The first check that did not answer.
    Down(&'a Probe),
}

impl std::fmt::Display for Health<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Health::Healthy => f.write_str("healthy"),
            Health::Down(p) => write!(f, "down: {}", p.describe()),
        }
    }
}

impl EnvStatus {
    fn health(&self) -> Option<Health<'_>> {
        let p = self.health.as_ref()?;
        Some(p.iter().find(|x| !x.ok).map_or(Health::Healthy, Health::Down))
    }
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    let forge = ctx.forge()?;
    // Each environment with its rules; a template's instances under it.
    let mut rows: Vec<(String, &crate::config::Environment, Option<String>)> = Vec::new();
    let picked: Vec<crate::config::Resolved> = match &args.env {
        Some(e) => vec![resolve_env(&policy, e)?],
        None => policy.graph.ordered().into_iter().filter_map(|n| cfg.resolve(n).ok()).collect(),
    };
    for r in picked {
        let env = r.rules();
        match r.template() {
            Some(t) => rows.push((r.name(), env, Some(t.name.clone()))),
            None if env.is_template() => {
                rows.push((env.name.clone(), env, None));
                for i in crate::forge::instances::of(forge.as_ref(), &cfg, &env.name).await? {
                    if i.standing() {
                        rows.push((i.name, env, Some(env.name.clone())));
                    }
                }
            }
            None => rows.push((env.name.clone(), env, None)),
        }
    }
    // Every environment's history in one read (one request on GitHub).
    let names: Vec<&str> = rows.iter().map(|(n, _, _)| n.as_str()).collect();
    let histories = forge.deployments_in(&names, Window::newest(STATUS_HISTORY)).await?;
    let mut environments = Vec::new();
    for ((name, env, template), deps) in rows.iter().zip(histories) {
        let name = name.as_str();
        let probes = if args.no_health || env.health.is_empty() {
            None
        } else {
            Some(health::probe_all(&env.health, cfg.steps.health_check_timeout, PROBE_CAP).await)
        };
        // A deployment in progress is only in progress while its run (or a
        // hook it left behind) is: on the local forge the lock tells.
        let run = deps.first().filter(|l| l.state().is_active() && forge.kind() == ForgeKind::Local).map(|_| {
            match lock::inspect(&ctx.state, name) {
                Some(Busy::Held { .. }) => RunNow::Running,
                Some(Busy::HookRunning { hook, .. }) => RunNow::HookLeft(hook.step),
                None => RunNow::Died,
            }
        });
        let mut status = env_status(name, env.url.clone(), &deps, run, probes);
        status.template = template.clone();
        status.hold = crate::forge::hold::current(forge.as_ref(), name, ctx.now()).await?.as_ref().map(HoldView::from);
        environments.push(status);
    }
    ctx.out.print(&Status { environments, now: ctx.now() });
    Ok(Exit::Success)
}

fn env_status(
    name: &str,
    url: Option<String>,
    deps: &[Deployment],
    run: Option<RunNow>,
    health: Option<Vec<Probe>>,
) -> EnvStatus {
    let current = history::current(deps);
    let latest = deps.first();
    let latest_state = |l: &Deployment| match &run {
        Some(RunNow::Died) => "abandoned".to_string(),
        _ => l.state().to_string(),
    };
    // What the current release replaced when it is a rollback: the attempt
    // that failed (or was rolled away from) stays visible.
    let undone = current.and_then(|c| c.request.rollback_of).and_then(|id| deps.iter().find(|d| d.id == id));
    let state_text = match (current, latest) {
        (_, None) => "never deployed".to_string(),
        (Some(c), Some(l)) if c.id == l.id => match undone {
            // The DEPLOYED column says when.
            Some(u) => format!("success (rolled back from {})", u.request.release),
            None => DeploymentState::Success.to_string(),
        },
        (_, Some(l)) => match &run {
            Some(RunNow::Died) => format!("abandoned ({}): its run died", l.request.release),
            Some(RunNow::HookLeft(step)) => {
                format!("in_progress ({}): its run died, its {step} hook still runs", l.request.release)
            }
            _ => format!("{} ({})", l.state(), l.request.release),
        },
    };
    EnvStatus {
        environment: name.to_owned(),
        name: name.to_owned(),
        template: None,
        url,
        release: current.map(|c| c.request.release.clone()),
        sha: current.and_then(|c| c.request.sha.clone()),
        git_ref: current.and_then(|c| c.request.git_ref.clone()),
        deployed_at: current.map(|c| human::timestamp(c.updated_at())),
        deployed: current.map(|c| c.updated_at()),
        deployed_by: current.map(|c| c.request.creator.clone()),
        deployment_id: current.map(|c| c.id),
        run_id: current.map(|c| c.request.run_id.clone()),
        approved_by: current.and_then(|c| c.request.verdict.as_ref()).map(Verdict::approved_by),
        verdict: current.and_then(|c| c.request.verdict.clone()),
        state: latest.map(latest_state),
        state_text,
        rolled_back_from: undone.map(|u| RolledBackFrom {
            deployment_id: u.id,
            release: u.request.release.clone(),
            state: u.state(),
            at: current.map(|c| human::timestamp(c.request.at)),
        }),
        latest: latest.filter(|l| current.is_none_or(|c| c.id != l.id)).map(|l| Latest {
            id: l.id,
            release: l.request.release.clone(),
            state: latest_state(l),
            at: human::timestamp(l.updated_at()),
            run: run.as_ref().map(RunNow::as_str),
            description: l.statuses.last().map(|s| s.description.clone()),
        }),
        health,
        hold: None,
    }
}

fn short(sha: &str) -> String {
    crate::values::sha::ShortSha::new(sha).into()
}

impl Render for Status {
    fn text(&self, o: &Out) -> String {
        let dash = || o.dim("—");
        let rows: Vec<Vec<String>> = self
            .environments
            .iter()
            .map(|e| {
                let shown = if e.template.is_some() { format!("  {}", e.environment) } else { e.environment.clone() };
                let name = match &e.hold {
                    Some(_) => format!("{} {}", o.bold(&shown), o.bad("(held)")),
                    None => o.bold(&shown),
                };
                vec![
                    name,
                    e.release.clone().unwrap_or_else(dash),
                    e.sha.as_deref().map_or_else(dash, short),
                    e.deployed.map_or_else(dash, |t| human::when(self.now, t)),
                    e.deployed_by.clone().unwrap_or_else(dash),
                    if e.latest.is_none() && e.release.is_none() { dash() } else { e.state_text.clone() },
                    match e.health() {
                        None => dash(),
                        Some(h @ Health::Healthy) => o.good(&h.to_string()),
                        Some(h @ Health::Down(_)) => o.bad(&h.to_string()),
                    },
                ]
            })
            .collect();
        let mut t = table(&["ENVIRONMENT", "RELEASE", "SHA", "DEPLOYED", "BY", "STATE", "HEALTH"], &rows);
        for e in &self.environments {
            if let Some(h) = &e.hold {
                t.push_str(&format!("\n{} {} is {}", o.bad("■"), e.environment, h.describe()));
            }
        }
        t
    }

    /// One row per environment, with links to its URL, the release, the
    /// commit and the run that deployed it.
    fn summary(&self) -> Option<String> {
        let links = Links::from_env();
        let dash = || "—".to_string();
        let mut md = String::from("### What is deployed where\n\n");
        md.push_str("| Environment | Release | Sha | Deployed | By | State | Health | Run |\n");
        md.push_str("|---|---|---|---|---|---|---|---|\n");
        for e in &self.environments {
            let url = e.url.as_deref().filter(|u| u.starts_with("https://") || u.starts_with("http://"));
            let release =
                e.release.as_deref().map_or_else(dash, |r| link(r, links.as_ref().map(|l| l.release(r)).as_deref()));
            let sha = e
                .sha
                .as_deref()
                .map_or_else(dash, |s| link(&short(s), links.as_ref().and_then(|l| l.commit(s)).as_deref()));
            let run =
                e.run_id.as_deref().map_or_else(dash, |r| link(r, links.as_ref().and_then(|l| l.run(r)).as_deref()));
            let health = match e.health() {
                None => dash(),
                Some(h @ Health::Healthy) => h.to_string(),
                Some(h @ Health::Down(_)) => cell(&h.to_string()),
            };
            let name = link(&e.environment, url);
            let cells = [
                if e.hold.is_some() { format!("{name} (held)") } else { name },
                release,
                sha,
                e.deployed.map_or_else(dash, |t| human::when(self.now, t)),
                e.deployed_by.as_deref().map_or_else(dash, cell),
                cell(&e.state_text),
                health,
                run,
            ];
            md.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        for e in &self.environments {
            if let Some(h) = &e.hold {
                md.push_str(&format!("\n**{} is held**: {}\n", e.environment, crate::actions::inline(&h.describe())));
            }
        }
        Some(md)
    }
}
