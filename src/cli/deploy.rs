//! `stagegate deploy --env E --ref REF [--release ID]`: a direct deployment.

use super::{Ctx, FreezeOverride, Who, resolve_env};
use crate::error::{Error, Exit, InputError, check_release_id};
use crate::policy::{GitRef, Policy};
use crate::run::{check_hook_safe, check_sha, direct};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Target environment
    #[arg(long)]
    env: String,
    /// `main`, `refs/heads/release/v1`, `refs/tags/26.11.21.1` [default: $GITHUB_REF]
    #[arg(long = "ref", env = "GITHUB_REF", value_name = "REF")]
    git_ref: String,
    /// Release id to record [default: the first 12 digits of the sha]
    #[arg(long)]
    release: Option<String>,
    /// Commit being deployed [default: $GITHUB_SHA, else `git rev-parse REF` here]
    #[arg(long, env = "GITHUB_SHA")]
    sha: Option<String>,
    #[command(flatten)]
    who: Who,
    #[command(flatten)]
    wait: super::promote::WaitFor,
    #[command(flatten)]
    freeze: FreezeOverride,
    /// ServiceNow change request approving this deployment (environments with `change: required`)
    #[arg(long, value_name = "CHG")]
    change: Option<String>,
}

/// The commit a ref names in the current repository, if there is one. The ref
/// is an argument to git, never part of a shell string.
fn rev_parse(r: &GitRef) -> Option<String> {
    let spec = match r {
        GitRef::Branch(b) => format!("refs/heads/{b}^{{commit}}"),
        GitRef::Tag(t) => format!("refs/tags/{t}^{{commit}}"),
    };
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--verify", "--quiet", "--end-of-options", &spec])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let sha = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !sha.is_empty()).then_some(sha)
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    resolve_env(&policy, &args.env)?;
    let git_ref = GitRef::parse(&args.git_ref).map_err(InputError::BadRef)?;
    // `--env feature --ref feature/login`: the login instance of `feature`.
    let target = cfg.resolve_for_ref(&args.env, &git_ref).map_err(InputError::from)?;
    let (env, name, instance) = (target.rules(), target.name(), target.template().is_some());
    check_hook_safe("ref", git_ref.name())?;
    if let Some(s) = &args.sha {
        check_sha(s)?;
    }
    let sha = args.sha.clone().or_else(|| rev_parse(&git_ref));
    let release = match (&args.release, &sha) {
        (Some(r), _) => r.clone(),
        (None, Some(s)) => crate::values::sha::ShortSha::new(s).into(),
        (None, None) => {
            return Err(Error::invalid(
                "no release id: give --release, or a --sha to name the release after",
                "e.g. --release 26.11.21.1",
            ));
        }
    };
    check_release_id(&release)?;
    check_hook_safe("release id", &release)?;
    let req = direct::DeployRequest {
        env: name,
        instance,
        git_ref: git_ref.clone(),
        release,
        sha,
        actor: args.who.actor()?,
        run_id: args.who.run_id.clone(),
        override_reason: args.freeze.reason()?,
        change: args.change,
    };
    args.wait.attempts(ctx, &cfg, &req.env, async |r| direct::deploy(r, &policy, env, &req).await).await
}
