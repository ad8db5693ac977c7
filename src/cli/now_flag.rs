//! `--now`: a question about another moment ("would this promotion be
//! allowed on Saturday?"). Only the commands that read take it as a flag; a
//! command that writes records keeps the real time, so no record can be
//! back- or forward-dated from the command line. `STAGEGATE_NOW` (the tests'
//! clock) still moves the clock for every command.

use clap::parser::ValueSource;
use clap::{ArgMatches, Command};

/// The commands that only read: they show `--now` in their `--help` and take it.
pub const READS: &[&str] = &[
    "check",
    "graph",
    "can-deploy",
    "plan",
    "status",
    "history",
    "audit export",
    "metrics",
    "compare",
    "gate",
    "calendar",
    "hold list",
    "release next",
    "release list",
    "release view",
    "environments diff",
    "journal versions",
    "journal status",
    "completions",
    "app manifest",
    "config schema",
];

const HELP: &str = "Ask as if it were this time (RFC 3339): freeze and deploy windows, wait timers, soak";

/// The command's path (`journal status`) as the user typed it.
fn path(matches: &ArgMatches) -> String {
    let mut words = Vec::new();
    let mut m = matches;
    while let Some((name, sub)) = m.subcommand() {
        words.push(name);
        m = sub;
    }
    words.join(" ")
}

/// Shows `--now` in the `--help` of every command in [`READS`]: the global,
/// hidden flag is copied onto them visible (the copy takes its place there).
pub fn document(cmd: Command) -> Command {
    let Some(flag) = cmd.get_arguments().find(|a| a.get_id() == "now").cloned() else {
        return cmd;
    };
    let visible = flag.hide(false).hide_env(true).global(false).help(HELP);
    let mut cmd = cmd;
    for p in READS {
        let mut words = p.split(' ');
        let first = words.next().unwrap_or_default();
        let arg = visible.clone();
        cmd = cmd.mut_subcommand(first, |sub| match words.next() {
            Some(second) => sub.mut_subcommand(second, |leaf| leaf.arg(arg)),
            None => sub.arg(arg),
        });
    }
    cmd
}

/// Refuses `--now` given on the command line to a command that writes
/// (exit 2); `STAGEGATE_NOW` passes.
pub fn check(cmd: &mut Command, matches: &ArgMatches) -> Result<(), clap::Error> {
    if matches.value_source("now") != Some(ValueSource::CommandLine) {
        return Ok(());
    }
    let path = path(matches);
    if READS.contains(&path.as_str()) {
        return Ok(());
    }
    Err(cmd.error(
        clap::error::ErrorKind::ArgumentConflict,
        format!(
            "`--now` only asks questions (plan, compare, gate, calendar, status, …); `{path}` writes records \
             and keeps the real time. Leave `--now` out (the tests' clock is the STAGEGATE_NOW environment variable)"
        ),
    ))
}
