//! The GitHub environments a config implies (SPEC §4).
//!
//! GitHub's required reviewers let any *one* reviewer approve. So an environment
//! that needs N > 1 approvals becomes N approval environments
//! (`prod-approval-1 … prod-approval-N`), each with the reviewers, which the
//! templates put in front of the deployment job, and `stagegate gate` checks
//! that N *distinct* allowed humans approved them. The deployment environment
//! itself keeps the branch policy and the wait timer.

use crate::config::{Config, Reviewer};

/// A deployment-branch-policy pattern for GitHub (`type: branch|tag`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct RefPolicy {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// One GitHub environment as the config wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub name: String,
    pub reviewers: Vec<Reviewer>,
    pub prevent_self_review: bool,
    pub wait_timer_minutes: u32,
    /// `None`: any ref may deploy. `Some`: only these patterns.
    pub policies: Option<Vec<RefPolicy>>,
}

/// GitHub caps an environment's wait timer at 30 days.
pub const MAX_WAIT_MINUTES: u32 = 43_200;

/// The approval environments of `env` (empty when one approval suffices).
pub fn approval_envs(env: &str, required: u32) -> Vec<String> {
    if required > 1 { (1..=required).map(|i| format!("{env}-approval-{i}")).collect() } else { Vec::new() }
}

pub fn desired(cfg: &Config) -> Vec<Desired> {
    let mut out = Vec::new();
    for env in &cfg.environments {
        let a = &env.approvals;
        let policies = if env.branches.is_empty() && env.tags.is_empty() {
            None
        } else {
            let mut p: Vec<RefPolicy> = env
                .branches
                .iter()
                .map(|b| RefPolicy { name: b.value.clone(), kind: "branch".into() })
                .chain(env.tags.iter().map(|t| RefPolicy { name: t.value.clone(), kind: "tag".into() }))
                .collect();
            p.sort();
            p.dedup();
            Some(p)
        };
        let minutes = a.wait_timer.map_or(0, |d| (d.as_secs().div_ceil(60)).min(MAX_WAIT_MINUTES as u64) as u32);
        let reviewers: Vec<Reviewer> = a.reviewers.iter().take(6).cloned().collect();
        let direct = a.required == 1;
        out.push(Desired {
            name: env.name.clone(),
            reviewers: if direct { reviewers.clone() } else { Vec::new() },
            prevent_self_review: direct && a.prevent_self_review,
            wait_timer_minutes: minutes,
            policies: policies.clone(),
        });
        for name in approval_envs(&env.name, a.required) {
            out.push(Desired {
                name,
                reviewers: reviewers.clone(),
                prevent_self_review: a.prevent_self_review,
                wait_timer_minutes: 0,
                policies: policies.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prod_needing_two_approvals_gets_two_approval_environments() {
        let loaded = crate::config::parse_bytes("seed", crate::config::EMBEDDED_DEFAULT.as_bytes());
        let cfg = loaded.config.unwrap();
        let d = desired(&cfg);
        let names: Vec<&str> = d.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            ["dev-int", "future", "active", "uat", "staging", "prod", "prod-approval-1", "prod-approval-2"]
        );
        let prod = &d[5];
        assert!(prod.reviewers.is_empty(), "approvals happen in the approval environments");
        assert_eq!(prod.wait_timer_minutes, 30);
        assert_eq!(d[6].reviewers.len(), 3);
        assert!(d[6].prevent_self_review);
        let uat = &d[3];
        assert_eq!(uat.reviewers.len(), 2);
        assert_eq!(uat.policies.as_ref().unwrap(), &[RefPolicy { name: "release/*".into(), kind: "branch".into() }]);
    }
}
