//! `stagegate completions SHELL`.

use std::io::Write;

use clap_complete::Shell;

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
    Ok(match std::io::stdout().write_all(&script) {
        Ok(()) => Exit::Success,
        Err(_) => Exit::Failed,
    })
}
