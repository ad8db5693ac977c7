//! `stagegate history [--env E] [--limit N]`: who deployed what, when, from
//! where, what became of it (rollbacks included) and who approved it — from
//! the forge's deployment records, newest first. Who approved is what the
//! record's verdict says counted, never the run's raw reviews: a record made
//! before records kept their verdict says so ("unknown").

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::values::{self, Moment};
use super::{Ctx, resolve_env};
use crate::actions::markdown_table;
use crate::error::{Error, Exit};
use crate::forge::history;
use crate::forge::hold::MAX_HOLDS;
use crate::forge::verdict::Verdict;
use crate::forge::{DeploymentId, DeploymentState, Hold, MAX_WINDOW, Window};
use crate::human;
use crate::output::{Out, Render, table};
use crate::policy::Policy;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  stagegate history                      the last 20 deployments, every environment
  stagegate history --env prod --limit 5
  stagegate history --since 30d          the last 30 days
  stagegate history --since 2026-11-01T00:00:00Z --until 2026-11-08T00:00:00Z
  stagegate history --release 26.11.21.1 where one release went, and what came of it
  stagegate history --output json        for scripts: one document, `deployments` newest first")]
pub struct Args {
    /// Only this environment
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
    /// At most this many deployments
    #[arg(long, default_value_t = 20, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
    /// Only deployments started at or after this time (RFC 3339) or this long ago (`30d`)
    #[arg(long, value_name = "TIME", value_parser = values::moment)]
    since: Option<Moment>,
    /// Only deployments started before this time (RFC 3339) or this long ago (`7d`)
    #[arg(long, value_name = "TIME", value_parser = values::moment)]
    until: Option<Moment>,
    /// Only deployments of this release (its name, e.g. 26.11.21.1)
    #[arg(long, value_name = "ID")]
    release: Option<String>,
}

/// How far back `--release` or `--until` look without `--since`: each
/// environment's newest this many (ten pages on GitHub).
const SCAN: usize = 1000;

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
    /// Who counted in the gate, from the record; `null` when the record does
    /// not say (made before records kept the verdict).
    approved_by: Option<Vec<String>>,
    /// The record's whole verdict: approvers, reviews that did not count and
    /// why, the change, a freeze override.
    verdict: Option<Verdict>,
    description: Option<String>,
    /// Why it was asked for (`rollback --reason`).
    reason: Option<String>,
}

/// One hold event: set or cleared, who, when, why.
#[derive(Debug, Serialize)]
struct HoldEvent {
    environment: String,
    /// `set` or `cleared`.
    event: &'static str,
    #[serde(serialize_with = "human::rfc3339")]
    at: DateTime<Utc>,
    /// Who set it (for `cleared`, the status's text says who cleared it).
    by: String,
    /// The hold's reason; for `cleared`, who cleared it and why.
    reason: String,
    #[serde(serialize_with = "human::rfc3339_opt")]
    until: Option<DateTime<Utc>>,
}

/// The set and clear events of `holds`.
fn hold_events(holds: &[Hold]) -> Vec<HoldEvent> {
    let mut out = Vec::new();
    for h in holds {
        if let Some(c) = &h.cleared {
            out.push(HoldEvent {
                environment: h.set.environment.clone(),
                event: "cleared",
                at: c.at,
                by: h.set.by.clone(),
                reason: c.description.clone(),
                until: h.set.until,
            });
        }
        out.push(HoldEvent {
            environment: h.set.environment.clone(),
            event: "set",
            at: h.set.at,
            by: h.set.by.clone(),
            reason: h.set.reason.clone(),
            until: h.set.until,
        });
    }
    out
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    let forge = ctx.forge()?;
    let names: Vec<String> = match &args.env {
        Some(e) => vec![resolve_env(&policy, e)?.name()],
        None => policy.graph.ordered().into_iter().map(str::to_owned).collect(),
    };
    // A template's history is its instances'.
    let mut all_names = Vec::new();
    for name in names {
        match cfg.env(&name).filter(|e| e.is_template()) {
            Some(t) => {
                let found = crate::forge::instances::of(forge.as_ref(), &cfg, &t.name).await?;
                all_names.extend(found.into_iter().map(|i| i.name));
            }
            None => all_names.push(name),
        }
    }
    let names = all_names;
    let now = ctx.now();
    let since = args.since.map(|m| m.resolve(now));
    let until = args.until.map(|m| m.resolve(now));
    let filtered = until.is_some() || args.release.is_some();
    let window = match since {
        Some(t) => Window { since: Some(t), at_most: MAX_WINDOW },
        None if filtered => Window::newest(SCAN),
        None => Window::newest(args.limit as usize),
    };
    let mut all = Vec::new();
    let mut holds = Vec::new();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    for name in &names {
        holds.extend(hold_events(&forge.holds(name, MAX_HOLDS).await?));
    }
    for deps in forge.deployments_in(&names, window).await? {
        for d in &deps {
            let kept =
                until.is_none_or(|u| d.request.at < u) && args.release.as_ref().is_none_or(|r| d.request.release == *r);
            if kept {
                all.push((d.clone(), history::outcome(&deps, d), history::rolled_back_by(&deps, d).map(|r| r.id)));
            }
        }
    }
    all.sort_by(|a, b| b.0.request.at.cmp(&a.0.request.at).then(b.0.id.cmp(&a.0.id)));
    all.truncate(args.limit as usize);
    let mut entries = Vec::new();
    for (d, outcome, rolled_back_by) in &all {
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
            approved_by: d.request.verdict.as_ref().map(Verdict::approved_by),
            verdict: d.request.verdict.clone(),
            description: d.statuses.last().map(|s| s.description.clone()),
            reason: d.request.reason.clone(),
        });
    }
    holds.sort_by_key(|h| std::cmp::Reverse(h.at));
    holds.truncate(args.limit as usize);
    let scope = args.env.unwrap_or_else(|| "any environment".to_string());
    let mut filters = String::new();
    if let Some(r) = &args.release {
        filters.push_str(&format!(" of release {r}"));
    }
    if let Some(t) = since {
        filters.push_str(&format!(" since {}", human::timestamp(t)));
    }
    if let Some(t) = until {
        filters.push_str(&format!(" before {}", human::timestamp(t)));
    }
    ctx.out.print(&History { deployments: entries, holds, scope, filters, now });
    Ok(Exit::Success)
}

