//! `cairn drift -e ENV [--json FILE] [--markdown FILE]`: the drift check a cron runs. Refreshes
//! everything, reports what changed outside cairn (attributes before and after, secrets masked,
//! vanished objects) and what a plan would still change; exits 0 when clean, 2 on drift, 1 on
//! error. Nothing is written to state.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;

use super::Outcome;
use super::project::{Context, PlanFlags, parse_duration};
use crate::plan::PlanMode;
use crate::plan::diff::{PlanOptions, now_rfc3339};
use crate::plan::drift::{UnmanagedObject, render_markdown, report, unmanaged};
use crate::plan::render::human;
use crate::value::Value;

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
    let (loaded, planned) = ctx.plan(&args.env, &flags, &options, "drift").await?;
    let plan = &planned.plan;
    let unmanaged = find_unmanaged(&loaded.env, &planned).await?;
    let report = report(plan, now_rfc3339(), unmanaged);

    if report.drifted {
        if !plan.drift.is_empty() {
            print!("{}", human::render_drift(plan, ctx.color));
        }
        if !report.unmanaged.is_empty() {
            println!("\nThese objects carry the environment's tags but are in no state:");
            for u in &report.unmanaged {
                println!("  {} ({}, provider `{}`)", u.id, u.kind, u.provider);
            }
        }
        println!(
            "\nDrift: {} changed, {} vanished outside cairn, {} unmanaged.",
            report.summary.changed, report.summary.vanished, report.summary.unmanaged
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

/// Asks every provider instance (one region each) for the objects carrying all of the
/// environment's `tags:`, and keeps those no state instance stands for. `None` when the
/// environment has no literal tags or no provider can search by tag.
async fn find_unmanaged(
    env: &crate::spec::model::Environment,
    planned: &super::project::Planned,
) -> anyhow::Result<Option<Vec<UnmanagedObject>>> {
    let Some(Value::Map(tags)) = env.tags.as_ref().and_then(|t| t.as_literal()) else {
        return Ok(None);
    };
    let tags: BTreeMap<String, String> = tags
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect();
    if tags.is_empty() {
        return Ok(None);
    }
    let mut searched = false;
    let mut found = Vec::new();
    for (key, provider) in &planned.providers.instances {
        let objects = provider
            .find_tagged(&tags)
            .await
            .with_context(|| format!("searching provider `{key}` for the environment's tags"))?;
        if let Some(objects) = objects {
            searched = true;
            found.extend(objects.into_iter().map(|o| (key.clone(), o)));
        }
    }
    Ok(searched.then(|| unmanaged(found, &planned.state)))
}
