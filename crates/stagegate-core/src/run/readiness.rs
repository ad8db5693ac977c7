//! The readiness score of `compare A B`: how ready A's current
//! release is to be promoted to B, out of 100.
//!
//! | check | weight |
//! |---|---|
//! | A has a current successful release | 15 |
//! | A → B is an allowed promotion path | 15 |
//! | the release's ref is allowed in B | 15 |
//! | A's health checks pass now (none configured: passes) | 15 |
//! | the release never failed in B, and B's last deployment did not fail | 15 |
//! | B is not inside a freeze window | 10 |
//! | the release has soaked in A for B's `soak` (none: passes) | 10 |
//! | nothing is deploying to B right now | 5 |
//!
//! Verdict: ≥ 90 ready, 75–89 caution, < 75 not ready (exit 3).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::health::Probe;
use crate::config::Environment;
use crate::forge::history;
use crate::forge::{Deployment, DeploymentState};
use crate::gates::{freeze, soak};
use crate::policy::{GitRef, Policy, RefVerdict};

pub const WEIGHTS: [(&str, u32); 8] = [
    ("source-release", 15),
    ("path", 15),
    ("ref", 15),
    ("source-health", 15),
    ("no-failures", 15),
    ("not-frozen", 10),
    ("soak", 10),
    ("target-idle", 5),
];

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub weight: u32,
    pub passed: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ready,
    Caution,
    NotReady,
    /// B already runs A's release: nothing to promote.
    UpToDate,
}

impl Verdict {
    pub fn of(score: u32) -> Verdict {
        match score {
            90.. => Verdict::Ready,
            75..=89 => Verdict::Caution,
            _ => Verdict::NotReady,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Verdict::Ready => "ready for promotion",
            Verdict::Caution => "promotion with caution",
            Verdict::NotReady => "not ready for promotion",
            Verdict::UpToDate => "nothing to promote",
        }
    }
}

/// A check result by name; its weight comes from [`WEIGHTS`].
pub fn check(name: &'static str, passed: bool, detail: impl Into<String>) -> Check {
    let weight = WEIGHTS.iter().find(|(n, _)| *n == name).map_or(0, |(_, w)| *w);
    Check { name, weight, passed, detail: detail.into() }
}

pub fn score(checks: &[Check]) -> u32 {
    checks.iter().filter(|c| c.passed).map(|c| c.weight).sum()
}

/// What the score is computed from: the two environments, their deployment
/// histories (newest first) and A's health now.
pub struct Input<'a> {
    pub policy: &'a Policy<'a>,
    pub from: &'a Environment,
    pub to: &'a Environment,
    pub from_deployments: &'a [Deployment],
    pub to_deployments: &'a [Deployment],
    pub from_health: &'a [Probe],
    pub now: DateTime<Utc>,
}

/// The checks of [`WEIGHTS`], in order. Pure: no I/O.
pub fn assess(i: &Input) -> Vec<Check> {
    let (a, b, b_deps) = (i.from, i.to, i.to_deployments);
    let a_cur = history::current(i.from_deployments);
    let policy = i.policy;
    let a_health = i.from_health;
    let mut checks = Vec::new();
    checks.push(match a_cur {
        Some(c) => check("source-release", true, format!("{} runs {}", a.name, c.request.release)),
        None => check("source-release", false, format!("nothing is deployed successfully in {}", a.name)),
    });
    checks.push(match policy.edge_refusal(&a.name, &b.name) {
        None => check("path", true, format!("{} → {} is an allowed promotion", a.name, b.name)),
        Some(why) => check("path", false, why),
    });
    let git_ref = a_cur.and_then(|c| c.request.git_ref.as_deref()).and_then(|r| GitRef::parse(r).ok());
    checks.push(match git_ref.map(|r| (policy.ref_verdict(&b.name, &r), r)) {
        Some((RefVerdict::Allowed(p), r)) => check("ref", true, format!("{r} matches `{p}` in {}", b.name)),
        Some((RefVerdict::Refused(why), _)) => check("ref", false, why),
        None => check("ref", false, "no ref recorded for the source release"),
    });
    checks.push(match a_health.iter().find(|p| !p.ok) {
        _ if a_health.is_empty() => check("source-health", true, format!("{} has no health checks", a.name)),
        None => check("source-health", true, format!("{} health check(s) of {} pass", a_health.len(), a.name)),
        Some(p) => check("source-health", false, p.describe()),
    });
    let release = a_cur.map(|c| c.request.release.as_str());
    let failed = |d: &&Deployment| matches!(d.state(), DeploymentState::Failure | DeploymentState::Error);
    let failed_here = b_deps.iter().filter(failed).find(|d| Some(d.request.release.as_str()) == release);
    checks.push(match (failed_here, b_deps.first().filter(failed)) {
        (Some(d), _) => check(
            "no-failures",
            false,
            format!("{} failed in {} before (deployment {})", d.request.release, b.name, d.id),
        ),
        (None, Some(d)) => check(
            "no-failures",
            false,
            format!("the last deployment to {} ({}) ended in {}", b.name, d.request.release, d.state()),
        ),
        (None, None) => check("no-failures", true, format!("no failed deployment of it in {}", b.name)),
    });
    checks.push(match freeze::decide(b, i.now, None) {
        freeze::Decision::Refused(why) => check("not-frozen", false, why),
        _ => check("not-frozen", true, format!("{} is not frozen", b.name)),
    });
    checks.push(match (b.soak, a_cur) {
        (None, _) => check("soak", true, format!("{} asks for no soak time", b.name)),
        (Some(s), Some(c)) => match soak::check(c, &a.name, s, i.now) {
            Ok(d) => check("soak", true, d),
            Err(why) => check("soak", false, why.message()),
        },
        (Some(_), None) => check("soak", false, format!("nothing has soaked in {}", a.name)),
    });
    checks.push(match history::running(b_deps).next() {
        Some(d) => check("target-idle", false, format!("deployment {} to {} is {}", d.id, b.name, d.state())),
        None => check("target-idle", true, format!("nothing is deploying to {}", b.name)),
    });
    checks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_100_and_thresholds_are_inclusive() {
        assert_eq!(WEIGHTS.iter().map(|(_, w)| w).sum::<u32>(), 100);
        assert_eq!(Verdict::of(100), Verdict::Ready);
        assert_eq!(Verdict::of(90), Verdict::Ready);
        assert_eq!(Verdict::of(89), Verdict::Caution);
        assert_eq!(Verdict::of(75), Verdict::Caution);
        assert_eq!(Verdict::of(74), Verdict::NotReady);
        assert_eq!(Verdict::of(0), Verdict::NotReady);
    }
}
