//! `stagegate journal versions`: what the store holds, newest first.

use serde_json::json;

use super::{Common, Ctx, open_store};
use crate::error::{Error, Exit};
use crate::journal::upload::versions;
use crate::output::table;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(ctx: &Ctx, common: &Common, _args: Args) -> Result<Exit, Error> {
    let cfg = common.load(ctx)?;
    let store = open_store(ctx, &cfg).await?;
    let list = versions(store.as_ref()).await?;
    if ctx.out.json() {
        let versions: Vec<_> = list
            .iter()
            .map(|m| {
                json!({
                    "version": m.version, "cluster": m.cluster, "file": m.file, "sha256": m.sha256,
                    "size": m.size, "uploaded_at": m.uploaded_at, "change": m.change, "mandators": m.mandators,
                })
            })
            .collect();
        ctx.out.emit(&json!({ "versions": versions }));
    } else if list.is_empty() {
        println!("no journal versions in {}", store.describe());
    } else {
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|m| {
                vec![
                    m.version.clone(),
                    m.cluster.clone(),
                    m.file.clone(),
                    m.size.to_string(),
                    m.uploaded_at.format("%Y-%m-%d %H:%M:%SZ").to_string(),
                    m.sha256.chars().take(12).collect(),
                ]
            })
            .collect();
        println!("{}", table(&["VERSION", "CLUSTER", "FILE", "SIZE", "UPLOADED", "SHA256"], &rows));
    }
    Ok(Exit::Success)
}
