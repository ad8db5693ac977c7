//! `stagegate journal upload FILE --cluster C`: one journal into the store.

use std::path::PathBuf;

use serde::Serialize;

use super::trail::{Op, record};
use super::{Common, Ctx, open_store};
use crate::actions::{cell, fields, inline};
use crate::config::Config;
use crate::effects::Done;
use crate::error::{Error, Exit};
use crate::gates::servicenow::{ServiceNow, ServiceNowError};
use crate::human;
use crate::journal::upload::{Request, authorize, upload};
use crate::output::{Out, Output, Render, output};

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
    if cfg.journal.change_approval != Some(crate::config::ChangeApproval::ServiceNow) {
        return Ok(());
    }
    let number = change.ok_or(ServiceNowError::ChangeRequired)?;
    let sn = ServiceNow::from_env(cfg.servicenow.as_ref().map(|s| s.instance.as_str()))?;
    let fields = cfg.servicenow.as_ref().map_or(&[][..], |s| s.matching.as_slice());
    sn.check_change(number, crate::clock::now(), fields).await?;
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
    let detail = Some(match &req.change {
        Some(chg) => format!("cluster {}, change {chg}", m.cluster),
        None => format!("cluster {}", m.cluster),
    });
    let op = Op { operation: "upload", lane: None, version: Some(&m.version), outcome: "succeeded", detail };
    record(ctx, store.as_ref(), op).await;
    ctx.out.print(&Uploaded {
        file: args.file.display().to_string(),
        store: store.describe(),
        version: m.version,
        sha256: m.sha256,
        size: m.size,
        cluster: m.cluster,
        uploaded_at: crate::human::timestamp(m.uploaded_at),
        done: ctx.done(),
    });
    Ok(Exit::Success)
}

/// What `journal upload` stored, and where.
#[derive(Debug, Serialize)]
struct Uploaded {
    version: String,
    sha256: String,
    /// Bytes.
    size: u64,
    /// The file as given on the command line.
    file: String,
    cluster: String,
    /// The store it went to (`s3://bucket/prefix`, `file://…`).
    store: String,
    uploaded_at: String,
    #[serde(flatten)]
    done: Done,
}

impl Render for Uploaded {
    fn text(&self, o: &Out) -> String {
        if let Some(would) = self.done.would() {
            return would;
        }
        format!(
            "{} {} as {} ({}, sha256 {}) to {}",
            o.good("uploaded"),
            self.file,
            o.bold(&self.version),
            human::size(self.size),
            self.sha256,
            self.store
        )
    }

    fn summary(&self) -> Option<String> {
        let verb = self.done.verb("uploaded", "would upload");
        let rows = [
            ("Version", format!("`{}`", cell(&self.version))),
            ("File", cell(&self.file)),
            ("Size", human::size(self.size)),
            ("Sha256", format!("`{}`", cell(&self.sha256))),
            ("Cluster", cell(&self.cluster)),
            ("Store", cell(&self.store)),
        ];
        Some(format!("### Journal {verb}: {}\n\n{}", inline(&self.version), fields(&rows)))
    }

    fn outputs(&self) -> Vec<Output> {
        vec![output("version", &self.version), output("sha256", &self.sha256)]
    }
}
