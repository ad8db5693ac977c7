//! `stagegate release publish ID|TAG`: draft → published, marked latest.
//! Publishing an already published release is a no-op, so reruns are safe.

use super::Done;
use crate::cli::Ctx;
use crate::error::{Error, Exit};
use crate::forge::ForgeError;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Release id or tag
    release: String,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let forge = ctx.forge()?;
    crate::error::check_release_id(&args.release)?;
    let all = forge.releases().await?;
    let Some(release) = super::find(&all, &args.release) else {
        return Err(ForgeError::NotFound {
            what: format!("a release `{}`", args.release),
            help: "give a release id or its tag; `stagegate release draft --tag TAG` creates one".into(),
        }
        .into());
    };
    let was_draft = release.draft;
    let published = forge.publish_release(release.id).await?;
    let version = published.tag.strip_prefix(cfg.release.tag_prefix.as_str()).unwrap_or(&published.tag).to_string();
    let verb = if was_draft { "published" } else { "already published" };
    ctx.out.print(&Done {
        release_url: Some(published.html_url.clone()),
        id: Some(published.id),
        draft: Some(published.draft),
        ..Done::new(ctx, verb, &published.tag, &version)
    });
    Ok(Exit::Success)
}
