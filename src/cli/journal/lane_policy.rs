//! `journal promote` into a lane obeys the environment of the same name when
//! the config has one: its freeze windows, its ServiceNow change and its
//! approvals (N distinct allowed humans in the run), judged by the same gate
//! functions `promote` runs. A lane without such an environment has no policy
//! beyond the journal's own (the lane before imported the version).

use serde::Serialize;

use crate::cli::Ctx;
use crate::config::Environment;
use crate::error::Error;
use crate::gates::{freeze, servicenow, unblock};
use crate::plan::known;
use crate::policy::Policy;
use crate::refusal::Refusal;
use crate::run::preflight::gate_verdict;

/// What the promotion asks the environment's checks with.
pub struct Ask<'a> {
    pub run_id: &'a str,
    /// The actor and the triggering actor: their own reviews never count.
    pub actors: &'a [String],
    /// `--change CHG…`.
    pub change: Option<&'a str>,
    /// `--override-freeze --reason TEXT`.
    pub override_reason: Option<&'a str>,
}

/// One check that passed: `freeze`, `change`, `approvals`, and what it found.
#[derive(Debug, Clone, Serialize)]
pub struct Passed {
    pub check: &'static str,
    pub detail: String,
}

/// The environment's verdict on the promotion: every check asked, so one
/// blocker does not hide another.
#[derive(Debug, Default, Serialize)]
pub struct Verdict {
    /// The environment that was asked (`null`: the lane has none).
    pub environment: Option<String>,
    pub passed: Vec<Passed>,
    pub blockers: Vec<Refusal>,
}

/// Asks the environment named `lane`, if the config has one.
pub async fn check(ctx: &Ctx, policy: &Policy<'_>, lane: &str, ask: &Ask<'_>) -> Result<Verdict, Error> {
    let Some(env) = policy.env(lane) else { return Ok(Verdict::default()) };
    let mut v = Verdict { environment: Some(env.name.clone()), ..Verdict::default() };
    let mut settle = |check: &'static str, outcome: Result<String, Refusal>| match outcome {
        Ok(detail) => v.passed.push(Passed { check, detail }),
        Err(why) => v.blockers.push(why),
    };
    settle("freeze", frozen(env, ctx, ask));
    if env.change_required {
        let instance = policy.config.servicenow.as_ref().map(|s| s.instance.as_str());
        let state = match ask.change {
            None => Err(known::change_missing(&env.name)),
            Some(n) => servicenow::change_state(instance, n, ctx.now()).await?,
        };
        settle("change", state);
    }
    if env.approvals.required > 0 {
        settle("approvals", approvals(ctx, env, ask).await?);
    }
    Ok(v)
}

fn frozen(env: &Environment, ctx: &Ctx, ask: &Ask) -> Result<String, Refusal> {
    match freeze::decide(env, ctx.now(), ask.override_reason) {
        freeze::Decision::Clear => Ok(format!("{} is not frozen", env.name)),
        freeze::Decision::Overridden { window, reason } => Ok(format!("freeze `{window}` overridden: {reason}")),
        freeze::Decision::Refused(why) => Err(Refusal::Frozen(why)),
    }
}

async fn approvals(ctx: &Ctx, env: &Environment, ask: &Ask<'_>) -> Result<Result<String, Refusal>, Error> {
    let forge = ctx.forge()?;
    let deployments = forge.deployments(&env.name).await?;
    let v = gate_verdict(forge.as_ref(), env, ask.run_id, ask.actors, &deployments, ctx.now()).await?;
    if !v.passed {
        let how = unblock::approvals(env, ask.run_id, forge.kind());
        return Ok(Err(Refusal::Approvals(format!("{}; {how}", v.reasons.join("; ")))));
    }
    let who: Vec<String> = v.reviews.iter().filter(|r| r.counted).map(|r| format!("{} ({})", r.user, r.why)).collect();
    Ok(Ok(format!("{}/{} approved: {}", v.counted, v.required, who.join(", "))))
}
