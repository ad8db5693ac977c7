//! No failures: the release never failed in the target, and the target's last
//! deployment did not fail. A caution, not a refusal: `compare` weighs it.

use super::{Facts, Outcome, Rule, Surface};
use crate::forge::{Deployment, DeploymentState};
use crate::step::StepName;

pub struct NoFailures;

impl Rule for NoFailures {
    fn name(&self) -> &'static str {
        "no-failures"
    }
    fn step(&self) -> Option<StepName> {
        None
    }
    fn guards(&self, surface: Surface) -> bool {
        match surface {
            Surface::Compare => true,
            Surface::Promote
            | Surface::Deploy
            | Surface::Rollback
            | Surface::JournalPromote
            | Surface::App
            | Surface::Plan
            | Surface::Gate => false,
        }
    }
    fn weight(&self) -> u32 {
        15
    }
    fn check(&self, f: &Facts) -> Outcome {
        let (to, deps) = (&f.to.name, f.to_deployments);
        let failed = |d: &&Deployment| matches!(d.state(), DeploymentState::Failure | DeploymentState::Error);
        let here = deps.iter().filter(failed).find(|d| Some(d.request.release.as_str()) == f.release);
        match (here, deps.first().filter(failed)) {
            (Some(d), _) => Outcome::Caution {
                detail: format!("{} failed in {to} before (deployment {})", d.request.release, d.id),
            },
            (None, Some(d)) => Outcome::Caution {
                detail: format!("the last deployment to {to} ({}) ended in {}", d.request.release, d.state()),
            },
            (None, None) => Outcome::pass(format!("no failed deployment of it in {to}")),
        }
    }
}
