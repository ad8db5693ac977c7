//! `stagegate rollback --env E [--to ID]`: redeploy an earlier good release.

use super::{Ctx, Who, resolve_env};
use crate::error::{Error, Exit, check_release_id, check_text};
use crate::policy::Policy;
use crate::run::{check_hook_safe, direct};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Environment to roll back
    #[arg(long)]
    env: String,
    /// Release to return to [default: the previous successful one]
    #[arg(long, value_name = "ID")]
    to: Option<String>,
    /// Why (recorded in the deployment record, the audit trail and `history`)
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
    #[command(flatten)]
    who: Who,
    #[command(flatten)]
    wait: super::promote::WaitFor,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    // An instance rolls back under its template's rules.
    let target = resolve_env(&policy, &args.env)?;
    let (env, name) = (target.rules(), target.name());
    if let Some(id) = &args.to {
        check_release_id(id)?;
        check_hook_safe("release id", id)?;
    }
    let reason = match args.reason.as_deref().map(str::trim) {
        Some("") => {
            return Err(Error::invalid(
                "--reason is empty",
                "say why in a few words, e.g. --reason \"INC-4711: checkout errors\"",
            ));
        }
        Some(r) => {
            check_text("--reason", r)?;
            Some(r.to_owned())
        }
        None => None,
    };
    let req = direct::RollbackRequest {
        env: name,
        to: args.to,
        actor: args.who.actor()?,
        actors: args.who.actors()?,
        run_id: args.who.run_id.clone(),
        reason,
    };
    args.wait.attempts(ctx, &cfg, &req.env, async |r| direct::rollback(r, &policy, env, &req).await).await
}
