//! `stagegate release next|tag|draft|publish`: calver/semver tags and the
//! GitHub release lifecycle (tag, draft, then publish).

mod draft;
mod next;
mod publish;
mod tag;

use chrono::NaiveDate;
use serde_json::json;

use super::Ctx;
use crate::actions;
use crate::config::Config;
use crate::error::{Error, Exit};
use crate::forge::Forge;
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
}

pub async fn run(ctx: &Ctx, cmd: Command) -> Result<Exit, Error> {
    match cmd {
        Command::Next(a) => next::run(ctx, a).await,
        Command::Tag(a) => tag::run(ctx, a).await,
        Command::Draft(a) => draft::run(ctx, a).await,
        Command::Publish(a) => publish::run(ctx, a).await,
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
    version::next(&cfg.release, day, d.bump, &tags)
        .map_err(|e| Error::invalid(e, "fix `release.format` (stagegate check)"))
}

/// Prints a release result and writes the Actions outputs and summary line.
pub fn report(ctx: &Ctx, verb: &str, tag: &str, version: &str, url: Option<&str>, extra: serde_json::Value) {
    actions::set_output("tag", tag);
    actions::set_output("version", version);
    if let Some(u) = url.filter(|u| !u.is_empty()) {
        actions::set_output("release-url", u);
    }
    let link = url.filter(|u| !u.is_empty()).map_or(String::new(), |u| format!(" — {u}"));
    actions::summary(&actions::inline(&format!("- stagegate: {verb} {tag}{link}")));
    if ctx.out.json() {
        let mut doc = json!({"tag": tag, "version": version});
        if let Some(u) = url {
            doc["release_url"] = json!(u);
        }
        if let (Some(d), Some(e)) = (doc.as_object_mut(), extra.as_object()) {
            d.extend(e.clone());
        }
        if ctx.dry_run {
            doc["dry_run"] = json!(true);
            doc["effects"] = json!(ctx.log.entries());
        }
        ctx.out.emit(&doc);
    } else if ctx.dry_run {
        for e in ctx.log.entries() {
            println!("would {e}");
        }
    } else {
        println!("{} {verb} {}{link}", ctx.out.good("✓"), ctx.out.bold(tag));
    }
}
