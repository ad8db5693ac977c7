//! `stagegate release next|tag|draft|publish`: calver/semver tags and the
//! GitHub release lifecycle (tag, draft, then publish).

mod draft;
mod list;
mod next;
mod publish;
mod tag;

use chrono::NaiveDate;
use serde::Serialize;

use super::Ctx;
use crate::actions;
use crate::config::Config;
use crate::error::{Error, Exit};
use crate::forge::{Forge, Release};
use crate::output::{Out, Output, Render, output};
use crate::version::{self, Bump, Next};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the next tag and version (reads tags, writes nothing)
    Next(next::Args),
    /// Create the next tag (unique even when runs race on the same day)
    Tag(tag::Args),
    /// Create a draft release for a tag, or find the one a rerun already made
    Draft(draft::Args),
    /// Publish a draft release (by id or tag) and mark it latest
    Publish(publish::Args),
    /// Every release, drafts included, and the environments each runs in now
    List(list::ListArgs),
    /// One release (by id or tag): published when, where it runs, its deployments
    View(list::ViewArgs),
}

pub async fn run(ctx: &Ctx, cmd: Command) -> Result<Exit, Error> {
    match cmd {
        Command::Next(a) => next::run(ctx, a).await,
        Command::Tag(a) => tag::run(ctx, a).await,
        Command::Draft(a) => draft::run(ctx, a).await,
        Command::Publish(a) => publish::run(ctx, a).await,
        Command::List(a) => list::list(ctx, a).await,
        Command::View(a) => list::view(ctx, a).await,
    }
}

/// The release `id_or_tag` names: an id first, else a tag (the oldest with
/// that tag, should the forge hold two).
pub fn find<'r>(releases: &'r [Release], id_or_tag: &str) -> Option<&'r Release> {
    match id_or_tag.parse::<u64>() {
        Ok(id) => releases.iter().find(|r| r.id == id).or_else(|| releases.iter().find(|r| r.tag == id_or_tag)),
        Err(_) => releases.iter().filter(|r| r.tag == id_or_tag).min_by_key(|r| r.id),
    }
}

/// The day a calver version is for: `--date`, else today in `--tz` (UTC by default).
#[derive(Debug, Clone, clap::Args)]
pub struct DateArgs {
    /// Release date (YYYY-MM-DD) instead of today, for reproducible runs
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<NaiveDate>,
    /// Time zone that decides what "today" is (IANA name)
    #[arg(long, default_value = "UTC", value_name = "ZONE")]
    tz: chrono_tz::Tz,
    /// Semver only: which part to bump
    #[arg(long, value_enum, default_value = "patch")]
    bump: Bump,
}

impl DateArgs {
    pub fn day(&self) -> NaiveDate {
        self.date.unwrap_or_else(|| crate::clock::now().with_timezone(&self.tz).date_naive())
    }
}

/// The next version from the forge's tags.
pub async fn next_version(cfg: &Config, forge: &dyn Forge, d: &DateArgs) -> Result<Next, Error> {
    let day = d.day();
    let prefix = version::search_prefix(&cfg.release, day);
    let tags: Vec<String> = forge.tags(&prefix).await?.into_iter().map(|t| t.name).collect();
    version::next(&cfg.release, day, d.bump, &tags).map_err(|e| {
        let help = miette::Diagnostic::help(&e).map_or_else(String::new, |h| h.to_string());
        Error::invalid(e.to_string(), help)
    })
}

/// What `release tag|draft|publish` did, to which tag.
#[derive(Debug, Default, Serialize)]
pub struct Done {
    /// `tagged`, `published`, `found the existing release for`, …
    #[serde(skip)]
    verb: String,
    pub tag: String,
    pub version: String,
    pub release_url: Option<String>,
    /// The release's id on the forge (`draft`, `publish`).
    pub id: Option<u64>,
    pub draft: Option<bool>,
    /// `draft`: whether this run created the release (else a rerun found it).
    pub created: Option<bool>,
    /// `tag`: the commit tagged, and how many tries it took to find a free tag.
    pub sha: Option<String>,
    pub attempts: Option<u32>,
    /// Applied, or (`--dry-run`) the writes that were skipped.
    #[serde(flatten)]
    pub done: crate::effects::Done,
}

impl Done {
    pub fn new(ctx: &Ctx, verb: &str, tag: &str, version: &str) -> Done {
        Done {
            verb: verb.to_owned(),
            tag: tag.to_owned(),
            version: version.to_owned(),
            done: ctx.done(),
            ..Done::default()
        }
    }

    fn link(&self) -> String {
        self.release_url.as_deref().filter(|u| !u.is_empty()).map_or(String::new(), |u| format!(" — {u}"))
    }
}

impl Render for Done {
    fn text(&self, o: &Out) -> String {
        if let Some(would) = self.done.would() {
            return would;
        }
        format!("{} {} {}{}", o.good("✓"), self.verb, o.bold(&self.tag), self.link())
    }

    fn summary(&self) -> Option<String> {
        let what = actions::link(&self.tag, self.release_url.as_deref().filter(|u| u.starts_with("http")));
        Some(format!("- stagegate: {} {what}", actions::inline(&self.verb)))
    }

    fn outputs(&self) -> Vec<Output> {
        let mut out = vec![output("tag", &self.tag), output("version", &self.version)];
        if let Some(u) = self.release_url.as_deref().filter(|u| !u.is_empty()) {
            out.push(output("release-url", u));
        }
        out
    }
}
