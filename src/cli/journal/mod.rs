//! `stagegate journal …`: the journal pipeline.

mod lane_policy;
mod promote;
mod seed;
mod status;
mod trail;
mod upload;
mod versions;
mod watch;
mod watch_dir;

use std::sync::Arc;

use clap::Subcommand;

use super::Ctx;
use crate::config::Config;
use crate::error::{Error, Exit};
use crate::journal::kv::{self, Kv};
use crate::journal::store::{self, Store};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

/// Options of every journal command.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// S3 endpoint for S3-compatible servers; wins over journal.s3.endpoint and AWS_ENDPOINT_URL
    #[arg(long, global = true, value_name = "URL")]
    endpoint_url: Option<String>,
}

impl Common {
    /// The config, with the command line's overrides applied.
    fn load(&self, ctx: &Ctx) -> Result<Config, Error> {
        let mut cfg = ctx.load_config()?;
        if let Some(url) = &self.endpoint_url {
            cfg.journal.s3.get_or_insert_with(Default::default).endpoint = Some(url.clone());
        }
        Ok(cfg)
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Upload a journal (writer clusters only)
    Upload(upload::Args),
    /// The watch script: upload journals as they appear or change in a directory
    WatchDir(watch_dir::Args),
    /// List the journal versions in the store, newest first
    Versions(versions::Args),
    /// Set the lane keys in one transaction: lane 0 = Vn, lane 1 = Vn-1, …
    Seed(seed::Args),
    /// React to a lane's changes: download, verify, import, record
    Watch(watch::Args),
    /// Move the version a lane imported successfully to the next lane
    Promote(promote::Args),
    /// Lanes, assigned versions, import state and age
    Status(status::Args),
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    match args.command {
        Command::Upload(a) => upload::run(ctx, &args.common, a).await,
        Command::WatchDir(a) => watch_dir::run(ctx, &args.common, a).await,
        Command::Versions(a) => versions::run(ctx, &args.common, a).await,
        Command::Seed(a) => seed::run(ctx, &args.common, a).await,
        Command::Watch(a) => watch::run(ctx, &args.common, a).await,
        Command::Promote(a) => promote::run(ctx, &args.common, a).await,
        Command::Status(a) => status::run(ctx, &args.common, a).await,
    }
}

/// The configured store, wrapped for `--dry-run`.
async fn open_store(ctx: &Ctx, cfg: &Config) -> Result<Arc<dyn Store>, Error> {
    Ok(store::open(&cfg.journal, &ctx.writes()).await?)
}

/// The configured KV, wrapped for `--dry-run`.
fn open_kv(ctx: &Ctx, cfg: &Config) -> Result<Arc<dyn Kv>, Error> {
    Ok(kv::open(&cfg.journal, &ctx.writes())?)
}
