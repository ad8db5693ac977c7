//! Reading an environment's deployment history (newest first, as
//! `Forge::deployments` returns it).

use crate::forge::{Deployment, DeploymentState};

/// What is deployed now: the newest deployment whose state is `success`.
pub fn current(deps: &[Deployment]) -> Option<&Deployment> {
    deps.iter().find(|d| d.state() == DeploymentState::Success)
}

/// Deployments still pending or in progress.
pub fn running(deps: &[Deployment]) -> impl Iterator<Item = &Deployment> {
    deps.iter().filter(|d| d.state().is_active())
}

/// The newest deployment that once succeeded with a release other than
/// `not`: what a rollback redeploys.
pub fn previous_good<'d>(deps: &'d [Deployment], not: &str) -> Option<&'d Deployment> {
    deps.iter().find(|d| d.succeeded_at().is_some() && d.request.release != not)
}

/// The newest deployment of `release`, whatever its state.
pub fn of_release<'d>(deps: &'d [Deployment], release: &str) -> Option<&'d Deployment> {
    deps.iter().find(|d| d.request.release == release)
}

/// The newest deployment of `release` that succeeded.
pub fn good_of_release<'d>(deps: &'d [Deployment], release: &str) -> Option<&'d Deployment> {
    deps.iter().find(|d| d.request.release == release && d.succeeded_at().is_some())
}
