//! The pre-flight checks that can be answered from the deployment history,
//! the clock and the config alone — so before anyone approves. `promote` runs
//! them as its steps, `plan` runs them ahead of the approval jobs: one answer
//! in both places. Pure: no I/O.

use chrono::{DateTime, Utc};

use crate::forge::Deployment;
use crate::forge::history;
use crate::gates::soak;
use crate::policy::{GitRef, Policy, RefVerdict};
use crate::refusal::Refusal;

/// `Ok(detail)` when the check passes, the refusal when not.
pub type Outcome = Result<String, Refusal>;

/// The release is known in `from`: its newest deployment there, or why not.
pub fn source_release<'d>(from: &str, release: &str, deps: &'d [Deployment]) -> Result<&'d Deployment, Refusal> {
    history::of_release(deps, release).ok_or_else(|| {
        Refusal::UnknownRelease(format!(
            "release {release} is unknown in {from}: it was never deployed there (deploy or promote it to {from} first)"
        ))
    })
}

/// The ref recorded for the release parses and may deploy to `to`.
pub fn release_ref(policy: &Policy, to: &str, release: &str, source: &Deployment) -> Outcome {
    let git_ref = match source.request.git_ref.as_deref().map(GitRef::parse) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            return Err(Refusal::Ref(format!("the git ref recorded for release {release} is refused: {e}")));
        }
        None => return Err(Refusal::Ref(format!("the git ref of release {release} is not recorded"))),
    };
    ref_may_deploy(policy, to, &git_ref)
}

/// `git_ref` matches `to`'s branch rules.
pub fn ref_may_deploy(policy: &Policy, to: &str, git_ref: &GitRef) -> Outcome {
    match policy.ref_verdict(to, git_ref) {
        RefVerdict::Allowed(p) => Ok(format!("{git_ref} may deploy to {to} (matches `{p}`)")),
        RefVerdict::Refused(why) => Err(Refusal::Ref(why)),
    }
}

/// `from` runs `release` now, successfully.
pub fn source_current(from: &str, release: &str, deps: &[Deployment]) -> Outcome {
    match history::current(deps) {
        Some(d) if d.request.release == release => Ok(format!("{release} is live in {from}")),
        Some(d) => Err(Refusal::NotCurrent(format!(
            "{from} runs {} now, not {release}: promote what {from} runs",
            d.request.release
        ))),
        None => Err(Refusal::NotCurrent(format!("nothing is deployed successfully in {from}"))),
    }
}

/// The release has run in `from` for the target's soak time. `None` when
/// the question does not arise (no soak, or `from` does not run the release:
/// [`source_current`] says so).
pub fn soaked(
    policy: &Policy,
    from: &str,
    to: &str,
    release: &str,
    deps: &[Deployment],
    now: DateTime<Utc>,
) -> Option<Outcome> {
    let soak = policy.env(to)?.soak?;
    let current = history::current(deps).filter(|d| d.request.release == release)?;
    Some(soak::check(current, from, soak, now))
}

/// No deployment to `to` is pending or in progress.
pub fn target_idle(to: &str, deps: &[Deployment]) -> Outcome {
    match history::running(deps).next() {
        Some(d) => Err(Refusal::Busy(format!(
            "deployment {} of {} to {to} is still {} (started {} by {})",
            d.id,
            d.request.release,
            d.state(),
            d.request.at.format("%Y-%m-%d %H:%M:%S UTC"),
            d.request.creator
        ))),
        None => Ok(format!("no other deployment to {to} is in progress")),
    }
}

/// A target with `change: required` and no `--change`.
pub fn change_missing(to: &str) -> Refusal {
    Refusal::Change(format!("{to} requires an approved ServiceNow change: pass --change CHG…"))
}
