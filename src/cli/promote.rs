//! `stagegate promote --from A --to B --release ID`: run a promotion.

use super::{Ctx, FreezeOverride, Who, known_env};
use crate::config::Config;
use crate::error::{Error, Exit, check_release_id};
use crate::policy::Policy;
use crate::run::report::{self, Report};
use crate::run::waiting::Waiter;
use crate::run::{Runner, check_hook_safe, promote};

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
    #[command(flatten)]
    wait: WaitFor,
}

/// `--wait DURATION`, for promote, deploy and rollback.
#[derive(Debug, clap::Args)]
pub struct WaitFor {
    /// While another run holds the target environment (or a hook of a run
    /// that died still runs), wait up to DURATION (at most 6h) instead of
    /// being refused, then run with every check made afresh
    #[arg(long, value_name = "DURATION", value_parser = super::values::wait_duration)]
    pub wait: Option<std::time::Duration>,
}

impl WaitFor {
    pub fn waiter(&self, ctx: &Ctx, env: &str) -> Waiter {
        Waiter::new(&ctx.state, env, self.wait, &ctx.writes(), crate::run::hooks::Sink::beside(ctx.out))
    }

    /// Runs `attempt` on a fresh runner, again while `--wait` says the
    /// environment is busy (every check made afresh), and reports the last one.
    pub async fn attempts(
        &self,
        ctx: &Ctx,
        cfg: &Config,
        env: &str,
        mut attempt: impl AsyncFnMut(&mut Runner<'_>) -> Result<Report, crate::run::RunError>,
    ) -> Result<Exit, Error> {
        let mut waiter = self.waiter(ctx, env);
        loop {
            waiter.until_free().await;
            let mut runner = ctx.runner(cfg)?;
            let report = attempt(&mut runner).await?;
            if !waiter.again(&report).await {
                return Ok(report::finish(&runner, report)?);
            }
        }
    }
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    let envs = (known_env(&policy, &args.from)?, known_env(&policy, &args.to)?);
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
    args.wait.attempts(ctx, &cfg, &req.to, async |r| promote::promote(r, &policy, envs, &req).await).await
}
