//! `stagegate gate --env E [--run-id N]`: do this run's approvals satisfy E?

use super::{Ctx, Who, known_env};
use serde::Serialize;

use crate::checks::{self, ApprovalsFact, Facts, Surface};
use crate::config::Purpose;
use crate::error::{Error, Exit};
use crate::gates;
use crate::gates::approvals::Verdict;
use crate::output::{Out, Output, Render, output};
use crate::policy::Policy;
use crate::refusal::Refusal;
use crate::run::preflight::gate_verdict;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Environment whose approval policy applies
    #[arg(long)]
    env: String,
    /// Judge the run as a rollback: the environment's `rollback` policy
    /// (fewer approvals, no wait timer) instead of what promoting asks
    #[arg(long)]
    rollback: bool,
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
    let purpose = if args.rollback { Purpose::Rollback } else { Purpose::Promotion };
    let v = gate_verdict(forge.as_ref(), env, &args.who.run_id, &actors, &deployments, ctx.now(), purpose).await?;
    let unblock = crate::gates::unblock::approvals(env, &args.who.run_id, forge.kind());
    let hold = crate::forge::hold::current(forge.as_ref(), &env.name, ctx.now()).await?;
    let facts = Facts {
        hold: hold.as_ref(),
        to_deployments: &deployments,
        approvals: Some(ApprovalsFact { verdict: &v, unblock }),
        purpose,
        ..Facts::new(&policy, env, ctx.now())
    };
    let blockers = checks::blockers(&checks::evaluate(Surface::Gate, &facts));
    let refused = !blockers.is_empty();
    ctx.out.print(&GateAnswer { verdict: v, blockers, run_id: args.who.run_id.clone() });
    Ok(if refused { Exit::Refused } else { Exit::Success })
}

/// The gate's verdict for one run.
#[derive(Debug, Serialize)]
struct GateAnswer {
    #[serde(flatten)]
    verdict: Verdict,
    /// What refuses the run, each with its code (as `promote` says it).
    blockers: Vec<Refusal>,
    #[serde(skip)]
    run_id: String,
}

impl Render for GateAnswer {
    fn text(&self, o: &Out) -> String {
        let v = &self.verdict;
        let head = format!("{} ({}/{} distinct approvals, run {})", v.env, v.counted, v.required, self.run_id);
        let mut t = if v.passed {
            format!("{} gate passed: {head}\n", o.good("✓"))
        } else {
            format!("{} gate not passed: {head}\n", o.bad("✗"))
        };
        for r in &v.reasons {
            t.push_str(&format!("  - {r}\n"));
        }
        if let Some(open) = v.opens_at.filter(|_| v.passed) {
            t.push_str(&format!("  the wait timer opened at {}\n", open.format("%Y-%m-%d %H:%M:%S UTC")));
        }
        format!("{t}\n{}", gates::render(o, v))
    }

    fn summary(&self) -> Option<String> {
        Some(gates::markdown(&self.verdict))
    }

    fn outputs(&self) -> Vec<Output> {
        vec![output("approved", if self.verdict.passed { "true" } else { "false" })]
    }
}
