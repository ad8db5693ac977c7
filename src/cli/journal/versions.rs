//! `stagegate journal versions`: what the store holds, newest first.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Common, Ctx, open_store};
use crate::error::{Error, Exit};
use crate::human;
use crate::journal::upload::versions;
use crate::output::{Out, Render, table};

#[derive(Debug, clap::Args)]
pub struct Args {}

/// The versions in the store, newest first.
#[derive(Debug, Serialize)]
struct Versions {
    versions: Vec<Version>,
    #[serde(skip)]
    store: String,
    #[serde(skip)]
    now: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
struct Version {
    version: String,
    cluster: String,
    file: String,
    sha256: String,
    /// Bytes.
    size: u64,
    uploaded_at: String,
    #[serde(skip)]
    uploaded: DateTime<Utc>,
    change: Option<String>,
    mandators: Vec<String>,
}

pub async fn run(ctx: &Ctx, common: &Common, _args: Args) -> Result<Exit, Error> {
    let cfg = common.load(ctx)?;
    let store = open_store(ctx, &cfg).await?;
    let list = versions(store.as_ref()).await?;
    let versions = list
        .into_iter()
        .map(|m| Version {
            uploaded_at: human::timestamp(m.uploaded_at),
            uploaded: m.uploaded_at,
            version: m.version,
            cluster: m.cluster,
            file: m.file,
            sha256: m.sha256,
            size: m.size,
            change: m.change,
            mandators: m.mandators,
        })
        .collect();
    ctx.out.print(&Versions { versions, store: store.describe(), now: ctx.now() });
    Ok(Exit::Success)
}

impl Render for Versions {
    fn text(&self, _: &Out) -> String {
        if self.versions.is_empty() {
            return format!("no journal versions in {}", self.store);
        }
        let rows: Vec<Vec<String>> = self
            .versions
            .iter()
            .map(|m| {
                vec![
                    m.version.clone(),
                    m.cluster.clone(),
                    m.file.clone(),
                    human::size(m.size),
                    human::when(self.now, m.uploaded),
                    crate::values::sha::ShortSha::new(&m.sha256).into(),
                ]
            })
            .collect();
        table(&["VERSION", "CLUSTER", "FILE", "SIZE", "UPLOADED", "SHA256"], &rows)
    }
}
