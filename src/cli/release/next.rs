//! `stagegate release next`: the next tag and version; writes nothing.

use super::{DateArgs, next_version};
use crate::cli::Ctx;
use crate::error::{Error, Exit};
use crate::output::{Annotation, Level, Out, Output, Render, output};
use crate::version::not_semver;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    date: DateArgs,
}

/// The next tag, and a warning when its version is not semver.
#[derive(Debug, serde::Serialize)]
struct Answer {
    #[serde(flatten)]
    next: crate::version::Next,
}

impl Render for Answer {
    fn text(&self, _: &Out) -> String {
        self.next.tag.clone()
    }

    fn outputs(&self) -> Vec<Output> {
        vec![output("tag", &self.next.tag), output("version", &self.next.version)]
    }

    fn annotations(&self) -> Vec<Annotation> {
        if !not_semver(&self.next.version) {
            return Vec::new();
        }
        let message = format!(
            "{} is zero-padded calver, not valid semver: tools that require semver (cargo, npm) will refuse it",
            self.next.version
        );
        vec![Annotation { level: Level::Warning, title: "stagegate release next".into(), message }]
    }
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let forge = ctx.forge()?;
    let next = next_version(&cfg, forge.as_ref(), &args.date).await?;
    ctx.out.print(&Answer { next });
    Ok(Exit::Success)
}
