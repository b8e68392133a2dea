//! `cairn drift -e ENV [--json FILE] [--markdown FILE]`: the drift check a cron runs. Refreshes
//! everything, reports what changed outside cairn (attributes before and after, secrets masked,
//! vanished objects) and what a plan would still change; exits 0 when clean, 2 on drift, 1 on
//! error. Nothing is written to state.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;

use super::Outcome;
use super::project::{Context, PlanFlags, parse_duration};
use crate::plan::PlanMode;
use crate::plan::diff::{PlanOptions, now_rfc3339};
use crate::plan::drift::{render_markdown, report};
use crate::plan::render::human;

#[derive(Debug, clap::Args)]
#[command(after_help = "Exit codes: 0 no drift, 2 drift found, 1 error.

Examples:
  cairn drift -e prd
  cairn drift -e prd --json drift.json --markdown drift.md")]
pub struct Args {
    /// The environment: environments/ENV.yaml.
    #[arg(short, long = "env", value_name = "ENV")]
    pub env: String,
    /// Write the report as JSON (fields documented in docs/drift.md).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the report as Markdown, for an issue or a chat message.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// How long to wait for a state lock held by someone else, e.g. 30s (default: fail at once).
    #[arg(long, value_parser = parse_duration, default_value = "0s", value_name = "DURATION")]
    pub lock_timeout: Duration,
    /// How many provider reads run at once.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub parallelism: usize,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<Outcome> {
    let flags = PlanFlags {
        refresh: true,
        lock_timeout: args.lock_timeout,
        replace: Vec::new(),
        target: Vec::new(),
        refresh_only: false,
        parallelism: args.parallelism,
    };
    let options = PlanOptions {
        mode: PlanMode::Normal,
        replace: Vec::new(),
    };
    let (_, planned) = ctx.plan(&args.env, &flags, &options, "drift").await?;
    let plan = &planned.plan;
    let report = report(plan, now_rfc3339());

    if report.drifted {
        print!("{}", human::render_drift(plan, ctx.color));
        println!(
            "\nDrift: {} changed, {} vanished outside cairn.",
            report.summary.changed, report.summary.vanished
        );
    } else {
        println!("No drift. The cloud matches the state of the last apply.");
    }
    if !report.pending_changes.is_empty() {
        println!(
            "{}; `cairn plan -e {}` shows them, `cairn apply -e {}` restores the spec, `cairn apply -e {} --refresh-only` accepts the drift instead.",
            human::summary_line(plan).trim_end_matches('.'),
            args.env,
            args.env,
            args.env
        );
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report).context("serializing the drift report")?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.markdown {
        std::fs::write(path, render_markdown(&report))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(if report.drifted {
        Outcome::Changes
    } else {
        Outcome::Success
    })
}
