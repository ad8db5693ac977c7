//! Reading an environment's deployment history (newest first, as
//! `Forge::deployments` returns it).

use crate::forge::{Deployment, DeploymentState};

/// The status description `destroy` marks an ephemeral instance's deployments
/// inactive with.
pub const DESTROYED: &str = "destroyed";

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

/// What became of a deployment, in words: `live`, `replaced`, `destroyed`, `failed`,
/// `failed, rolled back`, `rolled back`, `error`, `in progress`.
pub fn outcome(deps: &[Deployment], d: &Deployment) -> &'static str {
    let rolled_back = rolled_back_by(deps, d).is_some();
    match d.state() {
        DeploymentState::Success => "live",
        DeploymentState::Inactive if rolled_back => "rolled back",
        DeploymentState::Inactive if d.statuses.last().is_some_and(|s| s.description == DESTROYED) => "destroyed",
        DeploymentState::Inactive => "replaced",
        DeploymentState::Failure if rolled_back => "failed, rolled back",
        DeploymentState::Failure => "failed",
        DeploymentState::Error => "error",
        DeploymentState::Pending | DeploymentState::InProgress => "in progress",
    }
}

/// The deployment that rolled `d` back, if one did.
pub fn rolled_back_by<'d>(deps: &'d [Deployment], d: &Deployment) -> Option<&'d Deployment> {
    deps.iter().find(|r| r.request.rollback_of.is_some_and(|id| d.id == id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forge::{DeploymentStatus, NewDeployment};

    fn dep(id: u64, release: &str, state: DeploymentState, rollback_of: Option<u64>) -> Deployment {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z").unwrap().with_timezone(&chrono::Utc);
        Deployment {
            id: crate::forge::DeploymentId::Recorded(id),
            request: NewDeployment {
                environment: "prod".into(),
                release: release.into(),
                git_ref: None,
                sha: None,
                creator: "alice".into(),
                description: String::new(),
                run_id: "1".into(),
                from: None,
                rollback_of,
                reason: None,
                at,
                environment_url: None,
                log_url: None,
                verdict: None,
            },
            statuses: vec![DeploymentStatus { state, description: String::new(), created_at: at }],
        }
    }

    #[test]
    fn a_failed_deploy_that_was_rolled_back_says_so() {
        use DeploymentState::*;
        // Newest first: 3 rolled 2 back to 1's release; 1 was replaced by 2 once.
        let deps = vec![
            dep(3, "26.12.01.1", Success, Some(2)),
            dep(2, "26.12.01.2", Failure, None),
            dep(1, "26.12.01.1", Inactive, None),
        ];
        let words: Vec<&str> = deps.iter().map(|d| outcome(&deps, d)).collect();
        assert_eq!(words, ["live", "failed, rolled back", "replaced"]);
        let deps = vec![dep(5, "a", Success, Some(4)), dep(4, "b", Inactive, None)];
        assert_eq!(outcome(&deps, &deps[1]), "rolled back");
        assert_eq!(rolled_back_by(&deps, &deps[1]).and_then(|d| d.id.recorded()), Some(5));
    }
}
