//! `stagegate check`: validate the config, report every problem.

use serde_json::json;

use super::Ctx;
use crate::actions;
use crate::config::Loaded;
use crate::config::diag::SourceText;
use crate::error::{Error, Exit};

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
        // Messages quote the config's own text: fenced under Actions.
        actions::eprint_untrusted(&format!("{:?}", d.report_in(&source)));
        let level = if d.is_error() { "error" } else { "warning" };
        actions::annotation(level, &loaded.source.name, d.line, d.column, "stagegate config", &d.message);
    }
}

pub fn run(ctx: &Ctx, _args: Args) -> Result<Exit, Error> {
    let loaded = ctx.load()?;
    let valid = loaded.errors() == 0;
    let (envs, edges) = loaded.config.as_ref().map_or((0, 0), |c| (c.environments.len(), c.promotions.len()));
    if ctx.out.json() {
        ctx.out.emit(&json!({
            "valid": valid,
            "file": loaded.source.name,
            "environments": envs,
            "promotions": edges,
            "diagnostics": loaded.diagnostics,
        }));
        if actions::active() {
            print_diagnostics(&loaded, false);
        }
    } else {
        print_diagnostics(&loaded, false);
        let warnings = match loaded.warnings() {
            0 => String::new(),
            1 => " (1 warning)".into(),
            n => format!(" ({n} warnings)"),
        };
        if valid {
            println!(
                "{} {} is valid: {envs} environments, {edges} promotion paths{warnings}",
                ctx.out.good("✓"),
                loaded.source.name
            );
        } else {
            println!("{} {} has {} error(s){warnings}", ctx.out.bad("✗"), loaded.source.name, loaded.errors());
        }
    }
    Ok(if valid { Exit::Success } else { Exit::Invalid })
}
