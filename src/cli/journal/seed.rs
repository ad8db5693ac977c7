//! `stagegate journal seed`: a first seeding sets lane i = V(n-i); seeding
//! again moves lane 0 to the newest version and every other lane only to
//! what the lane before it imported successfully. All lane keys in one
//! transaction; the answer says what moved, what stayed, and why.

use serde::Serialize;

use super::trail::{Op, record};
use super::{Common, Ctx, open_kv, open_store};
use crate::actions::{inline, markdown_table};
use crate::effects::Done;
use crate::error::{Error, Exit};
use crate::journal::lanes::Lanes;
use crate::journal::seed::{LaneSeed, Why};
use crate::journal::upload::versions;
use crate::output::{Annotation, Level, Out, Render, table};

#[derive(Debug, clap::Args)]
pub struct Args {}

/// What `journal seed` did to each lane, in lane order.
#[derive(Debug, Serialize)]
struct Seeded {
    lanes: Vec<LaneSeed>,
    #[serde(flatten)]
    done: Done,
}

pub async fn run(ctx: &Ctx, common: &Common, _args: Args) -> Result<Exit, Error> {
    let cfg = common.load(ctx)?;
    let store = open_store(ctx, &cfg).await?;
    let lanes = Lanes::new(open_kv(ctx, &cfg)?, &cfg.journal);
    let list = versions(store.as_ref()).await?;
    let lanes = lanes.seed(&list).await?;
    for l in lanes.iter().filter(|l| l.moved) {
        let detail = l.previous.as_ref().map(|was| format!("was {was}"));
        let op =
            Op { operation: "seed", lane: Some(&l.lane), version: l.version.as_deref(), outcome: "succeeded", detail };
        record(ctx, store.as_ref(), op).await;
    }
    ctx.out.print(&Seeded { lanes, done: ctx.done() });
    Ok(Exit::Success)
}

impl Seeded {
    /// Lanes a first seeding left empty, for want of versions in the store.
    fn short(&self) -> usize {
        self.lanes.iter().filter(|l| l.why == Why::NoVersionLeft).count()
    }

    /// One row per lane: lane, `moves to V (was W)` or `stays at V`, why.
    fn rows(&self, o: Option<&Out>) -> Vec<Vec<String>> {
        let paint = |s: String, moved: bool| match (o, moved) {
            (Some(o), true) => o.good(&s),
            (Some(o), false) => o.dim(&s),
            (None, _) => s,
        };
        self.lanes
            .iter()
            .map(|l| {
                let what = match (l.moved, &l.version, &l.previous) {
                    (_, None, _) => "stays empty".to_string(),
                    (true, Some(v), Some(was)) => format!("moves to {v} (was {was})"),
                    (true, Some(v), None) => format!("moves to {v}"),
                    (false, Some(v), _) => format!("stays at {v}"),
                };
                vec![l.lane.clone(), paint(what, l.moved), l.why_text()]
            })
            .collect()
    }
}

impl Render for Seeded {
    fn text(&self, o: &Out) -> String {
        if let Some(would) = self.done.would() {
            return would;
        }
        table(&["LANE", "VERSION", "WHY"], &self.rows(Some(o)))
    }

    fn summary(&self) -> Option<String> {
        let verb = self.done.verb("seeded", "would seed");
        let rows = self.rows(None);
        Some(format!("### Journal lanes {}\n\n{}", inline(verb), markdown_table(&["Lane", "Version", "Why"], &rows)))
    }

    fn annotations(&self) -> Vec<Annotation> {
        let short = self.short();
        if short == 0 {
            return Vec::new();
        }
        let message =
            format!("only {} version(s) in the store: {short} lane(s) left as they were", self.lanes.len() - short);
        vec![Annotation { level: Level::Warning, title: "stagegate journal seed".into(), message }]
    }
}
