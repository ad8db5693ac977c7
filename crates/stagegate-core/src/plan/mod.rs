//! A promotion plan: whether `from → to` is allowed, why not, and the ordered
//! steps `promote` would run. Pure: built from the policy alone, no I/O.

use serde::Serialize;

use chrono::{DateTime, Utc};

pub mod known;
pub mod step;

pub use step::{Act, Check, Hook, Mode, PlanStep, Recover, StepName, When};

use crate::config::duration;
use crate::gates::freeze;
use crate::policy::{GitRef, Policy, RefVerdict};
use crate::refusal::Refusal;

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

/// Builds the plan. `from` and `to` must be known environments (the caller
/// reports unknown ones as invalid input, exit 2).
pub fn build(policy: &Policy, from: &str, to: &str, release: Option<&str>, git_ref: Option<&GitRef>) -> Plan {
    let target = policy.env(to).expect("caller checked the environment exists");
    let mut refusals = Vec::new();
    let path_step = match policy.edge_refusal(from, to) {
        Some(why) => {
            refusals.push(Refusal::Path(why.clone()));
            Step::new(Check::Path, why)
        }
        None => Step::new(Check::Path, format!("{from} → {to} is an allowed promotion")),
    };
    let ref_step = match git_ref {
        Some(r) => match policy.ref_verdict(to, r) {
            RefVerdict::Allowed(p) => Step::new(Check::Ref, format!("{r} may deploy to {to} (matches `{p}`)")),
            RefVerdict::Refused(why) => {
                refusals.push(Refusal::Ref(why.clone()));
                Step::new(Check::Ref, why)
            }
        },
        None => {
            Step::new(Check::Ref, format!("the release's ref must match {to}'s branch rules (checked when it runs)"))
        }
    };
    let release_text = release.map_or("the release".to_string(), |r| format!("release {r}"));

    let mut steps = vec![
        path_step,
        ref_step,
        Step::new(Check::Source, format!("{release_text} is deployed and healthy in {from}")),
        Step::new(Check::Target, format!("no other deployment to {to} is in progress")),
    ];
    if !target.freeze.is_empty() || !target.deploy_windows.is_empty() {
        let list = |ws: Vec<String>| ws.join("; ");
        let mut what = Vec::new();
        if !target.freeze.is_empty() {
            what.push(format!(
                "not inside a freeze window ({})",
                list(target.freeze.iter().map(ToString::to_string).collect())
            ));
        }
        if !target.deploy_windows.is_empty() {
            what.push(format!(
                "inside its deploy windows ({})",
                list(target.deploy_windows.iter().map(ToString::to_string).collect())
            ));
        }
        steps.push(Step::new(Check::Freeze, format!("{to} is {}", what.join(" and "))));
    }
    if let Some(soak) = target.soak {
        steps.push(Step::new(
            Check::Soak,
            format!("{release_text} has been healthy in {from} for at least {}", duration::format(soak)),
        ));
    }
    if target.change_required {
        steps.push(Step::new(
            Check::Change,
            format!("an approved ServiceNow change for {to}, inside its window (--change)"),
        ));
    }
    let a = &target.approvals;
    steps.extend(approval_steps(a));
    steps.extend(act_steps(policy, to, &release_text));

    let mut plan = Plan {
        allowed: true,
        from: from.into(),
        to: to.into(),
        git_ref: git_ref.map(|r| match r {
            GitRef::Branch(b) => format!("refs/heads/{b}"),
            GitRef::Tag(t) => format!("refs/tags/{t}"),
        }),
        release: release.map(str::to_owned),
        approvals_required: a.required,
        approvals_pending: a.required,
        reasons: Vec::new(),
        codes: Vec::new(),
        blockers: Vec::new(),
        steps,
        next_open: None,
        next_open_text: None,
    };
    for r in refusals {
        plan.refuse(r);
    }
    plan
}

/// The approval gate and the wait timer, when the target has them.
fn approval_steps(a: &crate::config::Approvals) -> Vec<Step> {
    let mut steps = Vec::new();
    if a.required > 0 {
        let who: Vec<String> = a.reviewers.iter().map(ToString::to_string).collect();
        let mut d = format!("{} distinct approval(s) from {}", a.required, who.join(", "));
        if a.prevent_self_review {
            d.push_str("; not the actor, not bots");
        }
        steps.push(Step::new(Check::Gate, d));
    }
    if let Some(t) = a.wait_timer {
        steps.push(Step::new(Check::WaitTimer, format!("wait {} after approval", duration::format(t))));
    }
    steps
}

/// What a promotion does once it may run: back up, deploy, health checks,
/// verify, record, and the rollback on failure.
fn act_steps(policy: &Policy, to: &str, release_text: &str) -> Vec<Step> {
    let target = policy.env(to).expect("caller checked the environment exists");
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
    /// Adds a reason the plan is refused.
    pub fn refuse(&mut self, r: Refusal) {
        self.allowed = false;
        self.codes.push(r.code());
        self.reasons.push(r.to_string());
        self.blockers.push(r);
    }

    /// Settles check `name` with what is known now: its step says the
    /// outcome, a refusal becomes a blocker. A check the plan has no step for
    /// (the release's ref, when the ref was not given) updates that step.
    pub fn settle(&mut self, name: Check, outcome: known::Outcome) {
        let text = match outcome {
            Ok(detail) => detail,
            Err(r) => {
                let why = r.message().to_owned();
                self.refuse(r);
                why
            }
        };
        if let Some(step) = self.steps.iter_mut().find(|s| s.name == PlanStep::Check(name)) {
            step.description = text;
        }
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

    /// Refuses the plan when `now` falls inside one of the target's freeze
    /// windows, saying when it ends — unless overridden where allowed.
    pub fn check_freeze(&mut self, policy: &Policy, now: DateTime<Utc>, override_reason: Option<&str>) {
        let Some(target) = policy.env(&self.to) else { return };
        let text = match freeze::decide(target, now, override_reason) {
            freeze::Decision::Clear => return,
            freeze::Decision::Overridden { window, reason } => format!("freeze `{window}` overridden: {reason}"),
            freeze::Decision::Refused(why) => {
                self.refuse(Refusal::Frozen(why.clone()));
                let closed = freeze::closed(target, now);
                self.next_open = closed.as_ref().filter(|p| !p.open_ended).map(|p| p.until);
                self.next_open_text = freeze::next_open_text(target, now);
                why
            }
        };
        if let Some(step) = self.steps.iter_mut().find(|s| s.name == PlanStep::Check(Check::Freeze)) {
            step.description = text;
        }
    }
}
