//! `stagegate history [--env E] [--limit N]`: who deployed what, when, from
//! where, what became of it (rollbacks included) and who approved it — from
//! the forge's deployment records, newest first.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Ctx, known_env};
use crate::actions::markdown_table;
use crate::error::{Error, Exit};
use crate::forge::history;
use crate::forge::{Approval, ApprovalState, Deployment, DeploymentId, DeploymentState, ForgeKind};
use crate::human;
use crate::output::{Out, Render, table};
use crate::policy::Policy;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  stagegate history                      the last 20 deployments, every environment
  stagegate history --env prod --limit 5
  stagegate history --output json        for scripts: one document, `deployments` newest first")]
pub struct Args {
    /// Only this environment
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
    /// At most this many deployments
    #[arg(long, default_value_t = 20, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
}

/// One deployment, as `history` shows it.
#[derive(Debug, Serialize)]
struct Entry {
    id: DeploymentId,
    /// For the text table's age.
    #[serde(skip)]
    started: DateTime<Utc>,
    environment: String,
    release: String,
    from: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    sha: Option<String>,
    deployed_by: String,
    run_id: String,
    started_at: String,
    /// When its latest status was set.
    updated_at: String,
    state: DeploymentState,
    outcome: &'static str,
    /// The deployment this one rolled back, for a rollback.
    rollback_of: Option<u64>,
    /// The deployment that rolled this one back.
    rolled_back_by: Option<DeploymentId>,
    approved_by: Vec<String>,
    description: Option<String>,
    /// Why it was asked for (`rollback --reason`).
    reason: Option<String>,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    let names: Vec<&str> = match &args.env {
        Some(e) => vec![known_env(&policy, e)?.name.as_str()],
        None => policy.graph.ordered(),
    };
    let forge = ctx.forge()?;
    let mut all = Vec::new();
    for name in names {
        let deps = forge.deployments(name).await?;
        for d in &deps {
            all.push((d.clone(), history::outcome(&deps, d), history::rolled_back_by(&deps, d).map(|r| r.id)));
        }
    }
    all.sort_by(|a, b| b.0.request.at.cmp(&a.0.request.at).then(b.0.id.cmp(&a.0.id)));
    all.truncate(args.limit as usize);
    let mut entries = Vec::new();
    // One run's reviews serve every deployment it made: read them once.
    let mut reviews: HashMap<String, Vec<Approval>> = HashMap::new();
    for (d, outcome, rolled_back_by) in &all {
        let needs_approval = policy.env(&d.request.environment).is_some_and(|e| e.approvals.required > 0);
        let approved_by = if needs_approval {
            if !reviews.contains_key(&d.request.run_id) {
                reviews.insert(d.request.run_id.clone(), forge.approvals(&d.request.run_id).await?);
            }
            approvers(forge.kind(), d, &reviews[&d.request.run_id], &all)
        } else {
            Vec::new()
        };
        entries.push(Entry {
            id: d.id,
            started: d.request.at,
            environment: d.request.environment.clone(),
            release: d.request.release.clone(),
            from: d.request.from.clone(),
            git_ref: d.request.git_ref.clone(),
            sha: d.request.sha.clone(),
            deployed_by: d.request.creator.clone(),
            run_id: d.request.run_id.clone(),
            started_at: human::timestamp(d.request.at),
            updated_at: human::timestamp(d.updated_at()),
            state: d.state(),
            outcome,
            rollback_of: d.request.rollback_of,
            rolled_back_by: *rolled_back_by,
            approved_by,
            description: d.statuses.last().map(|s| s.description.clone()),
            reason: d.request.reason.clone(),
        });
    }
    let scope = args.env.unwrap_or_else(|| "any environment".to_string());
    ctx.out.print(&History { deployments: entries, scope, now: ctx.now() });
    Ok(Exit::Success)
}