/// What `history` answers: deployments, newest first.
#[derive(Debug, Serialize)]
struct History {
    deployments: Vec<Entry>,
    /// Holds set and cleared (`hold set`, `hold clear`), newest first.
    holds: Vec<HoldEvent>,
    /// `prod`, or `any environment`.
    #[serde(skip)]
    scope: String,
    /// ` of release 26.11.21.1 since …`, or empty.
    #[serde(skip)]
    filters: String,
    #[serde(skip)]
    now: DateTime<Utc>,
}

impl History {
    /// The hold events as a table.
    fn holds_text(&self, o: &Out) -> String {
        let rows: Vec<Vec<String>> = self
            .holds
            .iter()
            .map(|h| {
                let event = if h.event == "set" { o.bad("hold set") } else { o.good("hold cleared") };
                vec![human::when(self.now, h.at), h.environment.clone(), event, h.by.clone(), h.reason.clone()]
            })
            .collect();
        table(&["WHEN", "ENVIRONMENT", "HOLD", "SET BY", "REASON"], &rows)
    }
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

    /// The APPROVED BY cell: who counted, `—` when nobody had to, `unknown`
    /// when the record does not say.
    fn approvers_text(&self, dash: String, unknown: String) -> String {
        match &self.approved_by {
            None => unknown,
            Some(who) if who.is_empty() => dash,
            Some(who) => who.join(", "),
        }
    }

    /// What else the record's verdict says: `#3  not counted: mallory (self-review)`.
    fn notes(&self) -> Vec<String> {
        self.verdict.iter().flat_map(Verdict::notes).map(|n| format!("#{}  {n}", self.id)).collect()
    }
}

impl Render for History {
    fn text(&self, o: &Out) -> String {
        if self.deployments.is_empty() && self.holds.is_empty() && self.filters.is_empty() {
            return format!("nothing was deployed to {} yet", self.scope);
        }
        if self.deployments.is_empty() && self.holds.is_empty() {
            return format!("no deployment to {}{}", self.scope, self.filters);
        }
        if self.deployments.is_empty() {
            return self.holds_text(o);
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
                    e.approvers_text(dash(), o.dim("unknown")),
                ]
            })
            .collect();
        let mut t = table(&["ID", "WHEN", "ENVIRONMENT", "RELEASE", "FROM", "BY", "OUTCOME", "APPROVED BY"], &rows);
        let notes: Vec<String> = self.deployments.iter().flat_map(Entry::notes).collect();
        if !notes.is_empty() {
            t.push_str("\n\n");
            t.push_str(&table(&["VERDICT"], &notes.into_iter().map(|n| vec![n]).collect::<Vec<_>>()));
        }
        if !self.holds.is_empty() {
            t.push_str("\n\n");
            t.push_str(&self.holds_text(o));
        }
        t
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
                    e.approvers_text("—".into(), "unknown".into()),
                ]
            })
            .collect();
        let headers = ["Id", "Started", "Environment", "Release", "From", "By", "Outcome", "Approved by"];
        let notes: String = self
            .deployments
            .iter()
            .flat_map(Entry::notes)
            .map(|n| format!("- {}\n", crate::actions::inline(&n)))
            .collect();
        let notes = if notes.is_empty() { notes } else { format!("\n{notes}") };
        Some(format!(
            "### Deployments to {}{}\n\n{}{notes}",
            crate::actions::inline(&self.scope),
            crate::actions::inline(&self.filters),
            markdown_table(&headers, &rows)
        ))
    }
}
