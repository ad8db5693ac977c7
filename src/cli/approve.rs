//! `stagegate approve --env E --as USER`: record a review on the local forge.

use serde::Serialize;

use super::{Ctx, Who, known_env};
use crate::config::{Environment, Reviewer};
use crate::effects::Done;
use crate::error::{Error, Exit, InputError};
use crate::forge::{Approval, ApprovalState, Forge, ForgeError, ForgeKind, UserType};
use crate::gates::approvals;
use crate::output::{Annotation, Level, Out, Render};
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
    /// The run the review belongs to, and who runs it (their own review
    /// never counts where self-review is prevented)
    #[command(flatten)]
    who: Who,
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
    let actors = args.who.actors()?;
    let run_id = args.who.run_id.clone();
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
        run_id: run_id.clone(),
        environment: args.env.clone(),
        user_type: if user.ends_with("[bot]") { UserType::Bot } else { UserType::User },
        user: user.clone(),
        state: if args.reject { ApprovalState::Rejected } else { ApprovalState::Approved },
        comment: args.comment,
        at: ctx.now(),
    };
    let forge = ctx.forge()?;
    forge.record_approval(&approval).await?;

    let warnings =
        if args.reject { Vec::new() } else { never_counts(ctx, forge.as_ref(), env, &approval, &actors).await? };
    let done = ctx.done();
    ctx.out.print(&Approved {
        recorded: !done.is_described(),
        done,
        approval: &approval,
        warnings,
        forge: forge.describe(),
    });
    Ok(Exit::Success)
}

/// The review as recorded (or, with `--dry-run`, as it would be), and why
/// the gate will never count it, if it will not.
#[derive(Serialize)]
struct Approved<'a> {
    recorded: bool,
    approval: &'a Approval,
    #[serde(flatten)]
    done: Done,
    warnings: Vec<String>,
    #[serde(skip)]
    forge: String,
}

impl Render for Approved<'_> {
    fn text(&self, o: &Out) -> String {
        if let Some(would) = self.done.would() {
            return would;
        }
        let a = self.approval;
        let verb = match a.state {
            ApprovalState::Rejected => o.bad("rejected"),
            ApprovalState::Approved => o.good("approved"),
        };
        format!("{} {verb} {} in run {} ({})", a.user, a.environment, a.run_id, self.forge)
    }

    fn annotations(&self) -> Vec<Annotation> {
        let title = "stagegate approve: this review will not count";
        self.warnings
            .iter()
            .map(|w| Annotation { level: Level::Warning, title: title.into(), message: w.clone() })
            .collect()
    }
}

/// Why the gate will never count this approval, if it will not: the
/// environment needs no approvals, or the gate's own verdict on the review
/// (not a reviewer, a bot, the run's actor, counted already, …).
async fn never_counts(
    ctx: &Ctx,
    forge: &dyn Forge,
    env: &Environment,
    approval: &Approval,
    actors: &[String],
) -> Result<Vec<String>, Error> {
    if env.approvals.required == 0 {
        return Ok(vec![format!("{} needs no approvals: the gate counts no review of it", env.name)]);
    }
    let deployments = forge.deployments(&env.name).await?;
    let mine = |a: &Approval| a.user == approval.user && a.environment == approval.environment && a.at == approval.at;
    let mut reviews = approvals::unused(forge.approvals(&approval.run_id).await?, &deployments, &approval.run_id);
    if !reviews.iter().any(mine) {
        // --dry-run: recorded nowhere, judged all the same.
        reviews.push(approval.clone());
    }
    let teams = crate::run::preflight::reviewer_teams(forge, env).await?;
    let verdict = approvals::evaluate(&approvals::Input {
        env: &env.name,
        policy: &env.approvals,
        approvals: &reviews,
        actors,
        teams: &teams,
        now: ctx.now(),
    });
    let row = verdict.reviews.iter().rev().find(|r| r.user == approval.user && r.environment == approval.environment);
    Ok(row.filter(|r| !r.counted).map(|r| format!("{} will not count: {}", r.user, r.why)).into_iter().collect())
}
