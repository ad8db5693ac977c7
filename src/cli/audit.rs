//! `stagegate audit export [--env E] [--since T] [--until T] [--format json|csv]`:
//! one document an auditor takes away — every promotion, deploy, rollback,
//! hold and journal operation in the range, read from the forge's deployment
//! records and the journal store's audit trail (never from a runner's local
//! `audit.jsonl`), with the sha256 of its events.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::values::{Moment, moment};
use super::{Ctx, known_env};
use crate::config::Config;
use crate::error::{Error, Exit, InputError};
use crate::evidence::{self, Event};
use crate::forge::ForgeKind;
use crate::forge::hold::MAX_HOLDS;
use crate::journal::audit::{self as trail, Entry};
use crate::policy::Policy;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Every promotion, deploy, rollback, hold and journal operation in a range, as JSON or CSV
    Export(ExportArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Csv,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Only this environment, or this journal lane
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
    /// From this time on: RFC 3339, a day (2026-12-01, UTC) or a span back from now (30d) [default: everything]
    #[arg(long, value_name = "TIME", value_parser = moment)]
    since: Option<Moment>,
    /// Up to this time, included [default: now]
    #[arg(long, value_name = "TIME", value_parser = moment)]
    until: Option<Moment>,
    /// The document's format
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
}

/// The export: what an auditor takes away.
#[derive(Debug, Serialize)]
struct Export<'e> {
    generated_at: DateTime<Utc>,
    /// `owner/repo` on GitHub; `null` on the local forge.
    repository: Option<String>,
    since: Option<DateTime<Utc>>,
    until: DateTime<Utc>,
    events: &'e [Event],
    /// Of the canonical events (see `audit export --help`).
    sha256: String,
    /// Entries of the journal's trail that could not be read (damaged or
    /// oversized), left out.
    unreadable_journal_entries: usize,
}

pub async fn run(ctx: &Ctx, command: Command) -> Result<Exit, Error> {
    let Command::Export(args) = command;
    let cfg = ctx.load_config()?;
    let now = ctx.now();
    let since = args.since.map(|m| m.resolve(now));
    let until = args.until.map_or(now, |m| m.resolve(now));
    if since.is_some_and(|s| s > until) {
        return Err(InputError::Invalid {
            message: "--since is after --until".into(),
            help: Some("give the earlier time to --since, e.g. --since 2026-12-01 --until 2026-12-08".into()),
        }
        .into());
    }
    let scope = args.env.as_deref();
    let (deployment_envs, lanes) = scope_of(&cfg, scope)?;
    let mut events = Vec::new();
    let forge = ctx.forge()?;
    for env in &deployment_envs {
        let deps = forge.deployments(env).await?;
        events.extend(deps.iter().map(|d| evidence::of_deployment(&deps, d)));
        events.extend(evidence::hold_events(&forge.holds(env, MAX_HOLDS).await?));
    }
    let mut unreadable = 0;
    if cfg.journal.declared && (scope.is_none() || !lanes.is_empty()) {
        let store = crate::journal::store::open(&cfg.journal, &ctx.writes()).await?;
        let (entries, skipped) = trail::read(store.as_ref(), since, Some(until)).await?;
        events.extend(entries.into_iter().map(journal_event));
        unreadable = skipped;
    }
    events.retain(|e| evidence::in_range(e, scope, since, Some(until)));
    events.sort_by(|a, b| a.at.cmp(&b.at).then(a.deployment.cmp(&b.deployment)));
    let text = match args.format {
        Format::Csv => evidence::csv::render(&events),
        Format::Json => {
            let doc = Export {
                generated_at: now,
                repository: repository(ctx),
                since,
                until,
                sha256: evidence::digest(&events),
                events: &events,
                unreadable_journal_entries: unreadable,
            };
            evidence::ascii(&serde_json::to_string_pretty(&doc).expect("the export serializes"))
        }
    };
    match args.format {
        Format::Json => crate::console::json(crate::console::Stream::Out, &text),
        Format::Csv => crate::console::answer(crate::console::Stream::Out, text.trim_end_matches('\n')),
    }
    Ok(Exit::Success)
}

/// The environments whose deployments to read and the lanes concerned: all
/// of them, or the one `--env` names (an environment, a lane, or both).
fn scope_of(cfg: &Config, scope: Option<&str>) -> Result<(Vec<String>, Vec<String>), Error> {
    let policy = Policy::new(cfg);
    let lanes = &cfg.journal.lanes;
    match scope {
        None => Ok((policy.graph.ordered().into_iter().map(str::to_owned).collect(), lanes.clone())),
        Some(name) if lanes.iter().any(|l| l == name) => {
            let envs = policy.env(name).map(|e| e.name.clone()).into_iter().collect();
            Ok((envs, vec![name.to_owned()]))
        }
        Some(name) => Ok((vec![known_env(&policy, name)?.name.clone()], Vec::new())),
    }
}

/// `owner/repo` on GitHub, `None` on the local forge.
fn repository(ctx: &Ctx) -> Option<String> {
    match ctx.forge_kind {
        ForgeKind::Local => None,
        ForgeKind::Github => ctx.github_context().ok().map(|c| format!("{}/{}", c.owner, c.repo)),
    }
}

/// An entry of the journal store's trail as an event (`journal_upload`, …).
fn journal_event(e: Entry) -> Event {
    Event {
        at: e.at,
        kind: format!("journal_{}", e.operation),
        actor: e.actor,
        environment: None,
        lane: e.lane,
        release: e.version,
        from: None,
        sha: None,
        deployment: None,
        approved_by: None,
        not_counted: Vec::new(),
        change: None,
        reasons: Vec::new(),
        outcome: e.outcome,
        detail: e.detail,
        run_url: e.run_url,
    }
}
