//! The four DORA keys of one environment, from its deployment records:
//! deployment frequency, lead time for changes (the commit's time to live),
//! change failure rate (deployments that failed or were rolled back, over all
//! that finished) and time to restore (a failure to the next deployment that
//! went live).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;

use crate::forge::{Deployment, DeploymentState, history};

/// One environment's keys over a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Keys {
    pub environment: String,
    /// Deployments started in the window (rollbacks included).
    pub deployments: usize,
    pub deployment_frequency_per_week: f64,
    /// `null`: no deployment went live whose commit time the forge knows.
    pub lead_time_median_seconds: Option<i64>,
    /// `null`: none finished.
    pub change_failure_rate: Option<f64>,
    /// `null`: nothing failed, or nothing went live after it yet.
    pub time_to_restore_median_seconds: Option<i64>,
    /// Deployments per week (the Monday that starts it), oldest first:
    /// the step summary's chart.
    #[serde(skip)]
    pub per_week: BTreeMap<NaiveDate, usize>,
}

/// The median of `v` (the lower one of the middle two), `None` when empty.
fn median(mut v: Vec<i64>) -> Option<i64> {
    v.sort_unstable();
    let n = v.len();
    (n > 0).then(|| if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2 })
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

/// When `d` failed: its first `failure`/`error` status, or — rolled back
/// after it went live — when the rollback started. `None`: it did not fail.
fn failed_at(deps: &[Deployment], d: &Deployment) -> Option<DateTime<Utc>> {
    let bad = |s: DeploymentState| matches!(s, DeploymentState::Failure | DeploymentState::Error);
    d.statuses
        .iter()
        .find(|s| bad(s.state))
        .map(|s| s.created_at)
        .or_else(|| history::rolled_back_by(deps, d).map(|r| r.request.at))
}

/// The keys of `env` over `[since, until]`. `deps` is its whole history,
/// newest first; `commit_times` the commits' times the forge knows, by sha.
pub fn keys(
    env: &str,
    deps: &[Deployment],
    commit_times: &BTreeMap<String, DateTime<Utc>>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Keys {
    let window: Vec<&Deployment> =
        deps.iter().filter(|d| d.request.at >= since && d.request.at <= until && d.id.recorded().is_some()).collect();
    let weeks = ((until - since).num_seconds().max(1) as f64) / (7.0 * 86_400.0);
    let lead = window
        .iter()
        .filter_map(|d| {
            let live = d.succeeded_at()?;
            let commit = commit_times.get(d.request.sha.as_deref()?)?;
            Some((live - *commit).num_seconds().max(0))
        })
        .collect();
    let finished: Vec<&&Deployment> = window.iter().filter(|d| !d.state().is_active()).collect();
    let failures: Vec<DateTime<Utc>> = finished.iter().filter_map(|d| failed_at(deps, d)).collect();
    let restore = failures
        .iter()
        .filter_map(|&at| {
            let back = deps.iter().flat_map(|d| &d.statuses).filter(|s| s.state == DeploymentState::Success);
            back.map(|s| s.created_at).filter(|t| *t > at).min().map(|t| (t - at).num_seconds())
        })
        .collect();
    let mut per_week = BTreeMap::new();
    for d in &window {
        let day = d.request.at.date_naive();
        let monday = day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday()));
        *per_week.entry(monday).or_insert(0) += 1;
    }
    Keys {
        environment: env.to_owned(),
        deployments: window.len(),
        deployment_frequency_per_week: round(window.len() as f64 / weeks, 2),
        lead_time_median_seconds: median(lead),
        change_failure_rate: (!finished.is_empty()).then(|| round(failures.len() as f64 / finished.len() as f64, 4)),
        time_to_restore_median_seconds: median(restore),
        per_week,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forge::{DeploymentId, DeploymentStatus, NewDeployment};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn dep(id: u64, at: &str, states: &[(DeploymentState, &str)], rollback_of: Option<u64>) -> Deployment {
        Deployment {
            id: DeploymentId::Recorded(id),
            request: NewDeployment {
                environment: "prod".into(),
                release: format!("r{id}"),
                git_ref: None,
                sha: Some(format!("sha{id}")),
                creator: "alice".into(),
                description: String::new(),
                run_id: "1".into(),
                from: None,
                rollback_of,
                reason: None,
                at: t(at),
                environment_url: None,
                log_url: None,
                verdict: None,
            },
            statuses: states
                .iter()
                .map(|(state, at)| DeploymentStatus { state: *state, description: String::new(), created_at: t(at) })
                .collect(),
        }
    }

    #[test]
    fn a_failure_counts_and_is_restored_by_the_next_live_deployment() {
        use DeploymentState::*;
        // Newest first: 3 rolls 2 back; 1 went live a day after its commit.
        let deps = vec![
            dep(3, "2026-12-02T10:00:00Z", &[(Success, "2026-12-02T10:30:00Z")], Some(2)),
            dep(2, "2026-12-02T09:00:00Z", &[(Failure, "2026-12-02T09:10:00Z")], None),
            dep(
                1,
                "2026-12-01T09:00:00Z",
                &[(Success, "2026-12-01T09:00:00Z"), (Inactive, "2026-12-02T10:30:00Z")],
                None,
            ),
        ];
        let commits = BTreeMap::from([("sha1".to_string(), t("2026-11-30T09:00:00Z"))]);
        let k = keys("prod", &deps, &commits, t("2026-11-25T00:00:00Z"), t("2026-12-09T00:00:00Z"));
        assert_eq!(k.deployments, 3);
        assert_eq!(k.deployment_frequency_per_week, 1.5);
        assert_eq!(k.lead_time_median_seconds, Some(86_400));
        assert_eq!(k.change_failure_rate, Some(0.3333));
        assert_eq!(k.time_to_restore_median_seconds, Some(80 * 60));
        let weeks: Vec<(String, usize)> = k.per_week.iter().map(|(d, n)| (d.to_string(), *n)).collect();
        assert_eq!(weeks, [("2026-11-30".to_string(), 3)]);
    }

    #[test]
    fn nothing_in_the_window_gives_no_rates() {
        let k = keys("prod", &[], &BTreeMap::new(), t("2026-11-25T00:00:00Z"), t("2026-12-09T00:00:00Z"));
        assert_eq!((k.deployments, k.change_failure_rate, k.lead_time_median_seconds), (0, None, None));
    }
}
