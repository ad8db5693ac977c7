//! `stagegate calendar --env E [--days N]`: when E is closed in the next N
//! days — freeze windows and time outside its deploy windows, merged into
//! periods, each with its reasons — and the next moment it is open.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::{Ctx, known_env};
use crate::error::{Error, Exit};
use crate::gates::freeze;
use crate::human;
use crate::output::{Out, Render};
use crate::policy::Policy;
use crate::values::calendar::ClosedPeriod;

/// The longest look ahead: a year, a leap year included.
pub const MAX_DAYS: u32 = 366;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Environment whose calendar to show
    #[arg(long)]
    env: String,
    /// How many days ahead to look (1 to 366)
    #[arg(long, value_name = "N", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=MAX_DAYS as i64))]
    days: u32,
}

/// The closed periods of an environment in a span of days.
#[derive(Debug, Serialize)]
struct Answer {
    environment: String,
    #[serde(serialize_with = "human::rfc3339")]
    from: DateTime<Utc>,
    #[serde(serialize_with = "human::rfc3339")]
    to: DateTime<Utc>,
    closed: Vec<Closed>,
    /// `from` when open then; `null` when closed for as far as stagegate looks.
    #[serde(serialize_with = "human::rfc3339_opt")]
    next_open: Option<DateTime<Utc>>,
    #[serde(skip)]
    next_open_text: String,
}

#[derive(Debug, Serialize)]
struct Closed {
    #[serde(serialize_with = "human::rfc3339")]
    from: DateTime<Utc>,
    #[serde(serialize_with = "human::rfc3339")]
    until: DateTime<Utc>,
    /// Still closed at `until` as far as stagegate looks: `until` is a lower bound.
    open_ended: bool,
    reasons: Vec<String>,
    #[serde(skip)]
    from_text: String,
    #[serde(skip)]
    until_text: String,
}

impl From<ClosedPeriod> for Closed {
    fn from(p: ClosedPeriod) -> Closed {
        Closed {
            from: p.from,
            until: p.until,
            open_ended: p.open_ended,
            reasons: p.reasons(),
            from_text: p.from_text(),
            until_text: p.until_text(),
        }
    }
}

pub fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    let env = known_env(&policy, &args.env)?;
    let (from, calendar) = (ctx.now(), freeze::calendar(env));
    let to = from + Duration::days(args.days.into());
    let next_open = calendar.next_open(from);
    let next_open_text = match (next_open, calendar.closed_at(from)) {
        (_, None) => "now".to_string(),
        (None, Some(p)) => format!("not before {}", p.until_text()),
        (Some(_), Some(p)) => p.until_text(),
    };
    ctx.out.print(&Answer {
        environment: env.name.clone(),
        from,
        to,
        closed: calendar.periods(from, to).into_iter().map(Closed::from).collect(),
        next_open,
        next_open_text,
    });
    Ok(Exit::Success)
}

impl Render for Answer {
    fn text(&self, o: &Out) -> String {
        let span = format!("{} to {}", self.from.format("%Y-%m-%d %H:%M UTC"), self.to.format("%Y-%m-%d %H:%M UTC"));
        let mut t = match self.closed.len() {
            0 => format!("{} is open all the time from {span}\n", o.bold(&self.environment)),
            n => format!("{} is closed {n} time(s) from {span}:\n", o.bold(&self.environment)),
        };
        for c in &self.closed {
            let until = if c.open_ended { format!("at least {}", c.until_text) } else { c.until_text.clone() };
            t.push_str(&format!("  {} {} → {until}\n", o.bad("✗"), c.from_text));
            for r in &c.reasons {
                t.push_str(&format!("      {r}\n"));
            }
        }
        t.push_str(&format!("next open: {}", self.next_open_text));
        t
    }
}