/// What `history` answers: deployments, newest first.
#[derive(Debug, Serialize)]
struct History {
    deployments: Vec<Entry>,
    /// `prod`, or `any environment`.
    #[serde(skip)]
    scope: String,
    #[serde(skip)]
    now: DateTime<Utc>,
}

/// Who approved the run that made `d` for its environment. GitHub keeps a
/// run's reviews without a time, and a run id is one workflow run there; on
/// the local forge one run id serves many runs, so only the reviews given
/// since the previous deployment of that run id to the environment count.
fn approvers(
    kind: ForgeKind,
    d: &Deployment,
    reviews: &[Approval],
    all: &[(Deployment, &'static str, Option<DeploymentId>)],
) -> Vec<String> {
    let env = &d.request.environment;
    let since = all
        .iter()
        .map(|(p, ..)| p)
        .filter(|p| {
            p.request.environment == *env && p.request.run_id == d.request.run_id && p.request.at < d.request.at
        })
        .map(|p| p.request.at)
        .max();
    let mut who: Vec<String> = reviews
        .iter()
        .filter(|a| a.environment == *env && a.state == ApprovalState::Approved)
        .filter(|a| kind == ForgeKind::Github || (a.at <= d.request.at && since.is_none_or(|s| a.at > s)))
        .map(|a| a.user.clone())
        .collect();
    who.sort_by_key(|u| u.to_lowercase());
    who.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    who
}

impl Entry {
    /// `live`, `failed, rolled back (by #5)`, `live (rollback of #4)`,
    /// `live (rollback of #4: INC-4711 checkout errors)`.
    fn outcome_text(&self) -> String {
        match (self.rollback_of, self.rolled_back_by) {
            (Some(undone), _) => match &self.reason {
                Some(why) => format!("{} (rollback of #{undone}: {why})", self.outcome),
                None => format!("{} (rollback of #{undone})", self.outcome),
            },
            (None, Some(by)) => format!("{} (by #{by})", self.outcome),
            (None, None) => self.outcome.to_string(),
        }
    }
}

impl Render for History {
    fn text(&self, o: &Out) -> String {
        if self.deployments.is_empty() {
            return format!("nothing was deployed to {} yet", self.scope);
        }
        let dash = || o.dim("—");
        let rows: Vec<Vec<String>> = self
            .deployments
            .iter()
            .map(|e| {
                let outcome = e.outcome_text();
                let painted = match e.state {
                    DeploymentState::Success => o.good(&outcome),
                    DeploymentState::Failure | DeploymentState::Error => o.bad(&outcome),
                    _ => outcome,
                };
                vec![
                    format!("#{}", e.id),
                    human::when(self.now, e.started),
                    e.environment.clone(),
                    e.release.clone(),
                    e.from.clone().unwrap_or_else(dash),
                    e.deployed_by.clone(),
                    painted,
                    if e.approved_by.is_empty() { dash() } else { e.approved_by.join(", ") },
                ]
            })
            .collect();
        table(&["ID", "WHEN", "ENVIRONMENT", "RELEASE", "FROM", "BY", "OUTCOME", "APPROVED BY"], &rows)
    }

    fn summary(&self) -> Option<String> {
        let rows: Vec<Vec<String>> = self
            .deployments
            .iter()
            .map(|e| {
                vec![
                    format!("#{}", e.id),
                    e.started_at.clone(),
                    e.environment.clone(),
                    e.release.clone(),
                    e.from.clone().unwrap_or_else(|| "—".into()),
                    e.deployed_by.clone(),
                    e.outcome_text(),
                    if e.approved_by.is_empty() { "—".into() } else { e.approved_by.join(", ") },
                ]
            })
            .collect();
        let headers = ["Id", "Started", "Environment", "Release", "From", "By", "Outcome", "Approved by"];
        Some(format!(
            "### Deployments to {}\n\n{}",
            crate::actions::inline(&self.scope),
            markdown_table(&headers, &rows)
        ))
    }
}
