//! Command-line interface: the clap definitions and the dispatch table. Each command lives in
//! its own file and is a thin wrapper over the library; exit codes are decided here and printed
//! by `main`.

mod apply;
mod bench;
mod completions;
mod drift;
mod force_unlock;
mod graph;
mod import;
mod output;
mod plan;
mod progress;
mod project;
mod schema;
mod show;
mod state;
mod terraform_args;
mod validate;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub use output::report;

const EXAMPLES: &str = "\
Examples:
  cairn validate -e dev
  cairn plan -e dev
  cairn plan -e stg --out plan.cairn --json plan.json --markdown plan.md --detailed-exitcode
  cairn apply -e dev
  cairn apply plan.cairn
  cairn destroy -e dev
  cairn graph -e dev --format mermaid
  cairn drift -e prd --json drift.json
  cairn state list -e dev
  cairn state mv -e dev aws_vpc.main aws_vpc.core
  cairn state migrate -e prd --from local
  cairn force-unlock 3f2a9c0d1e2b4a5f -e prd
  cairn import -e dev aws_vpc.main vpc-0a1b2c3d
  cairn schema fake_network";

/// Declarative infrastructure from YAML: plan and apply environments in dependency order.
#[derive(Debug, Parser)]
#[command(name = "cairn", version, after_help = EXAMPLES, propagate_version = true)]
pub struct Cli {
    /// Run as if started in DIR (the project with environments/ and modules/).
    #[arg(short = 'C', long = "chdir", global = true, value_name = "DIR")]
    pub chdir: Option<PathBuf>,
    /// More log output on stderr (-v info, -vv debug, -vvv trace); or set CAIRN_LOG.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Never print ANSI colors (also: the NO_COLOR environment variable).
    #[arg(long, global = true)]
    pub no_color: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load, type-check and graph an environment without touching the cloud.
    Validate(validate::Args),
    /// Show what apply would change.
    Plan(plan::Args),
    /// Apply an environment (after a confirmed plan) or a saved plan file.
    Apply(apply::Args),
    /// Delete every resource of an environment, in reverse dependency order.
    Destroy(apply::DestroyArgs),
    /// Report what changed in the cloud outside cairn (exit 2 on drift).
    Drift(drift::Args),
    /// Render a saved plan file.
    Show(show::Args),
    /// Print the dependency graph as DOT or Mermaid.
    Graph(graph::Args),
    /// Record an existing cloud object at an address the spec declares.
    Import(import::Args),
    /// Remove a lock left by a cairn that is gone, given the lock's id.
    ForceUnlock(force_unlock::Args),
    /// Inspect, edit and move state.
    #[command(subcommand)]
    State(state::Command),
    /// List the resource types cairn knows, or describe one.
    Schema(schema::Args),
    /// Measure plan time, peak memory and apply scheduling; prints figures and ratios.
    Bench(bench::Args),
    /// Print a shell completion script.
    Completions(completions::Args),
}

/// How a successful command ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Success, and there are changes (`--detailed-exitcode`).
    Changes,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Changes => 2,
        }
    }
}

/// Runs a parsed command line.
impl Cli {
    /// The command line, Terraform's single-dash long options (`-target=ADDR`) included.
    pub fn from_env() -> Cli {
        use clap::CommandFactory;
        Cli::parse_from(terraform_args::normalize(
            &Cli::command(),
            std::env::args_os(),
        ))
    }
}

pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    output::init_logging(cli.verbose, cli.no_color);
    let ctx = project::Context::new(cli.chdir.as_deref(), cli.no_color)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Validate(args) => validate::run(&ctx, args).await,
            Command::Plan(args) => plan::run(&ctx, args).await,
            Command::Apply(args) => apply::run(&ctx, args).await,
            Command::Destroy(args) => apply::destroy(&ctx, args).await,
            Command::Drift(args) => drift::run(&ctx, args).await,
            Command::Show(args) => show::run(&ctx, args),
            Command::Graph(args) => graph::run(&ctx, args).await,
            Command::Import(args) => import::run(&ctx, args).await,
            Command::ForceUnlock(args) => force_unlock::run(&ctx, args).await,
            Command::State(cmd) => state::run(&ctx, cmd).await,
            Command::Schema(args) => schema::run(&ctx, args),
            Command::Bench(args) => bench::run(&ctx, args).await,
            Command::Completions(args) => completions::run(args),
        }
    })
}
