//! `stagegate release next`: the next tag and version; writes nothing.

use super::{DateArgs, next_version};
use crate::actions;
use crate::cli::Ctx;
use crate::error::{Error, Exit};
use crate::version::not_semver;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    date: DateArgs,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let forge = ctx.forge()?;
    let next = next_version(&cfg, forge.as_ref(), &args.date).await?;
    actions::set_output("tag", &next.tag);
    actions::set_output("version", &next.version);
    if ctx.out.json() {
        ctx.out.emit(&next);
    } else {
        println!("{}", next.tag);
        if not_semver(&next.version) {
            eprintln!(
                "{} {} is zero-padded calver, not valid semver: tools that require semver (cargo, npm) will refuse it",
                ctx.out.warn("note:"),
                next.version
            );
        }
    }
    Ok(Exit::Success)
}
