//! `stagegate journal status`: each lane's version, import state and age.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Common, Ctx, open_kv};
use crate::actions::markdown_table;
use crate::error::{Error, Exit};
use crate::human;
use crate::journal::lanes::{ImportState, Lanes};
use crate::output::{Out, Render, table};

#[derive(Debug, clap::Args)]
pub struct Args {}

/// Every lane: the version assigned and what became of its import.
#[derive(Debug, Serialize)]
struct Status {
    lanes: Vec<LaneStatus>,
    #[serde(skip)]
    now: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
struct LaneStatus {
    lane: String,
    version: Option<String>,
    /// The import state of the assigned version (`null` until a watcher takes it).
    state: Option<&'static str>,
    at: Option<String>,
    owner: Option<String>,
    /// The lane's last import, whichever version it was about.
    last: Option<Last>,
    #[serde(skip)]
    since: Option<DateTime<Utc>>,
    #[serde(skip)]
    state_text: String,
}

#[derive(Debug, Serialize)]
struct Last {
    version: String,
    state: &'static str,
    at: String,
}

pub async fn run(ctx: &Ctx, common: &Common, _args: Args) -> Result<Exit, Error> {
    let cfg = common.load(ctx)?;
    let lanes = Lanes::new(open_kv(ctx, &cfg)?, &cfg.journal);
    let mut docs = Vec::new();
    for lane in lanes.names() {
        let (version, _) = lanes.assigned(lane).await?;
        let (state, _) = lanes.state(lane).await?;
        docs.push(lane_status(lane, version, state));
    }
    ctx.out.print(&Status { lanes: docs, now: ctx.now() });
    Ok(Exit::Success)
}

fn lane_status(lane: &str, version: Option<String>, state: Option<ImportState>) -> LaneStatus {
    // The state belongs to the assigned version only if it is about it.
    let current = state.as_ref().filter(|s| Some(&s.version) == version.as_ref());
    let (state_text, since) = match (current, &state) {
        (Some(s), _) => (s.state.as_str().to_string(), Some(s.at)),
        (None, Some(s)) if version.is_some() => {
            (format!("pending (last {} {})", s.state.as_str(), s.version), Some(s.at))
        }
        (None, _) if version.is_some() => ("pending".into(), None),
        _ => ("-".into(), None),
    };
    LaneStatus {
        lane: lane.to_owned(),
        state: current.map(|s| s.state.as_str()),
        at: current.map(|s| human::timestamp(s.at)),
        owner: current.map(|s| s.owner.clone()),
        last: state.as_ref().map(|s| Last {
            version: s.version.clone(),
            state: s.state.as_str(),
            at: human::timestamp(s.at),
        }),
        version,
        since,
        state_text,
    }
}

impl Status {
    fn rows(&self) -> Vec<Vec<String>> {
        self.lanes
            .iter()
            .map(|l| {
                vec![
                    l.lane.clone(),
                    l.version.clone().unwrap_or_else(|| "-".into()),
                    l.state_text.clone(),
                    l.since.map_or_else(|| "-".into(), |t| human::age(self.now, t)),
                ]
            })
            .collect()
    }
}

impl Render for Status {
    fn text(&self, _: &Out) -> String {
        table(&["LANE", "VERSION", "STATE", "AGE"], &self.rows())
    }

    fn summary(&self) -> Option<String> {
        Some(format!("### Journal lanes\n\n{}", markdown_table(&["Lane", "Version", "State", "Age"], &self.rows())))
    }
}
