//! A promotion plan: whether `from → to` is allowed, why not, and the ordered
//! steps `promote` would run. Pure: built from the policy alone, no I/O.

use serde::Serialize;

pub use crate::step::{Act, Check, Hook, Mode, PlanStep, Recover, StepName, Teardown, When};

use crate::checks::{Evaluated, Outcome};
use crate::config::duration;
use crate::gates::freeze;
use crate::policy::{GitRef, Policy};
use crate::refusal::Refusal;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub allowed: bool,
    pub from: String,
    pub to: String,
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    pub release: Option<String>,
    pub approvals_required: u32,
    /// Approvals still missing for this run: a plan made before anyone
    /// approves is "allowed, pending N approvals".
    pub approvals_pending: u32,
    pub reasons: Vec<String>,
    /// The stable code of each reason (`stagegate::refused::path`, …), in order.
    pub codes: Vec<&'static str>,
    /// Every blocker, each with its code and message (the reasons above, as
    /// `promote` reports them).
    pub blockers: Vec<Refusal>,
    pub steps: Vec<Step>,
    /// When the target is closed (freeze or deploy windows): the next moment
    /// it is open; absent when open, or closed for as far as stagegate looks.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "crate::human::rfc3339_opt")]
    pub next_open: Option<DateTime<Utc>>,
    /// The same for people, on the target's wall clock (also when closed
    /// for as far as stagegate looks).
    #[serde(skip)]
    pub next_open_text: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub name: PlanStep,
    pub description: String,
    /// The hook command this step runs, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// `always`, or `on_failure` for the rollback steps.
    pub when: When,
}

impl Step {
    fn new(name: impl Into<PlanStep>, description: impl Into<String>) -> Step {
        let name = name.into();
        Step { name, description: description.into(), command: None, when: name.when() }
    }
    fn hook(name: Act, description: impl Into<String>, command: &Option<String>) -> Option<Step> {
        command.as_ref().map(|c| Step { command: Some(c.clone()), ..Step::new(name, description) })
    }
}

/// Builds the plan from what the registry said about each check
/// ([`crate::checks::evaluate`] for [`crate::checks::Surface::Plan`] or a
/// run's surface): its steps say each outcome, its blockers are the refusals.
/// Missing approvals (and a running wait timer) are pending, not refused: a
/// plan is made before anyone approves.
pub fn build(
    policy: &Policy,
    from: &str,
    to: &crate::config::Environment,
    release: Option<&str>,
    git_ref: Option<&GitRef>,
    evaluated: &[Evaluated],
    approvals_counted: u32,
) -> Plan {
    let release_text = release.map_or("the release".to_string(), |r| format!("release {r}"));
    let mut steps: Vec<Step> = Vec::new();
    let mut blockers = Vec::new();
    for e in evaluated {
        // A promotion's checks; `deploy` and `rollback` have their own.
        let Some(StepName::Check(check)) = e.rule.step() else { continue };
        if matches!(e.outcome, Outcome::NotApplicable { .. }) {
            continue;
        }
        let detail = match e.outcome.refusal() {
            // Pending: the step says what it waits for.
            Some(r) if pending(r) => match check {
                Check::WaitTimer => to
                    .approvals
                    .wait_timer
                    .map_or_else(String::new, |t| format!("wait {} after approval", duration::format(t))),
                _ => crate::checks::approvals::requirement(&to.approvals),
            },
            Some(r) => {
                blockers.push(r.clone());
                r.message().to_owned()
            }
            None => e.outcome.detail().to_owned(),
        };
        match steps.iter_mut().find(|s| s.name == PlanStep::Check(check)) {
            Some(step) => step.description = format!("{}; {detail}", step.description),
            None => steps.push(Step::new(check, detail)),
        }
    }
    let a = &to.approvals;
    steps.extend(act_steps(policy, to, &release_text));
    let mut plan = Plan {
        allowed: true,
        from: from.into(),
        to: to.name.clone(),
        git_ref: git_ref.map(|r| match r {
            GitRef::Branch(b) => format!("refs/heads/{b}"),
            GitRef::Tag(t) => format!("refs/tags/{t}"),
        }),
        release: release.map(str::to_owned),
        approvals_required: a.required,
        approvals_pending: a.required.saturating_sub(approvals_counted),
        reasons: Vec::new(),
        codes: Vec::new(),
        blockers: Vec::new(),
        steps,
        next_open: None,
        next_open_text: None,
    };
    for r in blockers {
        plan.refuse(r);
    }
    plan
}

/// A refusal a plan reports as pending: approvals not (all) given yet, or
/// the wait timer after them.
fn pending(r: &Refusal) -> bool {
    r.kind == crate::refusal::Kind::Approvals && !r.is_final
}

/// What a promotion does once it may run: back up, deploy, health checks,
/// verify, record, and the rollback on failure.
pub fn act_steps(policy: &Policy, target: &crate::config::Environment, release_text: &str) -> Vec<Step> {
    let to = &target.name;
    let cfg = policy.config;
    let mut steps = Vec::new();
    let s = &cfg.steps;
    steps.extend(Step::hook(Act::Backup, format!("back up {to}"), &s.backup));
    steps.push(match Step::hook(Act::Deploy, format!("deploy {release_text} to {to}"), &s.deploy) {
        Some(step) => step,
        None => {
            Step::new(Act::Deploy, format!("record {release_text} as deployed to {to} (no deploy hook configured)"))
        }
    });
    for (i, h) in target.health.iter().enumerate() {
        let timeout = duration::format(h.timeout.unwrap_or(s.health_check_timeout));
        steps.push(Step::new(
            Act::Health(i),
            format!(
                "GET {} expects {} (each try {timeout}, until {} after deploy)",
                h.http,
                h.expect,
                duration::format(s.startup_timeout)
            ),
        ));
    }
    steps.extend(Step::hook(Act::Verify, format!("verify {to}"), &s.verify));
    steps.push(Step::new(Act::Record, format!("record {release_text} in {to}: deployment, status, audit line")));
    let mut rollback = Step::new(PlanStep::Rollback, format!("restore {to} and redeploy its previous good release"));
    rollback.command = s.rollback.clone();
    steps.push(rollback);
    steps
}

impl Plan {
    /// Names the next open moment when a freeze or deploy window refused
    /// the plan.
    pub fn name_next_open(&mut self, target: &crate::config::Environment, now: DateTime<Utc>) {
        if !self.codes.contains(&crate::refusal::Kind::Frozen.code()) {
            return;
        }
        self.next_open = freeze::closed(target, now).filter(|p| !p.open_ended).map(|p| p.until);
        self.next_open_text = freeze::next_open_text(target, now);
    }

    /// Adds a reason the plan is refused.
    pub fn refuse(&mut self, r: Refusal) {
        self.allowed = false;
        self.codes.push(r.code());
        self.reasons.push(r.to_string());
        self.blockers.push(r);
    }

    /// "allowed", "allowed, pending 2 approvals", or "refused".
    pub fn verdict(&self) -> String {
        match (self.allowed, self.approvals_pending) {
            (false, _) => "refused".into(),
            (true, 0) => "allowed".into(),
            (true, 1) => "allowed, pending 1 approval".into(),
            (true, n) => format!("allowed, pending {n} approvals"),
        }
    }
}
