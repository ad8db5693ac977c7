//! `stagegate destroy --env T --ref BRANCH` and `stagegate prune --env T
//! --older-than D`: tear down ephemeral instances (see `run::destroy`).

use std::time::Duration;

use super::{Ctx, Who, resolve_env};
use crate::config::Resolved;
use crate::error::{Error, Exit, InputError};
use crate::policy::{GitRef, Policy};
use crate::run::destroy::{self, DestroyRequest};
use crate::run::report;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The ephemeral environment (template) the branch's instance belongs to
    #[arg(long)]
    env: String,
    /// The branch whose instance goes, e.g. `feature/login` [default: $GITHUB_REF]
    #[arg(long = "ref", env = "GITHUB_REF", value_name = "REF")]
    git_ref: String,
    /// Why, for the audit trail
    #[arg(long, value_name = "TEXT", default_value = "destroyed by hand")]
    reason: String,
    #[command(flatten)]
    who: Who,
}

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// The ephemeral environment (template) whose instances are pruned
    #[arg(long)]
    env: String,
    /// Destroy the instances with no deployment in this long, e.g. `14d`
    #[arg(long, value_name = "DURATION", value_parser = super::values::duration)]
    older_than: Duration,
    #[command(flatten)]
    who: Who,
}

/// The template `name` names, or why it is not one (exit 2).
fn template<'p>(policy: &'p Policy, name: &'p str) -> Result<&'p crate::config::Environment, Error> {
    match resolve_env(policy, name)? {
        Resolved::Declared(t) if t.is_template() => Ok(t),
        r => Err(Error::invalid(
            format!("`{name}` is not an ephemeral environment: it has no instances to destroy"),
            match r.template() {
                Some(t) => format!("name its template and the branch: --env {} --ref {name}", t.name),
                None => "destroy and prune take an environment with `ephemeral: true`".to_string(),
            },
        )),
    }
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    let t = template(&policy, &args.env)?;
    crate::error::check_text("--reason", &args.reason)?;
    let git_ref = GitRef::parse(&args.git_ref).map_err(InputError::BadRef)?;
    let instance = match cfg.resolve_for_ref(&args.env, &git_ref).map_err(InputError::from)? {
        Resolved::Instance { branch, .. } => branch.to_owned(),
        // The cleanup workflow runs for every deleted branch: one the
        // template does not match has nothing to destroy.
        _ => {
            ctx.out.note(&format!(
                "{git_ref} has no instance of {} (its branches are {}): nothing to destroy",
                t.name,
                patterns(t)
            ));
            return Ok(Exit::Success);
        }
    };
    let req = DestroyRequest {
        instance,
        actor: args.who.actor()?,
        run_id: args.who.run_id.clone(),
        reason: args.reason.trim().to_owned(),
    };
    let mut runner = ctx.runner(&cfg)?;
    let report = destroy::destroy(&mut runner, &req).await?;
    Ok(report::finish(&runner, report)?)
}

fn patterns(t: &crate::config::Environment) -> String {
    t.branches.iter().map(|p| p.as_str().to_owned()).collect::<Vec<_>>().join(", ")
}

/// Destroys each instance of the template whose newest deployment is older
/// than `--older-than` (one report and audit line each); exit 1 if any failed.
pub async fn prune(ctx: &Ctx, args: PruneArgs) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    let t = template(&policy, &args.env)?;
    let forge = ctx.forge()?;
    let now = ctx.now();
    let cutoff = now - chrono::Duration::from_std(args.older_than).unwrap_or(chrono::Duration::MAX);
    let mut exit = Exit::Success;
    let mut pruned = 0;
    for instance in crate::forge::instances::of(forge.as_ref(), &cfg, &t.name).await? {
        if destroy::last_deployed(&instance.deployments).is_some_and(|at| at > cutoff) {
            continue;
        }
        // Destroyed already: nothing stands, and no environment is left on the forge.
        if !instance.standing() && forge.environment(&instance.name).await?.is_none() {
            continue;
        }
        let reason = format!("pruned: no deployment in {}", crate::config::duration::format(args.older_than));
        let req = DestroyRequest {
            instance: instance.name,
            actor: args.who.actor()?,
            run_id: args.who.run_id.clone(),
            reason,
        };
        let mut runner = ctx.runner(&cfg)?;
        let report = destroy::destroy(&mut runner, &req).await?;
        pruned += 1;
        if report::finish(&runner, report)? != Exit::Success {
            exit = Exit::Failed;
        }
    }
    if pruned == 0 {
        ctx.out.note(&format!(
            "no instance of {} is older than {}",
            t.name,
            crate::config::duration::format(args.older_than)
        ));
    }
    Ok(exit)
}
