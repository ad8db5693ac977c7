//! An environment's rollback policy (`rollback: {approvals: N, wait_timer:
//! false}`): what a rollback into it asks instead of what promoting asks. By
//! default a rollback asks the same; a team may decide that undoing a bad
//! change needs fewer approvals and no wait.

use super::{Approvals, Environment, Pos};

/// What kind of run goes into an environment: the approvals it needs depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Purpose {
    /// A promotion (or a deploy, a journal lane's move): the environment's `approvals`.
    #[default]
    Promotion,
    /// A rollback to a release that ran here before: the environment's `rollback` policy.
    Rollback,
}

/// `rollback:` of an environment, as read.
#[derive(Debug, Clone, Default)]
pub struct RollbackPolicy {
    /// `approvals: N`: distinct approvals a rollback needs (`None`: as promoting).
    pub approvals: Option<u32>,
    /// `wait_timer: false`: a rollback does not wait out the environment's wait timer.
    pub skip_wait_timer: bool,
    /// Position of `rollback:` (`None`: not written).
    pub pos: Option<Pos>,
}

impl RollbackPolicy {
    /// "rollback: 1 approval, no wait timer" for `env`, when the policy
    /// differs from promoting; `None` when it does not.
    pub fn describe(&self, env: &Environment) -> Option<String> {
        self.pos?;
        let a = env.approvals_for(Purpose::Rollback);
        let approvals = match a.required {
            0 => "no approvals".to_string(),
            1 => "1 approval".to_string(),
            n => format!("{n} approvals"),
        };
        let wait =
            a.wait_timer.map_or("no wait timer".to_string(), |t| format!("wait timer {}", super::duration::format(t)));
        Some(format!("rollback: {approvals}, {wait}"))
    }
}

impl Environment {
    /// The approvals a run of `purpose` into this environment needs: for a
    /// rollback, `rollback.approvals` (if set) of the same reviewers, without
    /// the wait timer when `rollback.wait_timer: false`.
    pub fn approvals_for(&self, purpose: Purpose) -> Approvals {
        let mut a = self.approvals.clone();
        if purpose == Purpose::Rollback {
            if let Some(n) = self.rollback.approvals {
                a.required = n;
            }
            if self.rollback.skip_wait_timer || a.required == 0 {
                a.wait_timer = None;
            }
        }
        a
    }
}
