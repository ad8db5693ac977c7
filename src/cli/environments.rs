//! `stagegate environments diff|sync`: GitHub environment protection as code.
//!
//! `diff` compares each environment the config implies (including the
//! `<env>-approval-N` ones) with the forge and exits 3 on any drift; `sync`
//! applies the differences and nothing else, so a second run changes nothing.

use std::collections::HashMap;

use serde_json::json;

use super::Ctx;
use crate::config::Reviewer;
use crate::error::{Error, Exit};
use crate::forge::{Change, Forge, Protection};
use crate::output::table;
use crate::policy::environments::{self, Desired};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Show where the forge's environments differ from the config (exit 3 on drift)
    Diff,
    /// Create or update environments to match the config
    Sync,
}

struct Row {
    name: String,
    current: Option<Protection>,
    desired: Protection,
    changes: Vec<Change>,
}

async fn compare(forge: &dyn Forge, wanted: Vec<Desired>, app_rules: &[String]) -> Result<Vec<Row>, Error> {
    let mut ids: HashMap<Reviewer, crate::forge::ReviewerRef> = HashMap::new();
    let mut rows = Vec::new();
    for d in wanted {
        let mut reviewers = Vec::new();
        for r in &d.reviewers {
            if !ids.contains_key(r) {
                ids.insert(r.clone(), forge.reviewer(r).await?);
            }
            reviewers.push(ids[r].clone());
        }
        let desired = Protection {
            wait_timer: d.wait_timer_minutes,
            prevent_self_review: d.prevent_self_review,
            reviewers,
            policies: d.policies,
            app_rule: app_rules.contains(&d.name),
        };
        let current = forge.environment(&d.name).await?;
        let changes = desired.changes_from(current.as_ref());
        rows.push(Row { name: d.name, current, desired, changes });
    }
    Ok(rows)
}

/// Required reviewers on a private repository need a paid GitHub plan; the
/// event payload says whether the repository is private.
fn private_repo_warning(wanted: &[Desired]) -> Option<String> {
    if wanted.iter().all(|d| d.reviewers.is_empty()) {
        return None;
    }
    let path = std::env::var("GITHUB_EVENT_PATH").ok()?;
    let event: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    (event["repository"]["private"] == json!(true)).then(|| {
        "this repository is private: required reviewers on private repositories need GitHub Team or Enterprise; \
         on other plans GitHub refuses them"
            .to_string()
    })
}

pub async fn run(ctx: &Ctx, cmd: Command) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let forge = ctx.forge()?;
    let wanted = environments::desired(&cfg);
    if let Some(w) = private_repo_warning(&wanted) {
        eprintln!("{} {w}", ctx.out.warn("warning:"));
    }
    let app_rules: Vec<String> =
        cfg.environments.iter().filter(|e| e.protection_rule).map(|e| e.name.clone()).collect();
    let rows = compare(forge.as_ref(), wanted, &app_rules).await?;
    let drifted: Vec<&Row> = rows.iter().filter(|r| !r.changes.is_empty()).collect();
    let sync = matches!(cmd, Command::Sync);
    if sync {
        for r in &drifted {
            forge.apply_environment(&r.name, r.current.as_ref(), &r.desired).await?;
        }
    }
    let envs: Vec<_> = rows
        .iter()
        .map(|r| json!({"name": r.name, "exists": r.current.is_some(), "changes": r.changes, "desired": r.desired}))
        .collect();
    if ctx.out.json() {
        let mut doc = json!({"drift": !drifted.is_empty(), "environments": envs});
        if sync {
            doc["applied"] = json!(!ctx.dry_run);
            doc["effects"] = json!(ctx.log.entries());
        }
        ctx.out.emit(&doc);
    } else if drifted.is_empty() {
        println!("{} {} environments match the config ({})", ctx.out.good("✓"), rows.len(), forge.describe());
    } else if sync && ctx.dry_run {
        for e in ctx.log.entries() {
            println!("would {e}");
        }
    } else if sync {
        for r in &drifted {
            let what: Vec<&str> = r.changes.iter().map(|c| c.setting).collect();
            let verb = if r.current.is_none() { "created" } else { "updated" };
            println!("{} {verb} {} ({})", ctx.out.good("✓"), r.name, what.join(", "));
        }
    } else {
        let table_rows: Vec<Vec<String>> = drifted
            .iter()
            .flat_map(|r| {
                r.changes.iter().map(|c| vec![r.name.clone(), c.setting.to_string(), c.forge.clone(), c.config.clone()])
            })
            .collect();
        println!("{}", table(&["ENVIRONMENT", "SETTING", "ON THE FORGE", "IN THE CONFIG"], &table_rows));
        println!(
            "\n{} {} of {} environments drifted; `stagegate environments sync` applies the config",
            ctx.out.bad("✗"),
            drifted.len(),
            rows.len()
        );
    }
    Ok(if !sync && !drifted.is_empty() { Exit::Refused } else { Exit::Success })
}
