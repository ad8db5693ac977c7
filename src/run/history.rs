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

/// What `rollback` without `--to` returns to: the newest deployment that
/// succeeded *before* the current release came to run (for a current
/// release that is itself a rollback, before the deployment it went back
/// to), of another release, and of a release the environment was not rolled
/// back from since. So a second rollback goes further back, never forth to
/// the release just rolled away from; `None` when nothing older is left.
pub fn rollback_target(deps: &[Deployment]) -> Option<&Deployment> {
    let (at, current) = deps.iter().enumerate().find(|(_, d)| d.state() == DeploymentState::Success)?;
    let release = &current.request.release;
    let position = |id: u64| deps.iter().position(|d| d.id == id);
    // A rollback to R stands where R first stood: at the good deployment of R
    // before the one it undid.
    let anchor = current
        .request
        .rollback_of
        .and_then(position)
        .and_then(|undone| {
            (undone + 1..deps.len()).find(|&i| deps[i].request.release == *release && deps[i].succeeded_at().is_some())
        })
        .unwrap_or(at);
    (anchor + 1..deps.len()).map(|i| (i, &deps[i])).find_map(|(i, d)| {
        let good = d.succeeded_at().is_some() && d.request.release != *release;
        (good && !rolled_back_since(deps, i)).then_some(d)
    })
}

/// Was the release of `deps[i]` rolled away from by a later deployment?
fn rolled_back_since(deps: &[Deployment], i: usize) -> bool {
    let release = &deps[i].request.release;
    deps[..i]
        .iter()
        .filter_map(|r| r.request.rollback_of)
        .any(|undone| deps.iter().any(|d| d.id == undone && d.request.release == *release))
}

/// The newest deployment of `release`, whatever its state.
pub fn of_release<'d>(deps: &'d [Deployment], release: &str) -> Option<&'d Deployment> {
    deps.iter().find(|d| d.request.release == release)
}

/// The newest deployment of `release` that succeeded.
pub fn good_of_release<'d>(deps: &'d [Deployment], release: &str) -> Option<&'d Deployment> {
    deps.iter().find(|d| d.request.release == release && d.succeeded_at().is_some())
}
