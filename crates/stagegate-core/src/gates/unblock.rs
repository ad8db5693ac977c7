//! How to get a run past its approval gate, in words: locally the exact
//! `stagegate approve` command, on GitHub who may review and the run's page,
//! where they approve.

use crate::config::{Environment, Reviewer};
use crate::forge::ForgeKind;

/// One sentence for a refusal or a plan: who may approve `env` for run
/// `run_id`, and where or how.
pub fn approvals(env: &Environment, run_id: &str, forge: ForgeKind) -> String {
    let who: Vec<String> = env.approvals.reviewers.iter().map(ToString::to_string).collect();
    let who = if who.is_empty() { "nobody is listed as a reviewer".to_string() } else { who.join(", ") };
    match forge {
        ForgeKind::Local => {
            let login = env.approvals.reviewers.iter().find_map(|r| match r {
                Reviewer::User(u) => Some(u.as_str()),
                Reviewer::Team { .. } => None,
            });
            format!(
                "to approve: `stagegate approve --env {} --as {} --run-id {run_id}` (reviewers: {who})",
                env.name,
                login.unwrap_or("LOGIN")
            )
        }
        ForgeKind::Github => {
            let page = crate::actions::this_run_url(run_id)
                .map_or_else(|| "on the run's page".to_string(), |url| format!("at {url}"));
            format!("reviewers {who} can review the deployment {page}")
        }
    }
}
