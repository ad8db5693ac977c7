//! What the rules read: everything a surface gathered about one run into one
//! environment — the config, the deployment records of the source and the
//! target, the clock, the lock, health probes, the run's reviews, the change,
//! the target's hold.
//! Gathering does the I/O (and differs by surface: the App finds the source by
//! the deployed sha, `plan` does not probe health); the rules do none.

use chrono::{DateTime, Utc};

use crate::config::{Approvals, Environment, Purpose};
use crate::forge::{Deployment, Hold, history};
use crate::gates::approvals::Verdict;
use crate::policy::{GitRef, Policy};
use crate::refusal::Refusal;

/// Where the release comes from.
#[derive(Debug, Clone)]
pub enum Source<'a> {
    /// A promotion from this environment.
    Env(&'a Environment),
    /// A run without a source environment (deploy, rollback, a journal lane).
    Direct,
    /// The App: the deployed commit is not what any environment that
    /// promotes to the target runs now; the reason says what they run.
    NotFound(String),
}

/// The source's health checks, as probed now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// All of them answer as expected: how many there are.
    Passing(usize),
    /// The first that does not, described (`GET … → 503 (expected 200)`).
    Failing(String),
}

/// The git ref the rules judge.
#[derive(Debug, Clone)]
pub enum RefFact {
    /// Named by the request (`--ref`, the App's deployment); `Err` says why
    /// it is not a ref stagegate accepts.
    Given(Result<GitRef, String>),
    /// The ref recorded with the release's deployment in the source.
    Recorded,
    /// Not known yet (a plan without `--release` or `--ref`).
    NotYet,
}

/// The ServiceNow change of the run, as far as it was looked up.
#[derive(Debug, Clone)]
pub enum ChangeFact {
    /// No change named.
    Missing,
    /// Looked up: its detail, or why it does not do.
    Checked(Result<String, Refusal>),
}

/// The run's approvals as the gate counted them.
#[derive(Debug, Clone)]
pub struct ApprovalsFact<'a> {
    pub verdict: &'a Verdict,
    /// Who may approve and where (`stagegate approve …`, the run's page).
    pub unblock: String,
}

/// Everything the rules read.
pub struct Facts<'a> {
    pub policy: &'a Policy<'a>,
    /// The environment the run goes into (for an ephemeral instance: its
    /// template, whose rules apply).
    pub to: &'a Environment,
    /// The instance of template `to` the run goes into (`feature/login`).
    pub instance: Option<&'a str>,
    pub source: Source<'a>,
    /// The release, when one is named.
    pub release: Option<&'a str>,
    pub git_ref: RefFact,
    /// The source's deployments, newest first (`None`: not read — no source,
    /// or a plan that names no release).
    pub from_deployments: Option<&'a [Deployment]>,
    /// The target's deployments, newest first.
    pub to_deployments: &'a [Deployment],
    /// The source's health checks now (`None`: not probed on this surface).
    pub source_health: Option<Health>,
    /// Another run holds the target's lock: who, since when.
    pub lock_busy: Option<String>,
    /// The runner holds the lock and marked the target's abandoned
    /// deployments failed (the local forge): what it did. Then nothing else runs.
    pub abandoned: Option<Vec<String>>,
    pub now: DateTime<Utc>,
    /// `--override-freeze --reason`.
    pub override_reason: Option<&'a str>,
    pub change: ChangeFact,
    /// The run's approvals (`None`: not counted yet, as in a plan).
    pub approvals: Option<ApprovalsFact<'a>>,
    /// A rollback: the deployment to return to, or why there is none.
    pub rollback: Option<Result<&'a Deployment, String>>,
    /// The target's newest hold (`hold set`), whether or not it still holds.
    pub hold: Option<&'a Hold>,
    /// A promotion or a rollback: which approvals of the target apply.
    pub purpose: Purpose,
}

impl<'a> Facts<'a> {
    /// Facts with nothing gathered yet: a run into `to` now, without a source.
    pub fn new(policy: &'a Policy<'a>, to: &'a Environment, now: DateTime<Utc>) -> Facts<'a> {
        Facts {
            policy,
            to,
            instance: None,
            source: Source::Direct,
            release: None,
            git_ref: RefFact::NotYet,
            from_deployments: None,
            to_deployments: &[],
            source_health: None,
            lock_busy: None,
            abandoned: None,
            now,
            override_reason: None,
            change: ChangeFact::Missing,
            approvals: None,
            rollback: None,
            hold: None,
            purpose: Purpose::Promotion,
        }
    }

    /// The approvals this run needs in the target (a rollback's may be fewer, without the wait timer).
    pub fn approvals_policy(&self) -> Approvals {
        self.to.approvals_for(self.purpose)
    }

    /// The source environment, for a promotion.
    pub fn from(&self) -> Option<&'a Environment> {
        match self.source {
            Source::Env(e) => Some(e),
            Source::Direct | Source::NotFound(_) => None,
        }
    }

    /// The name of the environment the run goes into: the instance's, else `to`'s.
    pub fn target_name(&self) -> &'a str {
        self.instance.unwrap_or(&self.to.name)
    }

    /// The release's newest deployment in the source.
    pub fn source_deployment(&self) -> Option<&'a Deployment> {
        history::of_release(self.from_deployments?, self.release?)
    }

    /// The source's current deployment, when it is of the release.
    pub fn source_current(&self) -> Option<&'a Deployment> {
        history::current(self.from_deployments?).filter(|d| Some(d.request.release.as_str()) == self.release)
    }

    /// "release 26.12.01.4", or "the release".
    pub fn release_text(&self) -> String {
        self.release.map_or("the release".to_string(), |r| format!("release {r}"))
    }
}
