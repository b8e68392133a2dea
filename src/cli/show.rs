//! `cairn show FILE`: render a saved plan as the human plan, JSON or Markdown.

use std::path::PathBuf;

use super::Outcome;
use super::project::Context;
use crate::plan::render::{human, json, markdown};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A plan saved with `cairn plan --out FILE`.
    pub plan_file: PathBuf,
    /// Print Terraform's JSON plan format.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print the Markdown summary.
    #[arg(long)]
    pub markdown: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<Outcome> {
    let plan = crate::plan::file::load_to_show(&ctx.dir.join(&args.plan_file))?;
    if args.json {
        print!("{}", json::render_string(&plan));
    } else if args.markdown {
        print!("{}", markdown::render(&plan));
    } else {
        print!(
            "{}",
            human::render(&plan, &human::HumanOptions { color: ctx.color })
        );
    }
    Ok(Outcome::Success)
}
