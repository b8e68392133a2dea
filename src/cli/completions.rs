//! `cairn completions SHELL`: a completion script on stdout.

use clap::CommandFactory;

use super::{Cli, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// bash, zsh, fish, elvish or powershell.
    pub shell: clap_complete::Shell,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    clap_complete::generate(
        args.shell,
        &mut Cli::command(),
        "cairn",
        &mut std::io::stdout(),
    );
    Ok(Outcome::Success)
}
