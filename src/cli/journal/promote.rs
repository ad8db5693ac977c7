//! `stagegate journal promote --from L1 --to L2`: only what L1 imported, by
//! CAS — and only as the environment named L2 allows, when the config has
//! one (freeze, change, approvals: see [`super::lane_policy`]).

use serde::Serialize;

use super::lane_policy::{self, Ask, Passed};
use super::trail::{Op, record};
use super::{Common, Ctx, open_kv, open_store};
use crate::actions::inline;
use crate::cli::{FreezeOverride, Who};
use crate::effects::Done;
use crate::error::{Error, Exit};
use crate::journal::lanes::{Candidate, Lanes, Promotion};
use crate::output::{Out, Output, Render, output};
use crate::policy::Policy;
use crate::refusal::Refusal;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The lane whose successfully imported version moves on
    #[arg(long)]
    from: String,
    /// The next lane
    #[arg(long)]
    to: String,
    /// ServiceNow change request, where the environment named like the lane has `change: required`
    #[arg(long, value_name = "CHG")]
    change: Option<String>,
    #[command(flatten)]
    who: Who,
    #[command(flatten)]
    freeze: FreezeOverride,
}

pub async fn run(ctx: &Ctx, common: &Common, args: Args) -> Result<Exit, Error> {
    let cfg = common.load(ctx)?;
    let lanes = Lanes::new(open_kv(ctx, &cfg)?, &cfg.journal);
    let c = lanes.candidate(&args.from, &args.to).await?;
    let mut checks = Vec::new();
    if c.moves() {
        let policy = Policy::new(&cfg);
        let (actors, reason) = (args.who.actors()?, args.freeze.reason()?);
        let ask = Ask {
            run_id: &args.who.run_id,
            actors: &actors,
            change: args.change.as_deref(),
            override_reason: reason.as_deref(),
        };
        let verdict = lane_policy::check(ctx, &policy, &args.to, &ask).await?;
        if !verdict.blockers.is_empty() {
            let why: Vec<String> = verdict.blockers.iter().map(ToString::to_string).collect();
            trail(ctx, &cfg, &args, &c.version, "refused", Some(why.join("; "))).await?;
            ctx.out.print(&Refused::new(&c, verdict.environment, verdict.blockers));
            return Ok(Exit::Refused);
        }
        checks = verdict.passed;
    }
    let p = lanes.promote(c).await?;
    if p.changed {
        let detail = Some(format!("from lane {}", p.from));
        trail(ctx, &cfg, &args, &p.version, "succeeded", detail).await?;
    }
    ctx.out.print(&Promoted { promotion: p, checks, done: ctx.done() });
    Ok(Exit::Success)
}

/// Records the promotion in the store's audit trail: who, which lanes, the
/// change and a freeze override's reason.
async fn trail(
    ctx: &Ctx,
    cfg: &crate::config::Config,
    args: &Args,
    version: &str,
    outcome: &str,
    detail: Option<String>,
) -> Result<(), Error> {
    if ctx.writes().is_dry_run() {
        return Ok(());
    }
    let mut detail: Vec<String> = detail.into_iter().collect();
    detail.extend(args.change.as_ref().map(|c| format!("change {c}")));
    detail.extend(args.freeze.reason.as_ref().map(|r| format!("freeze overridden: {r}")));
    let store = open_store(ctx, cfg).await?;
    let detail = (!detail.is_empty()).then(|| detail.join("; "));
    let op = Op { operation: "promote", lane: Some(&args.to), version: Some(version), outcome, detail };
    record(ctx, store.as_ref(), op).await;
    Ok(())
}

/// What `journal promote` moved (or found already there).
#[derive(Debug, Serialize)]
struct Promoted {
    #[serde(flatten)]
    promotion: Promotion,
    /// The checks of the environment named like the target lane, all passed.
    checks: Vec<Passed>,
    #[serde(flatten)]
    done: Done,
}

impl Render for Promoted {
    fn text(&self, o: &Out) -> String {
        let p = &self.promotion;
        if !p.changed {
            return format!("{} already holds {}: nothing to do", p.to, p.version);
        }
        let checks: String =
            self.checks.iter().map(|c| format!("{} {:<10} {}\n", o.good("✓"), c.check, c.detail)).collect();
        if let Some(would) = self.done.would() {
            return format!("{checks}{would}");
        }
        let was = p.previous.as_deref().unwrap_or("nothing");
        format!("{checks}{} {} from {} to {} (was {was})", o.good("promoted"), p.version, p.from, p.to)
    }

    fn summary(&self) -> Option<String> {
        let p = &self.promotion;
        let what = match (p.changed, self.done.is_described()) {
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

/// A promotion the environment named like the target lane refused (exit 3):
/// every blocker, each with its stable code; the first is `refusal`.
#[derive(Debug, Serialize)]
struct Refused {
    outcome: &'static str,
    version: String,
    from: String,
    to: String,
    /// The environment whose policy refused.
    environment: Option<String>,
    refusal: Option<Refusal>,
    blockers: Vec<Refusal>,
}

impl Refused {
    fn new(c: &Candidate, environment: Option<String>, blockers: Vec<Refusal>) -> Refused {
        Refused {
            outcome: "refused",
            version: c.version.clone(),
            from: c.from.clone(),
            to: c.to.clone(),
            environment,
            refusal: blockers.first().cloned(),
            blockers,
        }
    }
}

impl Render for Refused {
    fn text(&self, o: &Out) -> String {
        let env = self.environment.as_deref().unwrap_or(&self.to);
        let mut t = format!(
            "{} {} does not move from {} to {}: environment {env} refuses the promotion\n",
            o.bad("✗"),
            self.version,
            self.from,
            self.to
        );
        for b in &self.blockers {
            t.push_str(&format!("  - {b} [{}]\n", b.code()));
        }
        t
    }

    fn summary(&self) -> Option<String> {
        let why: Vec<String> = self.blockers.iter().map(|b| inline(b.message())).collect();
        Some(format!(
            "- stagegate journal: promotion of `{}` from lane {} to {} refused: {}",
            inline(&self.version),
            self.from,
            self.to,
            why.join("; ")
        ))
    }

    fn outputs(&self) -> Vec<Output> {
        vec![output("refusal", self.refusal.as_ref().map_or("", Refusal::code))]
    }
}
