//! `stagegate release list` and `release view ID|TAG`: the forge's releases,
//! drafts included, and where each runs now — one read of the releases and
//! one of every environment's deployments (a single GraphQL query on GitHub).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::cli::Ctx;
use crate::error::{Error, Exit};
use crate::forge::history;
use crate::forge::{DeploymentId, DeploymentState, ForgeError, Release, Window};
use crate::human;
use crate::output::{Out, Render, table};
use crate::policy::Policy;

/// Deployments read of each environment to tell what runs there.
const HISTORY: usize = 100;

#[derive(Debug, clap::Args)]
pub struct ListArgs {}

#[derive(Debug, clap::Args)]
pub struct ViewArgs {
    /// Release id or tag
    release: String,
}

/// One release as `list` and `view` show it.
#[derive(Debug, Serialize)]
struct Entry {
    tag: String,
    name: String,
    id: u64,
    draft: bool,
    published_at: Option<DateTime<Utc>>,
    url: String,
    /// Where it runs now, in the graph's order.
    environments: Vec<String>,
}

/// A deployment of the release, for `view`.
#[derive(Debug, Serialize)]
struct Deployed {
    id: DeploymentId,
    environment: String,
    started_at: String,
    state: DeploymentState,
}

/// What runs where: (environment, its deployments newest first), graph order.
async fn histories(ctx: &Ctx) -> Result<(Vec<Release>, Vec<(String, Vec<crate::forge::Deployment>)>), Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    let names = policy.graph.ordered();
    let forge = ctx.forge()?;
    let releases = forge.releases().await?;
    let all = forge.deployments_in(&names, Window::newest(HISTORY)).await?;
    Ok((releases, names.into_iter().map(str::to_owned).zip(all).collect()))
}

/// Whether a deployment's release is this one: its tag, or its name.
fn is(release: &Release, name: &str) -> bool {
    name == release.tag || name == release.name
}

fn entry(r: &Release, envs: &[(String, Vec<crate::forge::Deployment>)]) -> Entry {
    let environments = envs
        .iter()
        .filter(|(_, deps)| history::current(deps).is_some_and(|c| is(r, &c.request.release)))
        .map(|(name, _)| name.clone())
        .collect();
    Entry {
        tag: r.tag.clone(),
        name: r.name.clone(),
        id: r.id,
        draft: r.draft,
        published_at: r.published_at,
        url: r.html_url.clone(),
        environments,
    }
}

pub async fn list(ctx: &Ctx, _args: ListArgs) -> Result<Exit, Error> {
    let (releases, envs) = histories(ctx).await?;
    let releases = releases.iter().map(|r| entry(r, &envs)).collect();
    ctx.out.print(&List { releases });
    Ok(Exit::Success)
}

pub async fn view(ctx: &Ctx, args: ViewArgs) -> Result<Exit, Error> {
    crate::error::check_release_id(&args.release)?;
    let (releases, envs) = histories(ctx).await?;
    let Some(release) = super::find(&releases, &args.release) else {
        return Err(ForgeError::NotFound {
            what: format!("a release `{}`", args.release),
            help: "give a release id or its tag; `stagegate release list` shows them".into(),
        }
        .into());
    };
    let mut deployments: Vec<(DateTime<Utc>, Deployed)> = envs
        .iter()
        .flat_map(|(_, deps)| deps.iter())
        .filter(|d| is(release, &d.request.release))
        .map(|d| {
            let shown = Deployed {
                id: d.id,
                environment: d.request.environment.clone(),
                started_at: human::timestamp(d.request.at),
                state: d.state(),
            };
            (d.request.at, shown)
        })
        .collect();
    deployments.sort_by_key(|d| std::cmp::Reverse(d.0));
    let release = entry(release, &envs);
    ctx.out.print(&View { release, deployments: deployments.into_iter().map(|(_, d)| d).collect() });
    Ok(Exit::Success)
}

#[derive(Debug, Serialize)]
struct List {
    releases: Vec<Entry>,
}

fn published(e: &Entry) -> String {
    match (e.draft, e.published_at) {
        (true, _) => "draft".into(),
        (false, Some(t)) => human::timestamp(t),
        (false, None) => "published".into(),
    }
}

fn runs_in(e: &Entry, o: &Out) -> String {
    if e.environments.is_empty() { o.dim("—") } else { e.environments.join(", ") }
}

impl Render for List {
    fn text(&self, o: &Out) -> String {
        if self.releases.is_empty() {
            return "no releases yet: `stagegate release draft --tag TAG` makes one".into();
        }
        let rows: Vec<Vec<String>> = self
            .releases
            .iter()
            .map(|e| vec![e.tag.clone(), e.name.clone(), e.id.to_string(), published(e), runs_in(e, o)])
            .collect();
        table(&["TAG", "NAME", "ID", "PUBLISHED", "RUNS IN"], &rows)
    }
}

/// `release view`: the release and its deployments, newest first.
#[derive(Debug, Serialize)]
struct View {
    #[serde(flatten)]
    release: Entry,
    deployments: Vec<Deployed>,
}

impl Render for View {
    fn text(&self, o: &Out) -> String {
        let e = &self.release;
        let mut t = format!(
            "{}{}\n  id         {}\n  published  {}\n  url        {}\n  runs in    {}",
            o.bold(&e.tag),
            if e.name == e.tag { String::new() } else { format!(" ({})", e.name) },
            e.id,
            published(e),
            e.url,
            runs_in(e, o)
        );
        if self.deployments.is_empty() {
            t.push_str("\n\nnot deployed");
        } else {
            let rows: Vec<Vec<String>> = self
                .deployments
                .iter()
                .map(|d| vec![format!("#{}", d.id), d.started_at.clone(), d.environment.clone(), d.state.to_string()])
                .collect();
            t.push_str("\n\n");
            t.push_str(&table(&["ID", "STARTED", "ENVIRONMENT", "STATE"], &rows));
        }
        t
    }
}
