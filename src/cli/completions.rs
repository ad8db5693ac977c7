//! `stagegate completions SHELL`.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::error::{Error, Exit};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// bash, zsh, fish, elvish or powershell
    shell: Shell,
}

pub fn run(args: Args) -> Result<Exit, Error> {
    let mut cmd = super::Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "stagegate", &mut std::io::stdout());
    Ok(Exit::Success)
}
