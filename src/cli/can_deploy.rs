//! `stagegate can-deploy --env E --ref REF`: does the ref satisfy E's branch rules?

use serde_json::json;

use super::{Ctx, known_env};
use crate::actions;
use crate::error::{Error, Exit, InputError};
use crate::policy::{GitRef, Policy, RefVerdict};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Target environment
    #[arg(long)]
    env: String,
    /// `main`, `refs/heads/main` or `refs/tags/26.11.21.1` [default: $GITHUB_REF]
    #[arg(long = "ref", env = "GITHUB_REF", value_name = "REF")]
    git_ref: String,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    known_env(&policy, &args.env)?;
    let r = GitRef::parse(&args.git_ref).map_err(InputError::BadRef)?;
    let verdict = policy.ref_verdict(&args.env, &r);
    let allowed = matches!(verdict, RefVerdict::Allowed(_));
    actions::set_output("allowed", if allowed { "true" } else { "false" });
    if ctx.out.json() {
        let (matched, reasons) = match &verdict {
            RefVerdict::Allowed(p) => (Some(p.clone()), vec![]),
            RefVerdict::Refused(why) => (None, vec![why.clone()]),
        };
        ctx.out.emit(&json!({
            "allowed": allowed,
            "env": args.env,
            "ref": args.git_ref,
            "kind": r.kind(),
            "name": r.name(),
            "matched": matched,
            "reasons": reasons,
        }));
    } else {
        match &verdict {
            RefVerdict::Allowed(p) => {
                println!("{} {r} may deploy to {} (matches `{p}`)", ctx.out.good("✓"), args.env)
            }
            RefVerdict::Refused(why) => println!("{} {why}", ctx.out.bad("✗")),
        }
    }
    Ok(if allowed { Exit::Success } else { Exit::Refused })
}
