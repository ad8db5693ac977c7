//! `stagegate completions SHELL`: a static script; and the dynamic
//! completions (`COMPLETE=bash stagegate`), which also complete environment
//! names and lanes from the config and release ids from the local forge.

use clap::Command;
use clap_complete::Shell;
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};

use crate::config::{self, Location};
use crate::error::{Error, Exit};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// bash, zsh, fish, elvish or powershell
    shell: Shell,
}

pub fn run(args: Args) -> Result<Exit, Error> {
    let mut cmd = super::help::command();
    // Rendered into memory first: clap_complete panics when its writer fails,
    // and stdout fails as soon as the reader goes away (`| head`).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "stagegate", &mut script);
    let script = String::from_utf8_lossy(&script);
    Ok(match crate::console::write(crate::console::Stream::Out, &script) {
        Ok(()) => Exit::Success,
        Err(_) => Exit::Failed,
    })
}

/// The command line with value completers: the factory of
/// `clap_complete::CompleteEnv` in `main`.
pub fn command() -> Command {
    with_completers(super::help::command(), false)
}

/// Adds completers by argument name, through the whole tree: environments
/// for `--env`, `--from`, `--to` (lanes under `journal`), lanes for `--lane`,
/// releases for `--release`.
fn with_completers(mut cmd: Command, journal: bool) -> Command {
    let ids: Vec<String> = cmd.get_arguments().map(|a| a.get_id().to_string()).collect();
    for id in ids {
        let values: Option<fn() -> Vec<String>> = match id.as_str() {
            "from" | "to" if journal => Some(lanes),
            "env" | "from" | "to" => Some(environments),
            "lane" | "lanes" => Some(lanes),
            "release" => Some(releases),
            _ => None,
        };
        if let Some(values) = values {
            let candidates =
                ArgValueCandidates::new(move || values().into_iter().map(CompletionCandidate::new).collect());
            cmd = cmd.mut_arg(id, |a| a.add(candidates));
        }
    }
    let subs: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
    for name in subs {
        let journal = journal || name == "journal";
        cmd = cmd.mut_subcommand(name, |s| with_completers(s, journal));
    }
    cmd
}

/// The config a completion reads: `$STAGEGATE_CONFIG`, else the default
/// location. Absent, unreadable or broken: nothing to complete.
fn config() -> Option<config::Config> {
    let location = match std::env::var_os("STAGEGATE_CONFIG").filter(|v| !v.is_empty()) {
        Some(p) => Location::Explicit(p.into()),
        None => Location::Default,
    };
    config::load(&location).ok()?.config
}

/// The config's environments, then the ephemeral instances the local forge
/// has deployed (`feature/login`).
fn environments() -> Vec<String> {
    let Some(c) = config() else { return Vec::new() };
    let mut names: Vec<String> = c.environments.iter().map(|e| e.name.clone()).collect();
    let instances = crate::forge::local::known_environments(&state_dir());
    names.extend(instances.into_iter().filter(|n| matches!(c.resolve(n), Ok(config::Resolved::Instance { .. }))));
    names
}

fn state_dir() -> crate::state::StateDir {
    let dir = std::env::var_os("STAGEGATE_STATE_DIR").filter(|v| !v.is_empty()).unwrap_or(".stagegate".into());
    crate::state::StateDir::new(std::path::PathBuf::from(dir))
}

fn lanes() -> Vec<String> {
    config().map(|c| c.journal.lanes).unwrap_or_default()
}

/// Release ids the local forge knows (`$STAGEGATE_STATE_DIR`, else `.stagegate`).
fn releases() -> Vec<String> {
    crate::forge::local::known_releases(&state_dir())
}
