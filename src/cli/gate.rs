//! `stagegate gate --env E [--run-id N]`: do this run's approvals satisfy E?

use super::{Ctx, Who, known_env};
use crate::actions;
use crate::error::{Error, Exit};
use crate::gates;
use crate::policy::Policy;
use crate::run::preflight::gate_verdict;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Environment whose approval policy applies
    #[arg(long)]
    env: String,
    #[command(flatten)]
    who: Who,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    let env = known_env(&policy, &args.env)?;
    let forge = ctx.forge()?;
    let deployments = forge.deployments(&env.name).await?;
    let actors = args.who.actors()?;
    let v = gate_verdict(forge.as_ref(), env, &args.who.run_id, &actors, &deployments, ctx.now()).await?;
    actions::set_output("approved", if v.passed { "true" } else { "false" });
    actions::summary(&gates::markdown(&v));
    if ctx.out.json() {
        ctx.out.emit(&v);
    } else {
        let o = &ctx.out;
        let head = format!("{} ({}/{} distinct approvals, run {})", env.name, v.counted, v.required, args.who.run_id);
        if v.passed {
            println!("{} gate passed: {head}", o.good("✓"));
        } else {
            println!("{} gate not passed: {head}", o.bad("✗"));
        }
        for r in &v.reasons {
            println!("  - {r}");
        }
        if let Some(open) = v.opens_at.filter(|_| v.passed) {
            println!("  the wait timer opened at {}", open.format("%Y-%m-%d %H:%M:%S UTC"));
        }
        println!();
        println!("{}", gates::render(o, &v));
    }
    Ok(if v.passed { Exit::Success } else { Exit::Refused })
}
