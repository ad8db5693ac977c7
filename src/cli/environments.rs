//! `stagegate environments diff|sync`: GitHub environment protection as code.
//!
//! `diff` compares each environment the config implies (including the
//! `<env>-approval-N` ones) with the forge and exits 3 on any drift; `sync`
//! applies the differences and nothing else, so a second run changes nothing.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::json;

use super::Ctx;
use crate::actions::markdown_table;
use crate::config::Reviewer;
use crate::error::{Error, Exit};
use crate::forge::{Change, Forge, Protection};
use crate::output::{Annotation, Level, Out, Render, table, would};
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

/// How the forge's environments compare with the config (after `sync`, what changed).
#[derive(Debug, Serialize)]
struct Environments {
    drift: bool,
    environments: Vec<EnvDrift>,
    /// `sync`: whether the changes were applied (`false` in a dry run); `null` for `diff`.
    applied: Option<bool>,
    effects: Vec<String>,
    #[serde(skip)]
    forge: String,
    #[serde(skip)]
    warning: Option<String>,
}

#[derive(Debug, Serialize)]
struct EnvDrift {
    environment: String,
    exists: bool,
    changes: Vec<Change>,
    desired: Protection,
}

pub async fn run(ctx: &Ctx, cmd: Command) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let forge = ctx.forge()?;
    let wanted = environments::desired(&cfg);
    let warning = private_repo_warning(&wanted);
    let app_rules: Vec<String> =
        cfg.environments.iter().filter(|e| e.protection_rule).map(|e| e.name.clone()).collect();
    let rows = compare(forge.as_ref(), wanted, &app_rules).await?;
    let drift = rows.iter().any(|r| !r.changes.is_empty());
    let sync = matches!(cmd, Command::Sync);
    if sync {
        for r in rows.iter().filter(|r| !r.changes.is_empty()) {
            forge.apply_environment(&r.name, r.current.as_ref(), &r.desired).await?;
        }
    }
    let environments = rows
        .into_iter()
        .map(|r| EnvDrift { environment: r.name, exists: r.current.is_some(), changes: r.changes, desired: r.desired })
        .collect();
    ctx.out.print(&Environments {
        drift,
        environments,
        applied: sync.then_some(!ctx.done().is_described()),
        effects: ctx.log.entries(),
        forge: forge.describe(),
        warning,
    });
    Ok(if !sync && drift { Exit::Refused } else { Exit::Success })
}

impl Environments {
    fn drifted(&self) -> impl Iterator<Item = &EnvDrift> {
        self.environments.iter().filter(|e| !e.changes.is_empty())
    }

    fn change_rows(&self) -> Vec<Vec<String>> {
        self.drifted()
            .flat_map(|r| {
                let name = &r.environment;
                r.changes
                    .iter()
                    .map(move |c| vec![name.clone(), c.setting.to_string(), c.forge.clone(), c.config.clone()])
            })
            .collect()
    }
}

impl Render for Environments {
    fn text(&self, o: &Out) -> String {
        let total = self.environments.len();
        if !self.drift {
            return format!("{} {total} environments match the config ({})", o.good("✓"), self.forge);
        }
        match self.applied {
            Some(false) => would(&self.effects),
            Some(true) => self
                .drifted()
                .map(|r| {
                    let what: Vec<&str> = r.changes.iter().map(|c| c.setting).collect();
                    let verb = if r.exists { "updated" } else { "created" };
                    format!("{} {verb} {} ({})\n", o.good("✓"), r.environment, what.join(", "))
                })
                .collect(),
            None => format!(
                "{}\n\n{} {} of {total} environments drifted; `stagegate environments sync` applies the config",
                table(&["ENVIRONMENT", "SETTING", "ON THE FORGE", "IN THE CONFIG"], &self.change_rows()),
                o.bad("✗"),
                self.drifted().count(),
            ),
        }
    }

    fn summary(&self) -> Option<String> {
        if !self.drift {
            return None;
        }
        let head = match self.applied {
            Some(true) => "### stagegate environments: synced with the config",
            Some(false) => "### stagegate environments: would sync with the config",
            None => "### stagegate environments: drift from the config",
        };
        let headers = ["Environment", "Setting", "On the forge", "In the config"];
        Some(format!("{head}\n\n{}", markdown_table(&headers, &self.change_rows())))
    }

    fn annotations(&self) -> Vec<Annotation> {
        let title = "stagegate environments".to_string();
        self.warning
            .iter()
            .map(|m| Annotation { level: Level::Warning, title: title.clone(), message: m.clone() })
            .collect()
    }
}
