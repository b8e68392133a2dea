//! `cairn plan -e ENV`: refresh, diff and print the plan; optionally save it and write JSON and
//! Markdown renderings.

use std::path::PathBuf;

use anyhow::Context as _;

use super::Outcome;
use super::project::{Context, PlanFlags};
use crate::plan::diff::PlanOptions;
use crate::plan::render::{human, json, markdown};
use crate::plan::{Plan, PlanMode};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environment: environments/ENV.yaml.
    #[arg(short, long = "env", value_name = "ENV")]
    pub env: String,
    #[command(flatten)]
    pub flags: PlanFlags,
    /// Save the plan for `cairn apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write the plan in Terraform's JSON plan format.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write a Markdown summary for a pull-request comment.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Exit 2 when the plan has changes (0: none, 1: error).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan the destruction of every resource instead.
    #[arg(long)]
    pub destroy: bool,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<Outcome> {
    let options = PlanOptions {
        mode: if args.destroy {
            PlanMode::Destroy
        } else if args.flags.refresh_only {
            PlanMode::RefreshOnly
        } else {
            PlanMode::Normal
        },
        replace: args.flags.replace.clone(),
    };
    let (loaded, planned) = ctx.plan(&args.env, &args.flags, &options, "plan").await?;
    std::mem::forget(loaded); // as `Planned::release` says
    let plan = &planned.plan;
    print!(
        "{}",
        human::render(plan, &human::HumanOptions { color: ctx.color })
    );
    write_outputs(
        plan,
        args.out.as_deref(),
        args.json.as_deref(),
        args.markdown.as_deref(),
    )?;
    let outcome = if args.detailed_exitcode && plan.can_apply() {
        Outcome::Changes
    } else {
        Outcome::Success
    };
    planned.release();
    Ok(outcome)
}

/// Writes the saved plan and the JSON and Markdown renderings that were asked for.
pub fn write_outputs(
    plan: &Plan,
    out: Option<&std::path::Path>,
    json_path: Option<&std::path::Path>,
    markdown_path: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    if let Some(path) = out {
        crate::plan::file::save(plan, path)?;
        println!(
            "\nSaved the plan to {}. To apply exactly this plan, run:\n    cairn apply {}",
            path.display(),
            path.display()
        );
    }
    if let Some(path) = json_path {
        std::fs::write(path, json::render_string(plan))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = markdown_path {
        std::fs::write(path, markdown::render(plan))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
