//! `stagegate check`: validate the config, report every problem.

use serde::Serialize;

use super::Ctx;
use crate::actions;
use crate::config::Loaded;
use crate::config::diag::{Diagnostic, SourceText};
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
    #[serde(skip)]
    errors: usize,
    #[serde(skip)]
    warnings: usize,
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
            format!("{} {} is valid: {envs} environments, {edges} promotion paths{warnings}", o.good("✓"), self.file)
        } else {
            format!("{} {} has {} error(s){warnings}", o.bad("✗"), self.file, self.errors)
        }
    }
}
