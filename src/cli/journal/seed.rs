//! `stagegate journal seed`: lane i = V(n-i), all lane keys in one transaction.

use serde_json::json;

use super::{Common, Ctx, open_kv, open_store, print_effects};
use crate::error::{Error, Exit};
use crate::journal::lanes::Lanes;
use crate::journal::upload::versions;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(ctx: &Ctx, common: &Common, _args: Args) -> Result<Exit, Error> {
    let cfg = common.load(ctx)?;
    let store = open_store(ctx, &cfg).await?;
    let lanes = Lanes::new(open_kv(ctx, &cfg)?, &cfg.journal);
    let list = versions(store.as_ref()).await?;
    let plan = lanes.seed(&list).await?;
    let short = cfg.journal.lanes.len().saturating_sub(plan.len());
    if short > 0 {
        eprintln!("note: only {} version(s) in the store: {short} lane(s) left as they were", plan.len());
    }
    if ctx.out.json() {
        let lanes: Vec<_> = plan.iter().map(|(l, v)| json!({"lane": l, "version": v})).collect();
        ctx.out.emit(&json!({"lanes": lanes, "dry_run": ctx.dry_run, "effects": ctx.log.entries()}));
    } else if ctx.dry_run {
        print_effects(ctx);
    } else {
        for (lane, version) in &plan {
            println!("{lane:<8} ← {version}");
        }
    }
    Ok(Exit::Success)
}
