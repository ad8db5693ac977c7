//! `stagegate journal promote --from L1 --to L2`: only what L1 imported, by CAS.

use serde::Serialize;

use super::{Common, Ctx, open_kv};
use crate::actions::inline;
use crate::error::{Error, Exit};
use crate::journal::lanes::{Lanes, Promotion};
use crate::output::{Out, Output, Render, output, would};

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
    ctx.out.print(&Promoted { promotion: p, dry_run: ctx.dry_run, effects: ctx.log.entries() });
    Ok(Exit::Success)
}

/// What `journal promote` moved (or found already there).
#[derive(Debug, Serialize)]
struct Promoted {
    #[serde(flatten)]
    promotion: Promotion,
    dry_run: bool,
    effects: Vec<String>,
}

impl Render for Promoted {
    fn text(&self, o: &Out) -> String {
        let p = &self.promotion;
        if !p.changed {
            return format!("{} already holds {}: nothing to do", p.to, p.version);
        }
        if self.dry_run {
            return would(&self.effects);
        }
        let was = p.previous.as_deref().unwrap_or("nothing");
        format!("{} {} from {} to {} (was {was})", o.good("promoted"), p.version, p.from, p.to)
    }

    fn summary(&self) -> Option<String> {
        let p = &self.promotion;
        let what = match (p.changed, self.dry_run) {
            (false, _) => format!("lane {} already holds `{}`: nothing to do", p.to, p.version),
            (true, true) => format!("would promote `{}` from lane {} to {}", p.version, p.from, p.to),
            (true, false) => format!(
                "promoted `{}` from lane {} to {} (was {})",
                p.version,
                p.from,
                p.to,
                p.previous.as_deref().unwrap_or("nothing")
            ),
        };
        Some(format!("- stagegate journal: {}", inline(&what)))
    }

    fn outputs(&self) -> Vec<Output> {
        vec![output("version", &self.promotion.version)]
    }
}
