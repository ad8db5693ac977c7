//! `stagegate promote --from A --to B --release ID`: run a promotion.

use super::{Ctx, FreezeOverride, Who, known_env};
use crate::error::{Error, Exit, check_release_id};
use crate::policy::Policy;
use crate::run::{check_hook_safe, promote, report};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source environment (where the release runs now)
    #[arg(long)]
    from: String,
    /// Target environment
    #[arg(long)]
    to: String,
    /// Release to promote (tag or version)
    #[arg(long)]
    release: String,
    /// ServiceNow change request approving this promotion (targets with `change: required`)
    #[arg(long, value_name = "CHG")]
    change: Option<String>,
    #[command(flatten)]
    who: Who,
    #[command(flatten)]
    freeze: FreezeOverride,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    known_env(&policy, &args.from)?;
    known_env(&policy, &args.to)?;
    check_release_id(&args.release)?;
    check_hook_safe("release id", &args.release)?;
    let req = promote::Request {
        from: args.from,
        to: args.to,
        release: args.release,
        actor: args.who.actor()?,
        actors: args.who.actors()?,
        run_id: args.who.run_id.clone(),
        override_reason: args.freeze.reason()?,
        change: args.change,
    };
    let mut runner = ctx.runner(&cfg)?;
    let report = promote::promote(&mut runner, &policy, &req).await?;
    report::finish(&runner, report, &ctx.log)
}
