//! The GitHub environments a config implies.
//!
//! GitHub's required reviewers let any *one* reviewer approve. So an
//! environment that needs N > 1 approvals keeps its own required reviewers,
//! `prevent_self_review`, branch policy and wait timer — GitHub itself then
//! enforces at least one approval on the job that holds the environment's
//! secrets, whatever the workflow says — and gets N-1 approval environments
//! (`prod-approval-1 … prod-approval-(N-1)`) with the same reviewers, which
//! the templates put in front of the deployment job. `stagegate gate`, run
//! inside the deployment job, counts N *distinct* allowed humans across all
//! of them.

pub use crate::config::names::{approval_env, approval_envs};
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

/// Every environment whose approvals count for `env`: its approval
/// environments, then `env` itself (the Nth approval is GitHub's own on the
/// deployment job).
pub fn counting_envs(env: &str, required: u32) -> Vec<String> {
    let mut all = approval_envs(env, required);
    all.push(env.to_owned());
    all
}

/// The environment of the config that `name` is an approval environment of.
pub fn approval_base<'c>(cfg: &'c Config, name: &str) -> Option<&'c str> {
    let (base, i) = name.rsplit_once("-approval-")?;
    let i: u32 = i.parse().ok()?;
    let env = cfg.env(base)?;
    (i >= 1 && i < env.approvals.required && cfg.env(name).is_none()).then_some(env.name.as_str())
}

pub fn desired(cfg: &Config) -> Vec<Desired> {
    let mut out = Vec::new();
    // A template has no GitHub environment of its own: each instance's is
    // created by its first deployment, and deleted by `destroy`.
    for env in cfg.environments.iter().filter(|e| !e.is_template()) {
        let a = &env.approvals;
        let policies = if env.branches.is_empty() && env.tags.is_empty() {
            None
        } else {
            let mut p: Vec<RefPolicy> = env
                .branches
                .iter()
                .map(|b| RefPolicy { name: b.to_string(), kind: "branch".into() })
                .chain(env.tags.iter().map(|t| RefPolicy { name: t.to_string(), kind: "tag".into() }))
                .collect();
            p.sort();
            p.dedup();
            Some(p)
        };
        let minutes = a.wait_timer.map_or(0, |d| (d.as_secs().div_ceil(60)).min(MAX_WAIT_MINUTES as u64) as u32);
        let reviewers: Vec<Reviewer> =
            if a.required == 0 { Vec::new() } else { a.reviewers.iter().take(6).cloned().collect() };
        out.push(Desired {
            name: env.name.clone(),
            reviewers: reviewers.clone(),
            prevent_self_review: a.prevent_self_review && !reviewers.is_empty(),
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
    fn prod_needing_two_approvals_keeps_its_reviewers_and_gets_one_approval_environment() {
        let loaded = crate::config::parse_bytes("seed", crate::config::EMBEDDED_DEFAULT.as_bytes());
        let cfg = loaded.config.unwrap();
        let d = desired(&cfg);
        let names: Vec<&str> = d.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["dev-int", "future", "active", "uat", "staging", "prod", "prod-approval-1"]);
        let prod = &d[5];
        assert_eq!(prod.reviewers.len(), 3, "GitHub enforces one approval on the deployment job itself");
        assert!(prod.prevent_self_review);
        assert_eq!(prod.wait_timer_minutes, 30);
        assert_eq!(d[6].policies, prod.policies);
        assert_eq!(d[6].reviewers.len(), 3);
        assert!(d[6].prevent_self_review);
        let uat = &d[3];
        assert_eq!(uat.reviewers.len(), 2);
        assert_eq!(uat.policies.as_ref().unwrap(), &[RefPolicy { name: "release/*".into(), kind: "branch".into() }]);
        assert_eq!(counting_envs("prod", 3), ["prod-approval-1", "prod-approval-2", "prod"]);
        assert_eq!(counting_envs("uat", 1), ["uat"]);
        assert_eq!(approval_base(&cfg, "prod-approval-1"), Some("prod"));
        assert_eq!(approval_base(&cfg, "prod-approval-2"), None, "prod needs 2: one approval environment");
        assert_eq!(approval_base(&cfg, "uat-approval-1"), None);
    }
}
