//! `cairn validate -e ENV`: load, type-check, graph and evaluate, without touching the cloud.

use super::Outcome;
use super::project::{Context, diagnostics_error};
use crate::plan::PlanMode;
use crate::plan::diff::{PlanInputs, PlanOptions, make_plan};
use crate::state::State;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environment: environments/ENV.yaml.
    #[arg(short, long = "env", value_name = "ENV")]
    pub env: String,
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
