//! `stagegate release draft`: one draft release per tag, however often it runs.
//!
//! The releases-by-tag endpoint does not return drafts, so the lookup lists
//! *all* releases. If two runs still race and both create, the newer one
//! deletes its own and reports the older: the repository converges on one.

use super::{DateArgs, Done};
use crate::cli::Ctx;
use crate::error::{Error, Exit};
use crate::forge::NewRelease;
use crate::version;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Tag to draft a release for [default: the newest tag of the release scheme]
    #[arg(long)]
    tag: Option<String>,
    /// Commit or branch to create the tag from, if the tag does not exist yet
    #[arg(long)]
    target: Option<String>,
    #[command(flatten)]
    date: DateArgs,
}

fn fill(template: &str, tag: &str, version: &str) -> String {
    template.replace("{tag}", tag).replace("{version}", version)
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let forge = ctx.forge()?;
    let tag = match args.tag {
        Some(t) => {
            crate::error::check_release_id(&t)?;
            // Without --target there is nothing to create the tag from: a
            // release for a tag that does not exist would point nowhere.
            if args.target.is_none() && !forge.tags(&t).await?.iter().any(|x| x.name == t) {
                return Err(Error::invalid(
                    format!("there is no tag `{t}` to draft a release for"),
                    "create it with `stagegate release tag`, or pass --target COMMIT to create it with the release",
                ));
            }
            t
        }
        None => {
            let day = args.date.day();
            let prefix = version::search_prefix(&cfg.release, day);
            let tags: Vec<String> = forge.tags(&prefix).await?.into_iter().map(|t| t.name).collect();
            version::latest(&cfg.release, day, &tags).cloned().ok_or_else(|| {
                Error::invalid(
                    format!("no tag starting with `{prefix}` to draft a release for"),
                    "run `stagegate release tag` first, or pass --tag",
                )
            })?
        }
    };
    let version = tag.strip_prefix(cfg.release.tag_prefix.as_str()).unwrap_or(&tag).to_string();
    let existing = forge.releases().await?;
    if let Some(r) = existing.iter().filter(|r| r.tag == tag).min_by_key(|r| r.id) {
        ctx.out.print(&Done {
            release_url: Some(r.html_url.clone()),
            id: Some(r.id),
            draft: Some(r.draft),
            created: Some(false),
            ..Done::new(ctx, "found the existing release for", &tag, &version)
        });
        return Ok(Exit::Success);
    }
    let new = NewRelease {
        tag: tag.clone(),
        name: fill(cfg.release.name.as_deref().unwrap_or("{tag}"), &tag, &version),
        body: cfg.release.body.as_deref().map(|b| fill(b, &tag, &version)),
        draft: cfg.release.draft,
        generate_notes: cfg.release.generate_notes,
        target: args.target,
    };
    let mut created = forge.create_release(&new).await?;
    if !ctx.writes().is_dry_run() {
        let same: Vec<_> = forge.releases().await?.into_iter().filter(|r| r.tag == tag).collect();
        if let Some(first) = same.iter().min_by_key(|r| r.id)
            && first.id != created.id
        {
            tracing::warn!(
                "another run drafted {tag} at the same time; keeping release {} and removing ours",
                first.id
            );
            forge.delete_release(created.id).await?;
            created = first.clone();
        }
    }
    let verb = if created.draft { "drafted a release for" } else { "released" };
    ctx.out.print(&Done {
        release_url: Some(created.html_url.clone()),
        id: Some(created.id),
        draft: Some(created.draft),
        created: Some(true),
        ..Done::new(ctx, verb, &tag, &version)
    });
    Ok(Exit::Success)
}
