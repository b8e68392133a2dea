//! `cairn bench`: reproducible figures for plan time, peak memory and apply scheduling. Prints
//! figures and ratios; never fails on a time.

use std::process::Command;

use anyhow::Context as _;

use super::Outcome;
use super::project::Context;
use crate::bench::{self, PlanFigures};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Smaller runs, for a CI smoke test.
    #[arg(long)]
    pub quick: bool,
    /// Plan sizes to measure (resources), comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [1_000usize, 10_000])]
    pub sizes: Vec<usize>,
    /// Internal: measure one plan size in this process and print its figures as JSON.
    #[arg(long, hide = true, value_name = "RESOURCES")]
    pub child_plan: Option<usize>,
}

pub async fn run(_ctx: &Context, args: Args) -> anyhow::Result<Outcome> {
    if let Some(n) = args.child_plan {
        let dir = tempdir()?;
        let figures = bench::measure_plan(&dir, n)
            .await
            .map_err(|e| anyhow::anyhow!(e));
        let _ = std::fs::remove_dir_all(&dir);
        println!("{}", serde_json::to_string(&figures?)?);
        return Ok(Outcome::Success);
    }
    let exe = std::env::current_exe().context("locating the cairn executable")?;
    println!("Plan from local state, no refresh, no changes (each size in its own process):\n");
    println!(
        "{:>10}  {:>9}  {:>9}  {:>12}  {:>10}  {:>7}",
        "resources", "load", "plan", "per resource", "peak RSS", "changes"
    );
    let mut results: Vec<PlanFigures> = Vec::new();
    for &n in &args.sizes {
        let out = Command::new(&exe)
            .args(["bench", "--child-plan", &n.to_string()])
            .output()
            .context("running the plan benchmark")?;
        if !out.status.success() {
            anyhow::bail!(
                "plan benchmark of {n} resources failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let f: PlanFigures =
            serde_json::from_slice(&out.stdout).context("reading the benchmark's figures")?;
        println!(
            "{:>10}  {:>8.3}s  {:>8.3}s  {:>10.1}µs  {:>7.1} MB  {:>7}",
            f.resources,
            f.load_seconds,
            f.plan_seconds,
            f.plan_seconds * 1e6 / f.resources as f64,
            f.peak_rss_mb,
            f.changes
        );
        results.push(f);
    }
    if let (Some(first), Some(last)) = (results.first(), results.last())
        && last.resources > first.resources
    {
        let per = |f: &PlanFigures| (f.load_seconds + f.plan_seconds) / f.resources as f64;
        println!(
            "\nLoad+plan time per resource, {} vs {}: ×{:.2} (1.00 = linear)",
            last.resources,
            first.resources,
            per(last) / per(first)
        );
    }
    let (layers, width) = if args.quick { (5, 40) } else { (10, 100) };
    let workload = bench::layered_workload(layers, width, 5..=60, 42);
    println!(
        "\nApply scheduling: {} fake resources in {layers} layers, latencies 5–60 ms, local state written after every operation:\n",
        workload.plan.changes.len()
    );
    println!(
        "{:>12}  {:>9}  {:>14}  {:>14}  {:>13}  {:>12}",
        "parallelism", "wall", "critical path", "ideal path", "wall / ideal", "state writes"
    );
    println!(
        "{:>12}  {:>9}  {:>14}  {:>14}",
        "", "", "(as measured)", "(latencies)"
    );
    let dir = tempdir()?.join("apply");
    for parallelism in [Some(10), None] {
        let f = bench::measure_apply(&dir, &workload, parallelism)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        println!(
            "{:>12}  {:>8.3}s  {:>13.3}s  {:>13.3}s  {:>13.2}  {:>12}",
            parallelism.map_or("unbounded".to_string(), |p| p.to_string()),
            f.wall_seconds,
            f.critical_path_seconds,
            f.ideal_seconds,
            f.wall_seconds / f.ideal_seconds,
            f.state_writes
        );
    }
    println!(
        "\nThe measured critical path includes each operation's wait for its state write (state is\nwritten after every operation); the ideal path is the provider latencies alone."
    );
    let _ = std::fs::remove_dir_all(dir.parent().unwrap_or(&dir));
    Ok(Outcome::Success)
}

fn tempdir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("cairn-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
