//! `stagegate journal upload FILE --cluster C`: one journal into the store.

use std::path::PathBuf;

use serde_json::json;

use super::{Common, Ctx, open_store, print_effects};
use crate::config::Config;
use crate::error::{Error, Exit};
use crate::gates::servicenow::{ServiceNow, ServiceNowError};
use crate::journal::upload::{Request, authorize, upload};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The journal file; it is never changed or removed
    file: PathBuf,
    #[command(flatten)]
    writer: Writer,
}

/// Who uploads, shared by `upload` and `watch-dir`.
#[derive(Debug, clap::Args)]
pub struct Writer {
    /// The modelling cluster uploading (must be listed under journal.writers)
    #[arg(long)]
    pub cluster: String,
    /// Mandators whose changes the journal carries [default: all of the cluster's]
    #[arg(long, value_delimiter = ',')]
    pub mandators: Vec<String>,
    /// The approved ServiceNow change (required with change_approval: servicenow)
    #[arg(long, value_name = "CHG")]
    pub change: Option<String>,
}

/// With `change_approval: servicenow`, the change must be approved and in its window.
pub async fn approve_change(cfg: &Config, change: Option<&str>) -> Result<(), Error> {
    if cfg.journal.change_approval.as_deref() != Some("servicenow") {
        return Ok(());
    }
    let number = change.ok_or(ServiceNowError::ChangeRequired)?;
    let sn = ServiceNow::from_env(cfg.servicenow.as_ref().map(|s| s.instance.as_str()))?;
    sn.check_change(number, crate::clock::now()).await?;
    Ok(())
}

pub async fn run(ctx: &Ctx, common: &Common, args: Args) -> Result<Exit, Error> {
    let cfg = common.load(ctx)?;
    let w = args.writer;
    let mandators = authorize(&cfg.journal, &w.cluster, &w.mandators)?;
    approve_change(&cfg, w.change.as_deref()).await?;
    let store = open_store(ctx, &cfg).await?;
    let req = Request {
        cluster: w.cluster,
        change: w.change,
        quiet: false,
        notes: std::sync::Arc::new(crate::notes::Stderr),
    };
    let m = upload(store.clone(), &cfg.journal, &args.file, &req, mandators).await?;
    if ctx.out.json() {
        ctx.out.emit(&json!({
            "version": m.version,
            "sha256": m.sha256,
            "size": m.size,
            "file": m.file,
            "cluster": m.cluster,
            "dry_run": ctx.dry_run,
            "effects": ctx.log.entries(),
        }));
    } else if ctx.dry_run {
        print_effects(ctx);
    } else {
        println!(
            "{} {} as {} ({} bytes, sha256 {}) to {}",
            ctx.out.good("uploaded"),
            args.file.display(),
            ctx.out.bold(&m.version),
            m.size,
            m.sha256,
            store.describe()
        );
    }
    Ok(Exit::Success)
}
