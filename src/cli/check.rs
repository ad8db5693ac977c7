//! `stagegate check`: validate the config, report every problem.

use serde::Serialize;

use super::Ctx;
use crate::actions;
use crate::config::diag::{Diagnostic, SourceText};
use crate::config::{Config, Loaded};
use crate::error::{Error, Exit};
use crate::output::{Out, Render};

#[derive(Debug, clap::Args)]
pub struct Args {}

/// Renders diagnostics as source snippets on stderr (and as annotations under Actions).
pub fn print_diagnostics(loaded: &Loaded, errors_only: bool) {
    if loaded.diagnostics.is_empty() {
        return;
    }
    let source = SourceText::new(&loaded.source.name, &loaded.source.text);
    for d in &loaded.diagnostics {
        if errors_only && !d.is_error() {
            continue;
        }
        // Messages quote the config's own text: escaped and, under Actions, fenced.
        crate::console::print(crate::console::Stream::Err, &format!("{:?}", d.report_in(&source)));
        let level = if d.is_error() { "error" } else { "warning" };
        actions::annotation(level, &loaded.source.name, d.line, d.column, "stagegate config", &d.message);
    }
}

/// Whether the config is valid, and what is wrong with it.
#[derive(Debug, Serialize)]
struct Checked<'a> {
    valid: bool,
    file: &'a str,
    /// How many environments and promotion paths it declares.
    environments: usize,
    promotions: usize,
    diagnostics: &'a [Diagnostic],
    /// Each environment's freeze and deploy windows, as read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    calendars: Vec<EnvCalendar>,
    /// What a rollback asks where an environment's `rollback` policy differs from promoting.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rollbacks: Vec<EnvRollback>,
    #[serde(skip)]
    errors: usize,
    #[serde(skip)]
    warnings: usize,
}

/// An environment's calendar, as `check` read it.
#[derive(Debug, Serialize)]
struct EnvCalendar {
    environment: String,
    freeze: Vec<FreezeEntry>,
    deploy_windows: Vec<String>,
    /// `freeze_override: allowed`.
    overridable: bool,
}

/// An environment's rollback policy, as `check` read it.
#[derive(Debug, Serialize)]
struct EnvRollback {
    environment: String,
    /// Distinct approvals a rollback needs.
    approvals: u32,
    /// Whether a rollback waits out the wait timer (false also when there is none).
    wait_timer: bool,
    #[serde(skip)]
    line: String,
}

fn rollbacks(cfg: &Config) -> Vec<EnvRollback> {
    cfg.environments
        .iter()
        .filter_map(|e| {
            let line = e.rollback.describe(e)?;
            let a = e.approvals_for(crate::config::Purpose::Rollback);
            Some(EnvRollback {
                environment: e.name.clone(),
                approvals: a.required,
                wait_timer: a.wait_timer.is_some(),
                line,
            })
        })
        .collect()
}

#[derive(Debug, Serialize)]
struct FreezeEntry {
    window: String,
    reason: Option<String>,
    /// `never` or `allowed`.
    #[serde(rename = "override")]
    override_: &'static str,
}

fn calendars(cfg: &Config) -> Vec<EnvCalendar> {
    cfg.environments
        .iter()
        .filter(|e| !(e.freeze.is_empty() && e.deploy_windows.is_empty()))
        .map(|e| EnvCalendar {
            environment: e.name.clone(),
            freeze: e
                .freeze
                .iter()
                .map(|f| FreezeEntry {
                    window: f.window.text.clone(),
                    reason: f.reason.clone(),
                    override_: if f.never_override { "never" } else { "allowed" },
                })
                .collect(),
            deploy_windows: e.deploy_windows.iter().map(|w| w.text.clone()).collect(),
            overridable: e.freeze_override,
        })
        .collect()
}

impl EnvCalendar {
    /// `prod: freeze FRI 16:00 - MON 08:00 Europe/London, 12-20 … UTC (year-end close; override: never); deploy windows …`
    fn line(&self) -> String {
        let freeze: Vec<String> = self
            .freeze
            .iter()
            .map(|f| {
                let mut notes: Vec<String> = f.reason.iter().cloned().collect();
                if f.override_ == "never" && self.overridable {
                    notes.push("override: never".into());
                }
                if notes.is_empty() { f.window.clone() } else { format!("{} ({})", f.window, notes.join("; ")) }
            })
            .collect();
        let mut parts = Vec::new();
        if !freeze.is_empty() {
            parts.push(format!("freeze {}", freeze.join(", ")));
        }
        if !self.deploy_windows.is_empty() {
            parts.push(format!("deploy windows {}", self.deploy_windows.join(", ")));
        }
        let overrides = if self.overridable { "--override-freeze allowed" } else { "no overrides" };
        format!("{}: {}; {overrides}", self.environment, parts.join("; "))
    }
}

pub fn run(ctx: &Ctx, _args: Args) -> Result<Exit, Error> {
    let loaded = ctx.load()?;
    let valid = loaded.errors() == 0;
    let (environments, promotions) =
        loaded.config.as_ref().map_or((0, 0), |c| (c.environments.len(), c.promotions.len()));
    // The diagnostics themselves go to stderr (and become annotations under Actions).
    if !ctx.out.json() || actions::active() {
        print_diagnostics(&loaded, false);
    }
    ctx.out.print(&Checked {
        valid,
        file: &loaded.source.name,
        environments,
        promotions,
        diagnostics: &loaded.diagnostics,
        calendars: loaded.config.as_ref().map(calendars).unwrap_or_default(),
        rollbacks: loaded.config.as_ref().map(rollbacks).unwrap_or_default(),
        errors: loaded.errors(),
        warnings: loaded.warnings(),
    });
    Ok(if valid { Exit::Success } else { Exit::Invalid })
}

impl Render for Checked<'_> {
    fn text(&self, o: &Out) -> String {
        let warnings = match self.warnings {
            0 => String::new(),
            1 => " (1 warning)".into(),
            n => format!(" ({n} warnings)"),
        };
        if self.valid {
            let (envs, edges) = (self.environments, self.promotions);
            let mut t = format!(
                "{} {} is valid: {envs} environments, {edges} promotion paths{warnings}",
                o.good("✓"),
                self.file
            );
            for c in &self.calendars {
                t.push_str(&format!("\n  {}", c.line()));
            }
            for r in &self.rollbacks {
                t.push_str(&format!("\n  {}: {}", r.environment, r.line));
            }
            t
        } else {
            format!("{} {} has {} error(s){warnings}", o.bad("✗"), self.file, self.errors)
        }
    }
}
