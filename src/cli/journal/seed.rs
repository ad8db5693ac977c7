//! `stagegate journal seed`: lane i = V(n-i), all lane keys in one transaction.

use serde::Serialize;

use super::{Common, Ctx, open_kv, open_store};
use crate::actions::{inline, markdown_table};
use crate::error::{Error, Exit};
use crate::journal::lanes::Lanes;
use crate::journal::upload::versions;
use crate::output::{Annotation, Level, Out, Render, would};

#[derive(Debug, clap::Args)]
pub struct Args {}

/// What `journal seed` set: each lane and its version, newest first.
#[derive(Debug, Serialize)]
struct Seeded {
    lanes: Vec<LaneVersion>,
    /// Lanes left as they were, for want of versions in the store.
    #[serde(skip)]
    short: usize,
    dry_run: bool,
    effects: Vec<String>,
}

#[derive(Debug, Serialize)]
struct LaneVersion {
    lane: String,
    version: String,
}

pub async fn run(ctx: &Ctx, common: &Common, _args: Args) -> Result<Exit, Error> {
    let cfg = common.load(ctx)?;
    let store = open_store(ctx, &cfg).await?;
    let lanes = Lanes::new(open_kv(ctx, &cfg)?, &cfg.journal);
    let list = versions(store.as_ref()).await?;
    let plan = lanes.seed(&list).await?;
    ctx.out.print(&Seeded {
        short: cfg.journal.lanes.len().saturating_sub(plan.len()),
        lanes: plan.into_iter().map(|(lane, version)| LaneVersion { lane, version }).collect(),
        dry_run: ctx.dry_run,
        effects: ctx.log.entries(),
    });
    Ok(Exit::Success)
}

impl Render for Seeded {
    fn text(&self, _: &Out) -> String {
        if self.dry_run {
            return would(&self.effects);
        }
        self.lanes.iter().map(|l| format!("{:<8} ← {}\n", l.lane, l.version)).collect()
    }

    fn summary(&self) -> Option<String> {
        let rows: Vec<Vec<String>> = self.lanes.iter().map(|l| vec![l.lane.clone(), l.version.clone()]).collect();
        let verb = if self.dry_run { "would seed" } else { "seeded" };
        Some(format!("### Journal lanes {}\n\n{}", inline(verb), markdown_table(&["Lane", "Version"], &rows)))
    }

    fn annotations(&self) -> Vec<Annotation> {
        if self.short == 0 {
            return Vec::new();
        }
        let message =
            format!("only {} version(s) in the store: {} lane(s) left as they were", self.lanes.len(), self.short);
        vec![Annotation { level: Level::Warning, title: "stagegate journal seed".into(), message }]
    }
}
