//! `journal promote` into a lane obeys the environment of the same name when
//! the config has one: the adapter gathers the facts (the clock, `--change`
//! looked up in ServiceNow, the run's approvals as the gate counts them) and
//! asks the check registry for `Surface::JournalPromote` — freeze windows,
//! the change, approvals and the wait timer, the same rules `promote` asks.
//! A lane without such an environment has no policy beyond the journal's own
//! (the lane before imported the version).

use serde::Serialize;

use crate::checks::{self, ApprovalsFact, ChangeFact, Facts, Outcome, Surface};
use crate::cli::Ctx;
use crate::config::Purpose;
use crate::error::Error;
use crate::gates::{servicenow, unblock};
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

/// Asks the registry about the environment named `lane`, if the config has one.
pub async fn check(ctx: &Ctx, policy: &Policy<'_>, lane: &str, ask: &Ask<'_>) -> Result<Verdict, Error> {
    let Some(env) = policy.env(lane) else { return Ok(Verdict::default()) };
    let now = ctx.now();
    let mut facts = Facts::new(policy, env, now);
    facts.override_reason = ask.override_reason;
    if let Some(n) = ask.change.filter(|_| env.change_required) {
        let instance = policy.config.servicenow.as_ref().map(|s| s.instance.as_str());
        facts.change =
            ChangeFact::Checked(servicenow::change_state(instance, n, now, policy.config.change_match(env)).await?);
    }
    let forge = ctx.forge()?;
    let deployments = forge.deployments(&env.name).await?;
    let counted = match env.approvals.required {
        0 => None,
        _ => Some(
            gate_verdict(forge.as_ref(), env, ask.run_id, ask.actors, &deployments, now, Purpose::Promotion).await?,
        ),
    };
    facts.to_deployments = &deployments;
    let hold = crate::forge::hold::current(forge.as_ref(), &env.name, now).await?;
    facts.hold = hold.as_ref();
    facts.approvals = counted
        .as_ref()
        .map(|verdict| ApprovalsFact { verdict, unblock: unblock::approvals(env, ask.run_id, forge.kind()) });
    let evaluated = checks::evaluate(Surface::JournalPromote, &facts);
    let passed = evaluated
        .iter()
        .filter(|e| matches!(e.outcome, Outcome::Pass { .. } | Outcome::Caution { .. }))
        .map(|e| Passed { check: e.rule.name(), detail: e.outcome.detail().to_owned() })
        .collect();
    Ok(Verdict { environment: Some(env.name.clone()), passed, blockers: checks::blockers(&evaluated) })
}
