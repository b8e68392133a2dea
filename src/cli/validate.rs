//! `cairn validate -e ENV`: load, type-check, graph and evaluate, without touching the cloud.

use super::Outcome;
use super::project::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environment: environments/ENV.yaml.
    #[arg(short, long = "env", value_name = "ENV")]
    pub env: String,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<Outcome> {
    let loaded = ctx.load(&args.env)?;
    let plan = ctx.plan_from_scratch(&loaded).await?;
    let modules = loaded.graph.instances.len() - 1;
    println!(
        "Success! environments/{}.yaml is valid: {} resource instances in {} module{}.",
        args.env,
        plan.changes.len(),
        modules,
        if modules == 1 { "" } else { "s" }
    );
    Ok(Outcome::Success)
}
