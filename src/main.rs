use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cairn::cli::Cli::parse();
    match cairn::cli::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(err) => {
            cairn::cli::report(&err);
            ExitCode::from(1)
        }
    }
}
