//! `cairn graph -e ENV`: the resource dependency graph as DOT (default) or Mermaid.

use super::Outcome;
use super::project::{Context, diagnostics_error};
use crate::plan::PlanMode;
use crate::plan::diff::{PlanInputs, PlanOptions, make_plan};
use crate::plan::render::graph;
use crate::state::State;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Dot,
    Mermaid,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environment: environments/ENV.yaml.
    #[arg(short, long = "env", value_name = "ENV")]
    pub env: String,
    #[arg(long, value_enum, default_value = "dot")]
    pub format: Format,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<Outcome> {
    let loaded = ctx.load(&args.env)?;
    let empty = State::new(&args.env);
    let plan = make_plan(
        PlanInputs {
            env: &loaded.env,
            graph: &loaded.graph,
            schemas: &ctx.catalog.schemas,
            stored: None,
            refreshed: &empty,
            live: &Default::default(),
            providers: None,
        },
        &PlanOptions {
            mode: PlanMode::Normal,
            replace: Vec::new(),
        },
    )
    .await
    .map_err(|d| diagnostics_error(&loaded.sources, &d))?;
    let view = graph::from_plan(&plan, false);
    match args.format {
        Format::Dot => print!("{}", graph::dot(&view)),
        Format::Mermaid => print!("{}", graph::mermaid(&view)),
    }
    Ok(Outcome::Success)
}
