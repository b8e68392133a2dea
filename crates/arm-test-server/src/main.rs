//! `arm-test-server`: the local ARM server on its own, so that the Azure examples can be tried on
//! a laptop the way the AWS ones run on moto. Prints `listening on http://127.0.0.1:PORT` and
//! serves until killed.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// A local Azure Resource Manager for cairn's tests, answering from the official REST examples
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one)
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The azure-rest-examples directory (default: shared/azure-rest-examples found by walking
    /// up from the current directory)
    #[arg(long, env = "CAIRN_AZURE_EXAMPLES")]
    examples: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let options = arm_test_server::Options {
        port: args.port,
        examples: args.examples,
    };
    let server = match arm_test_server::Server::try_start(options) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", server.url());
    // A parent process reads this line through a pipe: it must not wait in a buffer.
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}
