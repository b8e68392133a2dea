//! `cairn graph -e ENV`: the resource dependency graph as DOT (default) or Mermaid.

use super::Outcome;
use super::project::Context;
use crate::plan::render::graph;

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
    let plan = ctx.plan_from_scratch(&loaded).await?;
    let view = graph::from_plan(&plan, false);
    match args.format {
        Format::Dot => print!("{}", graph::dot(&view)),
        Format::Mermaid => print!("{}", graph::mermaid(&view)),
    }
    Ok(Outcome::Success)
}
