//! Every journal operation that changes something (upload, seed, promote,
//! import) leaves an entry in the store's audit trail, beside the versions:
//! the trail outlives the runner that wrote it. Not in a dry run. A trail
//! that cannot be written is said on stderr and fails nothing: the operation
//! itself happened and is recorded in the store and the lanes.

use crate::journal::audit::{self, Entry};
use crate::journal::store::Store;

use super::Ctx;

/// What one operation concerned.
pub struct Op<'a> {
    pub operation: &'static str,
    pub lane: Option<&'a str>,
    pub version: Option<&'a str>,
    pub outcome: &'a str,
    pub detail: Option<String>,
}

/// Who runs this process: `GITHUB_ACTOR`, else `USER`, else `unknown`.
fn actor() -> String {
    ["GITHUB_ACTOR", "USER"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|a| !a.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// The page of the workflow run this process is part of, under Actions.
fn run_url() -> Option<String> {
    crate::actions::this_run_url(&std::env::var("GITHUB_RUN_ID").ok()?)
}

/// Appends `op` to the store's audit trail (not in a dry run).
pub async fn record(ctx: &Ctx, store: &dyn Store, op: Op<'_>) {
    if ctx.writes().is_dry_run() {
        return;
    }
    let entry = Entry {
        at: ctx.now(),
        operation: op.operation.into(),
        actor: actor(),
        lane: op.lane.map(str::to_owned),
        version: op.version.map(str::to_owned),
        outcome: op.outcome.into(),
        detail: op.detail,
        run_url: run_url(),
    };
    if let Err(e) = audit::append(store, &entry).await {
        crate::console::print(
            crate::console::Stream::Err,
            &format!("warning: the journal's audit entry for this {} was not written: {e}", op.operation),
        );
    }
}
