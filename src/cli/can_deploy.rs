//! `stagegate can-deploy --env E --ref REF`: does the ref satisfy E's branch rules?

use serde::Serialize;

use super::{Ctx, known_env};
use crate::error::{Error, Exit, InputError};
use crate::output::{Out, Output, Render, output};
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
    let (matched, reasons) = match &verdict {
        RefVerdict::Allowed(p) => (Some(p.clone()), vec![]),
        RefVerdict::Refused(why) => (None, vec![why.message().to_owned()]),
    };
    ctx.out.print(&Answer {
        allowed,
        environment: args.env,
        git_ref: args.git_ref,
        kind: r.kind(),
        name: r.name().to_owned(),
        shown: r.to_string(),
        matched,
        reasons,
    });
    Ok(if allowed { Exit::Success } else { Exit::Refused })
}

/// Whether the ref may deploy to the environment, and why.
#[derive(Debug, Serialize)]
struct Answer {
    allowed: bool,
    environment: String,
    /// As given.
    #[serde(rename = "ref")]
    git_ref: String,
    /// `branch` or `tag`.
    kind: &'static str,
    name: String,
    /// `branch main`, for the text.
    #[serde(skip)]
    shown: String,
    /// The pattern it matched.
    matched: Option<String>,
    reasons: Vec<String>,
}

impl Render for Answer {
    fn text(&self, o: &Out) -> String {
        match &self.matched {
            Some(p) => format!("{} {} may deploy to {} (matches `{p}`)", o.good("✓"), self.shown, self.environment),
            None => format!("{} {}", o.bad("✗"), self.reasons.join("; ")),
        }
    }

    fn outputs(&self) -> Vec<Output> {
        vec![output("allowed", if self.allowed { "true" } else { "false" })]
    }
}
