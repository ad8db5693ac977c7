//! `stagegate approve --env E --as USER`: record a review on the local forge.

use serde_json::json;

use super::{Ctx, known_env};
use crate::config::Reviewer;
use crate::error::{Error, Exit, InputError};
use crate::forge::{Approval, ApprovalState, ForgeError, ForgeKind, UserType};
use crate::policy::Policy;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Environment (or approval environment) being reviewed
    #[arg(long)]
    env: String,
    /// Reviewer login
    #[arg(long = "as", value_name = "USER")]
    user: String,
    /// Record a rejection instead of an approval
    #[arg(long)]
    reject: bool,
    /// Workflow run the review belongs to
    #[arg(long, env = "GITHUB_RUN_ID", default_value = "local")]
    run_id: String,
    /// Review comment
    #[arg(long)]
    comment: Option<String>,
}

/// A review of an approval environment counts for the environment it belongs to.
fn base_env<'a>(policy: &Policy<'a>, name: &'a str) -> &'a str {
    crate::policy::environments::approval_base(policy.config, name).unwrap_or(name)
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    if ctx.forge_kind != ForgeKind::Local {
        return Err(ForgeError::LocalOnly {
            what: "`approve`".into(),
            help: "on GitHub, reviewers approve the deployment in the Actions UI; `stagegate gate` then checks them"
                .into(),
        }
        .into());
    }
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    let env = known_env(&policy, base_env(&policy, &args.env))?;
    crate::run::check_hook_safe("run id", &args.run_id)?;
    if let Some(c) = &args.comment {
        crate::error::check_text("--comment", c)?;
    }
    let user = args.user.trim_start_matches('@').to_string();
    if Reviewer::parse(&user).is_none_or(|r| !matches!(r, Reviewer::User(_))) && !user.ends_with("[bot]") {
        return Err(InputError::Invalid {
            message: format!("`{}` is not a GitHub login", args.user.escape_debug()),
            help: Some("a login is letters, digits and `-`, e.g. --as alice".into()),
        }
        .into());
    }
    let approval = Approval {
        run_id: args.run_id.clone(),
        environment: args.env.clone(),
        user_type: if user.ends_with("[bot]") { UserType::Bot } else { UserType::User },
        user: user.clone(),
        state: if args.reject { ApprovalState::Rejected } else { ApprovalState::Approved },
        comment: args.comment,
        at: ctx.now(),
    };
    let forge = ctx.forge()?;
    forge.record_approval(&approval).await?;

    let listed = env.approvals.reviewers.iter().any(|r| matches!(r, Reviewer::User(u) if u == &user));
    let has_team = env.approvals.reviewers.iter().any(|r| matches!(r, Reviewer::Team { .. }));
    let note = (!listed && !has_team)
        .then(|| format!("{user} is not a listed reviewer of {}: the gate will not count it", env.name));
    if ctx.out.json() {
        ctx.out.emit(&json!({
            "recorded": !ctx.dry_run,
            "dry_run": ctx.dry_run,
            "approval": approval,
            "effects": ctx.log.entries(),
            "note": note,
        }));
    } else if ctx.dry_run {
        for e in ctx.log.entries() {
            println!("would {e}");
        }
    } else {
        let verb = if args.reject { ctx.out.bad("rejected") } else { ctx.out.good("approved") };
        println!("{user} {verb} {} in run {} ({})", args.env, args.run_id, forge.describe());
    }
    if let Some(n) = note {
        eprintln!("{} {n}", ctx.out.warn("note:"));
    }
    Ok(Exit::Success)
}
