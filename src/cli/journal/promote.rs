//! `stagegate journal promote --from L1 --to L2`: only what L1 imported, by CAS.

use serde_json::json;

use super::{Common, Ctx, open_kv, print_effects};
use crate::error::{Error, Exit};
use crate::journal::lanes::Lanes;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The lane whose successfully imported version moves on
    #[arg(long)]
    from: String,
    /// The next lane
    #[arg(long)]
    to: String,
}

pub async fn run(ctx: &Ctx, common: &Common, args: Args) -> Result<Exit, Error> {
    let cfg = common.load(ctx)?;
    let lanes = Lanes::new(open_kv(ctx, &cfg)?, &cfg.journal);
    let p = lanes.promote(&args.from, &args.to).await?;
    if ctx.out.json() {
        ctx.out.emit(&json!({
            "version": p.version, "from": p.from, "to": p.to, "previous": p.previous,
            "changed": p.changed, "dry_run": ctx.dry_run, "effects": ctx.log.entries(),
        }));
    } else if ctx.dry_run && p.changed {
        print_effects(ctx);
    } else if p.changed {
        let was = p.previous.as_deref().unwrap_or("nothing");
        println!("{} {} from {} to {} (was {was})", ctx.out.good("promoted"), p.version, p.from, p.to);
    } else {
        println!("{} already holds {}: nothing to do", p.to, p.version);
    }
    Ok(Exit::Success)
}
