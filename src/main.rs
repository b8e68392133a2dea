use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cairn::cli::Cli::from_env();
    match cairn::cli::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(err) => {
            cairn::cli::report(&err);
            ExitCode::from(1)
        }
    }
}
