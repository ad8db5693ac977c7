//! A promotion plan: whether `from → to` is allowed, why not, and the ordered
//! steps `promote` would run. Pure: built from the policy alone, no I/O.

use serde::Serialize;

use chrono::{DateTime, Utc};

use crate::config::duration;
use crate::gates::freeze;
use crate::policy::{GitRef, Policy, RefVerdict};

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub allowed: bool,
    pub from: String,
    pub to: String,
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    pub release: Option<String>,
    pub approvals_required: u32,
    pub reasons: Vec<String>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub name: String,
    pub description: String,
    /// The hook command this step runs, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// `always`, or `on_failure` for the rollback steps.
    pub when: &'static str,
}

impl Step {
    fn new(name: &str, description: impl Into<String>) -> Step {
        Step { name: name.into(), description: description.into(), command: None, when: "always" }
    }
    fn hook(name: &str, description: impl Into<String>, command: &Option<String>) -> Option<Step> {
        command.as_ref().map(|c| Step { command: Some(c.clone()), ..Step::new(name, description) })
    }
}

/// Builds the plan. `from` and `to` must be known environments (the caller
/// reports unknown ones as invalid input, exit 2).
pub fn build(policy: &Policy, from: &str, to: &str, release: Option<&str>, git_ref: Option<&GitRef>) -> Plan {
    let cfg = policy.config;
    let target = policy.env(to).expect("caller checked the environment exists");
    let mut reasons = Vec::new();
    let path_step = match policy.edge_refusal(from, to) {
        Some(why) => {
            reasons.push(why.clone());
            Step::new("check-path", why)
        }
        None => Step::new("check-path", format!("{from} → {to} is an allowed promotion")),
    };
    let ref_step = match git_ref {
        Some(r) => match policy.ref_verdict(to, r) {
            RefVerdict::Allowed(p) => Step::new("check-ref", format!("{r} may deploy to {to} (matches `{p}`)")),
            RefVerdict::Refused(why) => {
                reasons.push(why.clone());
                Step::new("check-ref", why)
            }
        },
        None => {
            Step::new("check-ref", format!("the release's ref must match {to}'s branch rules (checked when it runs)"))
        }
    };
    let release_text = release.map_or("the release".to_string(), |r| format!("release {r}"));

    let mut steps = vec![
        path_step,
        ref_step,
        Step::new("check-source", format!("{release_text} is deployed and healthy in {from}")),
        Step::new("check-target", format!("no other deployment to {to} is in progress")),
    ];
    if !target.freeze.is_empty() {
        let windows: Vec<String> = target.freeze.iter().map(ToString::to_string).collect();
        steps.push(Step::new("check-freeze", format!("{to} is not inside a freeze window ({})", windows.join("; "))));
    }
    if let Some(soak) = target.soak {
        steps.push(Step::new(
            "check-soak",
            format!("{release_text} has been healthy in {from} for at least {}", duration::format(soak)),
        ));
    }
    if target.change_required {
        steps.push(Step::new(
            "check-change",
            format!("an approved ServiceNow change for {to}, inside its window (--change)"),
        ));
    }
    let a = &target.approvals;
    if a.required > 0 {
        let who: Vec<String> = a.reviewers.iter().map(ToString::to_string).collect();
        let mut d = format!("{} distinct approval(s) from {}", a.required, who.join(", "));
        if a.prevent_self_review {
            d.push_str("; not the actor, not bots");
        }
        steps.push(Step::new("gate", d));
    }
    if let Some(t) = a.wait_timer {
        steps.push(Step::new("wait-timer", format!("wait {} after approval", duration::format(t))));
    }
    let s = &cfg.steps;
    steps.extend(Step::hook("backup", format!("back up {to}"), &s.backup));
    steps.push(match Step::hook("deploy", format!("deploy {release_text} to {to}"), &s.deploy) {
        Some(step) => step,
        None => Step::new("deploy", format!("record {release_text} as deployed to {to} (no deploy hook configured)")),
    });
    for h in &target.health {
        let timeout = duration::format(h.timeout.unwrap_or(s.health_check_timeout));
        steps.push(Step::new(
            "health",
            format!(
                "GET {} expects {} (each try {timeout}, until {} after deploy)",
                h.http,
                h.expect,
                duration::format(s.startup_timeout)
            ),
        ));
    }
    steps.extend(Step::hook("verify", format!("verify {to}"), &s.verify));
    steps.push(Step::new("record", format!("record {release_text} in {to}: deployment, status, audit line")));
    let mut rollback = Step::new("rollback", format!("restore {to} and redeploy its previous good release"));
    rollback.command = s.rollback.clone();
    rollback.when = "on_failure";
    steps.push(rollback);

    Plan {
        allowed: reasons.is_empty(),
        from: from.into(),
        to: to.into(),
        git_ref: git_ref.map(|r| match r {
            GitRef::Branch(b) => format!("refs/heads/{b}"),
            GitRef::Tag(t) => format!("refs/tags/{t}"),
        }),
        release: release.map(str::to_owned),
        approvals_required: a.required,
        reasons,
        steps,
    }
}

impl Plan {
    /// Refuses the plan when `now` falls inside one of the target's freeze
    /// windows, saying when it ends — unless overridden where allowed.
    pub fn check_freeze(&mut self, policy: &Policy, now: DateTime<Utc>, override_reason: Option<&str>) {
        let Some(target) = policy.env(&self.to) else { return };
        let text = match freeze::decide(target, now, override_reason) {
            freeze::Decision::Clear => return,
            freeze::Decision::Overridden { window, reason } => format!("freeze `{window}` overridden: {reason}"),
            freeze::Decision::Refused(why) => {
                self.reasons.push(why.clone());
                self.allowed = false;
                why
            }
        };
        if let Some(step) = self.steps.iter_mut().find(|s| s.name == "check-freeze") {
            step.description = text;
        }
    }
}
