//! `stagegate release tag`: create the next tag. Two runs racing on the same
//! day both read "next is .3"; one creates it, the other meets "already exists",
//! re-reads and takes .4. Bounded, so a stuck repository does not spin forever.

use super::{DateArgs, Done, next_version};
use crate::cli::Ctx;
use crate::error::{Error, Exit};
use crate::forge::{ForgeError, ForgeKind, NewTag, TagOutcome};

const ATTEMPTS: u32 = 25;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Commit to tag [default: $GITHUB_SHA; on the local forge, the checkout's HEAD]
    #[arg(long)]
    sha: Option<String>,
    #[command(flatten)]
    date: DateArgs,
}

/// A value that no other run shares: it marks the tag object as ours.
fn nonce() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let run = std::env::var("GITHUB_RUN_ID").unwrap_or_else(|_| "local".into());
    format!("{run}-{}-{nanos:x}", std::process::id())
}

fn head_of_checkout() -> Option<String> {
    let out = std::process::Command::new("git").args(["rev-parse", "--verify", "HEAD"]).output().ok()?;
    let sha = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && sha.len() == 40).then_some(sha)
}

fn valid_sha(s: &str) -> bool {
    (7..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let forge = ctx.forge()?;
    let given = args.sha.clone().or_else(|| std::env::var("GITHUB_SHA").ok().filter(|s| !s.is_empty()));
    let sha = match given {
        Some(s) if valid_sha(&s) => forge.resolve_commit(&s).await?,
        Some(s) => return Err(Error::invalid(format!("`{s}` is not a commit sha"), "give 7 to 40 hex digits")),
        None if forge.kind() == ForgeKind::Local => head_of_checkout()
            .ok_or_else(|| Error::invalid("no commit to tag: not in a git checkout and no --sha", "pass --sha SHA"))?,
        None => return Err(Error::invalid("no commit to tag: GITHUB_SHA is not set", "pass --sha SHA")),
    };
    let nonce = nonce();
    for attempt in 1..=ATTEMPTS {
        let next = next_version(&cfg, forge.as_ref(), &args.date).await?;
        let tag = NewTag {
            name: next.tag.clone(),
            commit: sha.clone(),
            message: format!("Release {}", next.tag),
            nonce: nonce.clone(),
        };
        match forge.create_tag(&tag).await? {
            TagOutcome::Created(_) => {
                let done = Done {
                    sha: Some(sha),
                    attempts: Some(attempt),
                    ..Done::new(ctx, "tagged", &next.tag, &next.version)
                };
                ctx.out.print(&done);
                return Ok(Exit::Success);
            }
            TagOutcome::Taken => tracing::info!("tag {} was taken by another run; taking the next", next.tag),
        }
    }
    Err(ForgeError::Contended {
        what: "create a unique tag".into(),
        attempts: ATTEMPTS,
        help: "many runs are tagging at once; run again".into(),
    }
    .into())
}
