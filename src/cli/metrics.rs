//! `stagegate metrics [--env E] [--since 30d] [--until T]`: the four DORA keys
//! per environment, from the forge's deployment records — deployment
//! frequency, lead time for changes (the commit's time, as the forge knows
//! it, to live), change failure rate and time to restore. Under Actions the
//! step summary charts deployments per week (Mermaid).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;

use super::values::{Moment, moment};
use super::{Ctx, known_env};
use crate::actions::markdown_table;
use crate::config::duration;
use crate::error::{Error, Exit, InputError};
use crate::evidence::dora::{self, Keys};
use crate::output::{Out, Render, table};
use crate::policy::Policy;

/// At most this many weeks are charted (the newest).
const CHART_WEEKS: usize = 26;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this environment
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
    /// From this time on: RFC 3339, a day (2026-12-01, UTC) or a span back from now
    #[arg(long, value_name = "TIME", value_parser = moment, default_value = "30d")]
    since: Moment,
    /// Up to this time [default: now]
    #[arg(long, value_name = "TIME", value_parser = moment)]
    until: Option<Moment>,
}

/// What `metrics` answers.
#[derive(Debug, Serialize)]
struct Metrics {
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    environments: Vec<Keys>,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    let now = ctx.now();
    let (since, until) = (args.since.resolve(now), args.until.map_or(now, |m| m.resolve(now)));
    if since > until {
        return Err(InputError::Invalid {
            message: "--since is after --until".into(),
            help: Some("give the earlier time to --since, e.g. --since 90d".into()),
        }
        .into());
    }
    let names: Vec<&str> = match &args.env {
        Some(e) => vec![known_env(&policy, e)?.name.as_str()],
        None => policy.graph.ordered(),
    };
    let forge = ctx.forge()?;
    let mut histories = Vec::new();
    for name in names {
        histories.push((name, forge.deployments(name).await?));
    }
    // One read per commit that went live in the window, whatever the number
    // of environments it went to.
    let mut commit_times = BTreeMap::new();
    let live = histories.iter().flat_map(|(_, deps)| deps).filter(|d| d.request.at >= since && d.request.at <= until);
    for d in live.filter(|d| d.succeeded_at().is_some()) {
        let Some(sha) = &d.request.sha else { continue };
        if !commit_times.contains_key(sha)
            && let Some(t) = forge.commit_time(sha).await?
        {
            commit_times.insert(sha.clone(), t);
        }
    }
    let environments =
        histories.iter().map(|(name, deps)| dora::keys(name, deps, &commit_times, since, until)).collect();
    ctx.out.print(&Metrics { since, until, environments });
    Ok(Exit::Success)
}

/// `1d2h`, `—` for none.
fn span(seconds: Option<i64>) -> String {
    seconds.map_or_else(|| "—".into(), |s| duration::format(std::time::Duration::from_secs(s.max(0).unsigned_abs())))
}

/// `33.3%`, `—` for none.
fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".into(), |r| format!("{:.1}%", r * 100.0))
}

impl Metrics {
    fn rows(&self) -> Vec<Vec<String>> {
        self.environments
            .iter()
            .map(|k| {
                vec![
                    k.environment.clone(),
                    k.deployments.to_string(),
                    format!("{:.2}", k.deployment_frequency_per_week),
                    span(k.lead_time_median_seconds),
                    percent(k.change_failure_rate),
                    span(k.time_to_restore_median_seconds),
                ]
            })
            .collect()
    }

    /// The Mondays from the window's first week to its last (the newest
    /// [`CHART_WEEKS`]).
    fn weeks(&self) -> Vec<NaiveDate> {
        let monday = |t: DateTime<Utc>| {
            let d = t.date_naive();
            d - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday()))
        };
        let (first, last) = (monday(self.since), monday(self.until));
        let mut weeks: Vec<NaiveDate> = first
            .iter_weeks()
            .take_while(|w| *w <= last)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .take(CHART_WEEKS)
            .collect();
        weeks.reverse();
        weeks
    }
}

/// Text for a Mermaid title in quotes: letters, digits and `-_.` kept,
/// anything else (quotes, brackets, Markdown, line breaks) as `_`.
fn mermaid_text(s: &str) -> String {
    s.chars().map(|c| if c.is_alphanumeric() || "-_. ".contains(c) { c } else { '_' }).collect()
}

const HEADERS: [&str; 6] = ["ENVIRONMENT", "DEPLOYMENTS", "PER WEEK", "LEAD TIME", "FAILURE RATE", "TIME TO RESTORE"];

impl Render for Metrics {
    fn text(&self, _: &Out) -> String {
        let range = format!("{} to {}", crate::human::timestamp(self.since), crate::human::timestamp(self.until));
        format!("DORA metrics, {range} (medians)\n\n{}", table(&HEADERS, &self.rows()))
    }

    fn summary(&self) -> Option<String> {
        let headers = ["Environment", "Deployments", "Per week", "Lead time", "Failure rate", "Time to restore"];
        let mut md = format!("### DORA metrics\n\n{}", markdown_table(&headers, &self.rows()));
        let weeks = self.weeks();
        let axis: Vec<String> = weeks.iter().map(|w| format!("\"{}\"", w.format("%m-%d"))).collect();
        for k in &self.environments {
            let bars: Vec<String> = weeks.iter().map(|w| k.per_week.get(w).copied().unwrap_or(0).to_string()).collect();
            md.push_str(&format!(
                "\n```mermaid\nxychart-beta\n    title \"Deployments per week: {}\"\n    x-axis [{}]\n    y-axis \"Deployments\"\n    bar [{}]\n```\n",
                mermaid_text(&k.environment),
                axis.join(", "),
                bars.join(", ")
            ));
        }
        Some(md)
    }
}

#[cfg(test)]
mod tests {
    use super::mermaid_text;

    #[test]
    fn a_chart_title_cannot_break_out_of_its_quotes() {
        assert_eq!(mermaid_text("prod-eu.1"), "prod-eu.1");
        assert_eq!(mermaid_text("a\"]\n```<b>"), "a_______b_");
    }
}
