//! `cairn bench`: reproducible figures for plan time and peak memory, apply scheduling, start-up,
//! and (against a local moto) the reference stack end to end and refresh API calls as it grows.
//! Prints figures and ratios; never fails on a time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context as _;

use super::Outcome;
use super::project::{Context, PlanFlags};
use crate::bench::moto::{self, ApiCalls};
use crate::bench::plan::{ENVIRONMENT, PlanFigures, prepare_plan};
use crate::bench::{apply, startup};
use crate::plan::diff::PlanOptions;
use crate::plan::render::human;
use crate::plan::{Action, PlanMode};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Section {
    /// Plan from local state, no refresh: time, peak memory, cost per resource.
    Plan,
    /// Apply scheduling on the fake provider against the critical path.
    Apply,
    /// `cairn validate` of the project's environment, cold and warm.
    Startup,
    /// The project's environment applied, re-planned and destroyed on moto, several times.
    E2e,
    /// Refresh API calls with the project's environment copied 1×, 10×, 100× on moto.
    Refresh,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Smaller runs, for a CI smoke test.
    #[arg(long)]
    pub quick: bool,
    /// Which benchmarks to run (comma-separated); `e2e` and `refresh` need AWS_ENDPOINT_URL
    /// pointing at a local moto (scripts/bench.sh starts one).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Section::Plan, Section::Apply, Section::Startup, Section::E2e, Section::Refresh])]
    pub only: Vec<Section>,
    /// Plan sizes to measure (resources), comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [1_000usize, 10_000, 50_000])]
    pub sizes: Vec<usize>,
    /// The project environment that start-up, e2e and refresh use.
    #[arg(long, default_value = "dev", value_name = "ENV")]
    pub environment: String,
    /// How many times e2e applies, re-plans and destroys the environment.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// The sizes refresh copies the environment to, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 10, 100])]
    pub scales: Vec<usize>,
    /// Keep the generated plan projects (with their state) under this directory, to profile
    /// `cairn -C DIR/plan-10000-0 plan -e bench --refresh=false` by hand.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// Internal: plan the prepared project in this directory and print the figures as JSON.
    #[arg(long, hide = true, value_name = "DIR")]
    pub child_plan: Option<PathBuf>,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<Outcome> {
    if let Some(dir) = &args.child_plan {
        let figures = child_plan(dir).await?;
        println!("{}", serde_json::to_string(&figures)?);
        return Ok(Outcome::Success);
    }
    let work = tempdir()?;
    let result = run_sections(ctx, &args, &work).await;
    let _ = std::fs::remove_dir_all(&work);
    result?;
    Ok(Outcome::Success)
}

async fn run_sections(ctx: &Context, args: &Args, work: &Path) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("locating the cairn executable")?;
    println!(
        "cairn {} on {} cores, {}",
        env!("CARGO_PKG_VERSION"),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        if cfg!(debug_assertions) {
            "debug build (figures are upper bounds; scripts/bench.sh uses a release build)"
        } else {
            "release build"
        }
    );
    let wants = |s: Section| args.only.contains(&s);
    if wants(Section::Plan) {
        plan_section(&exe, &args.sizes, args.keep.as_deref().unwrap_or(work)).await?;
    }
    if wants(Section::Apply) {
        apply_section(args.quick, work).await?;
    }
    let env_file = ctx
        .dir
        .join("environments")
        .join(format!("{}.yaml", args.environment));
    let has_env = env_file.is_file();
    if wants(Section::Startup) {
        if has_env {
            startup_section(
                &exe,
                &ctx.dir,
                &args.environment,
                if args.quick { 3 } else { 10 },
            )?;
        } else {
            println!(
                "\nStart-up: skipped ({} has no environment `{}`; run from the repository's root)",
                ctx.dir.display(),
                args.environment
            );
        }
    }
    let cloud_sections = wants(Section::E2e) || wants(Section::Refresh);
    if !cloud_sections {
        return Ok(());
    }
    let endpoint = moto::loopback_endpoint();
    if endpoint.is_none() || !has_env {
        println!(
            "\nEnd to end and refresh calls: skipped (they need AWS_ENDPOINT_URL on this machine, a moto server, and the project's environment `{}`; `bash scripts/bench.sh` provides both)",
            args.environment
        );
        return Ok(());
    }
    let text = std::fs::read_to_string(&env_file)
        .with_context(|| format!("reading {}", env_file.display()))?;
    let name = system_name(&text).unwrap_or_else(|| args.environment.clone());
    if wants(Section::E2e) {
        e2e_section(&exe, ctx, args, &text, &name, work)?;
    }
    if wants(Section::Refresh) {
        refresh_section(&exe, ctx, args, &text, &name, work)?;
    }
    Ok(())
}

/// Runs of each plan measurement; the median is printed.
const PLAN_RUNS: usize = 3;

async fn plan_section(exe: &Path, sizes: &[usize], work: &Path) -> anyhow::Result<()> {
    println!(
        "\nPlan from local state, no refresh (`cairn plan --refresh=false`: load, read state, plan, render; each in its own process, median of {PLAN_RUNS}):\n"
    );
    println!(
        "{:>10}  {:>9}  {:>9}  {:>13}  {:>10}  {:>8}",
        "resources", "changed", "time", "per resource", "peak RSS", "changes"
    );
    let mut results: Vec<PlanFigures> = Vec::new();
    for &n in sizes {
        for changed_every in [0, 100] {
            let dir = work.join(format!("plan-{n}-{changed_every}"));
            let (resources, changed) = prepare_plan(&dir, n, changed_every)
                .await
                .map_err(|e| anyhow::anyhow!("preparing the plan benchmark: {e}"))?;
            // The median of three runs, each in a fresh process: one run on a shared machine
            // can be off by half.
            let mut runs: Vec<PlanFigures> = Vec::new();
            for _ in 0..PLAN_RUNS {
                let out = Command::new(exe)
                    .arg("bench")
                    .arg("--child-plan")
                    .arg(&dir)
                    .output()
                    .context("running the plan benchmark")?;
                if !out.status.success() {
                    anyhow::bail!(
                        "plan benchmark of {n} resources failed: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                runs.push(
                    serde_json::from_slice(&out.stdout)
                        .context("reading the benchmark's figures")?,
                );
            }
            runs.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
            let mut f = runs.swap_remove(runs.len() / 2);
            f.resources = resources;
            f.changed = changed;
            println!(
                "{:>10}  {:>9}  {:>8.3}s  {:>11.1}µs  {:>7.1} MB  {:>8}",
                f.resources,
                if changed == 0 {
                    "none".to_string()
                } else {
                    format!("{changed} (1%)")
                },
                f.seconds,
                f.seconds * 1e6 / f.resources as f64,
                f.peak_rss_mb,
                f.changes
            );
            results.push(f);
        }
    }
    let per = |f: &PlanFigures| f.seconds / f.resources as f64;
    for changed in [false, true] {
        let of_kind: Vec<&PlanFigures> = results
            .iter()
            .filter(|f| (f.changed > 0) == changed)
            .collect();
        let base = of_kind
            .iter()
            .find(|f| f.resources >= 10_000)
            .or(of_kind.first());
        if let (Some(base), Some(last)) = (base, of_kind.last())
            && last.resources > base.resources
        {
            println!(
                "Time per resource, {} vs {} ({}): ×{:.2} (1.00 = linear)",
                last.resources,
                base.resources,
                if changed { "1% changed" } else { "no changes" },
                per(last) / per(base)
            );
        }
    }
    Ok(())
}

/// The child of the plan benchmark: what `cairn plan -e bench --refresh=false` does, timed.
async fn child_plan(dir: &Path) -> anyhow::Result<PlanFigures> {
    let started = Instant::now();
    let ctx = Context::new(Some(dir), true)?;
    let flags = PlanFlags {
        refresh: false,
        lock_timeout: std::time::Duration::ZERO,
        replace: Vec::new(),
        target: Vec::new(),
        refresh_only: false,
        parallelism: 10,
    };
    let options = PlanOptions {
        mode: PlanMode::Normal,
        replace: Vec::new(),
    };
    let (_, planned) = ctx.plan(ENVIRONMENT, &flags, &options, "plan").await?;
    let rendered = human::render(&planned.plan, &human::HumanOptions { color: false });
    let seconds = started.elapsed().as_secs_f64();
    std::hint::black_box(rendered);
    Ok(PlanFigures {
        resources: planned.plan.changes.len(),
        changed: 0,
        seconds,
        changes: planned
            .plan
            .changes
            .iter()
            .filter(|c| c.action != Action::NoOp)
            .count(),
        peak_rss_mb: crate::bench::peak_rss_mb(),
    })
}

async fn apply_section(quick: bool, work: &Path) -> anyhow::Result<()> {
    let (resources, speedup) = if quick { (200, 2000.0) } else { (1000, 1000.0) };
    let workload = apply::realistic_workload(&work.join("apply-project"), resources, speedup)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    println!(
        "\nApply scheduling: {} fake resources (networks, subnets, firewalls, databases, caches, load balancers, services, alarms),\neach create taking its type's typical time ÷ {speedup:.0} (a database 600 s → {} ms, a subnet 2 s → {} ms), local state written after every operation:\n",
        workload.plan.changes.len(),
        workload
            .latency_ms
            .get("fake_database")
            .copied()
            .unwrap_or(0),
        workload.latency_ms.get("fake_subnet").copied().unwrap_or(0),
    );
    println!(
        "{:>11}  {:>8}  {:>13}  {:>12}  {:>9}  {:>12}  {:>7}  {:>17}  {:>17}  {:>17}",
        "parallelism",
        "wall",
        "critical path",
        "work ÷ slots",
        "wall÷cp",
        "wall÷floor",
        "writes",
        "long-pole wait",
        "other wait",
        "overhead"
    );
    for parallelism in [Some(10), None] {
        let f = apply::measure_apply(
            &work.join("apply"),
            &workload.plan,
            &workload.latency_ms,
            parallelism,
        )
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
        println!(
            "{:>11}  {:>7.3}s  {:>12.3}s  {:>11.3}s  {:>9.2}  {:>12.2}  {:>7}  {:>7.0}/{:>5.0} ms  {:>7.0}/{:>5.0} ms  {:>7.1}/{:>5.1} ms",
            parallelism.map_or("unbounded".to_string(), |p| p.to_string()),
            f.wall_seconds,
            f.critical_path_seconds,
            f.work_per_slot_seconds,
            f.wall_seconds / f.critical_path_seconds,
            f.wall_seconds / f.lower_bound_seconds(),
            f.state_writes,
            f.long_pole_wait.0 * 1e3,
            f.long_pole_wait.1 * 1e3,
            f.other_wait.0 * 1e3,
            f.other_wait.1 * 1e3,
            f.overhead.0 * 1e3,
            f.overhead.1 * 1e3,
        );
    }
    println!(
        "\nfloor = the later of the critical path and the work divided by the parallelism (no scheduler can beat either).\nwait = median/maximum time from an operation's dependencies finishing to its start; long poles are creates typically over a minute.\noverhead = median/maximum time an operation took beyond its configured latency (its state writes, the provider's own work)."
    );
    Ok(())
}

fn startup_section(exe: &Path, project: &Path, env: &str, runs: usize) -> anyhow::Result<()> {
    let f = startup::measure_startup(exe, project, env, runs).map_err(|e| anyhow::anyhow!(e))?;
    println!("\nStart-up: `cairn validate -e {}`:\n", f.environment);
    println!(
        "  cold: {:.3}s ({})",
        f.cold_seconds,
        if f.cache_dropped {
            "page cache dropped first"
        } else {
            "first run; the page cache could not be dropped (root only)"
        }
    );
    println!(
        "  warm: median {:.3}s, best {:.3}s over {} runs",
        f.warm_median_seconds, f.warm_min_seconds, f.warm_runs
    );
    Ok(())
}

fn e2e_section(
    exe: &Path,
    ctx: &Context,
    args: &Args,
    text: &str,
    name: &str,
    work: &Path,
) -> anyhow::Result<()> {
    let env = args.environment.as_str();
    println!(
        "\nEnd to end on moto: environment `{env}` applied from scratch, planned again, destroyed; {} runs:\n",
        args.runs
    );
    let steps: [(&str, Vec<&str>); 3] = [
        ("apply", vec!["apply", "-e", env, "--auto-approve"]),
        (
            "plan (no change)",
            vec!["plan", "-e", env, "--detailed-exitcode"],
        ),
        ("destroy", vec!["destroy", "-e", env, "--auto-approve"]),
    ];
    let mut figures: Vec<Vec<moto::Step>> = vec![Vec::new(); steps.len()];
    for run in 0..args.runs.max(1) {
        // A system name of its own per run: names are unique in an account, and what moto cannot
        // delete (see below) must not collide with the next run.
        let renamed = moto::rename(text, name, &format!("{name}-r{run}"));
        let dir = moto::write_copy(&ctx.dir, &work.join(format!("e2e-{run}")), env, &renamed)
            .map_err(|e| anyhow::anyhow!(e))?;
        for (i, (_, step_args)) in steps.iter().enumerate() {
            let step = moto::run_step(exe, &dir, step_args).map_err(|e| anyhow::anyhow!(e))?;
            figures[i].push(step);
        }
    }
    println!(
        "{:>17}  {:>8}  {:>8}  {:>8}  {:>10}  {:>11}  calls by service (last run)",
        "", "min", "median", "max", "API calls", "exit codes"
    );
    for ((label, _), runs) in steps.iter().zip(&figures) {
        let seconds: Vec<f64> = runs.iter().map(|s| s.seconds).collect();
        let (min, median, max) = moto::spread(&seconds);
        let last = runs.last().map(|s| s.calls.clone()).unwrap_or_default();
        let mut codes: Vec<i32> = runs.iter().map(|s| s.exit_code).collect();
        codes.dedup();
        println!(
            "{label:>17}  {min:>7.2}s  {median:>7.2}s  {max:>7.2}s  {:>10}  {:>11}  {}",
            last.total(),
            codes
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(","),
            summary(&last.by_service)
        );
    }
    if let Some(failed) = figures[2].iter().find(|s| s.exit_code != 0) {
        let reason = failed
            .stderr
            .lines()
            .rfind(|l| l.contains("error"))
            .unwrap_or("");
        println!(
            "\nA destroy that exits non-zero on moto: {}\n(moto never finishes deleting an ElastiCache replication group; a run's cache and what it sits in stay behind.)",
            reason.trim()
        );
    }
    Ok(())
}

fn refresh_section(
    exe: &Path,
    ctx: &Context,
    args: &Args,
    text: &str,
    name: &str,
    work: &Path,
) -> anyhow::Result<()> {
    let env = args.environment.as_str();
    println!(
        "\nRefresh API calls: environment `{env}` copied {} times, applied, then `cairn plan` (refresh, no change):\n",
        args.scales
            .iter()
            .map(|s| format!("{s}×"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut rows: Vec<(usize, usize, f64, f64, ApiCalls)> = Vec::new();
    for &scale in &args.scales {
        let renamed = moto::rename(text, name, &format!("{name}-x{scale}"));
        let scaled = moto::scale_environment(&renamed, &format!("{name}-x{scale}"), scale)
            .map_err(|e| anyhow::anyhow!(e))?;
        let dir = moto::write_copy(
            &ctx.dir,
            &work.join(format!("refresh-{scale}")),
            env,
            &scaled,
        )
        .map_err(|e| anyhow::anyhow!(e))?;
        let applied = moto::run_step(
            exe,
            &dir,
            &["apply", "-e", env, "--auto-approve", "--parallelism", "20"],
        )
        .map_err(|e| anyhow::anyhow!(e))?;
        if applied.exit_code != 0 {
            anyhow::bail!(
                "applying {scale}× the environment failed:\n{}",
                tail(&applied.stderr, 20)
            );
        }
        let planned = moto::run_step(exe, &dir, &["plan", "-e", env, "--detailed-exitcode"])
            .map_err(|e| anyhow::anyhow!(e))?;
        let resources = count_resources(exe, &dir, env);
        rows.push((
            scale,
            resources,
            applied.seconds,
            planned.seconds,
            planned.calls,
        ));
    }
    println!(
        "{:>6}  {:>9}  {:>9}  {:>12}  {:>10}  {:>15}  calls by service",
        "scale", "resources", "apply", "refresh+plan", "API calls", "calls/resource"
    );
    for (scale, resources, apply_s, plan_s, calls) in &rows {
        println!(
            "{:>5}×  {resources:>9}  {apply_s:>8.1}s  {plan_s:>11.2}s  {:>10}  {:>15.3}  {}",
            scale,
            calls.total(),
            calls.total() as f64 / (*resources).max(1) as f64,
            summary(&calls.by_service)
        );
    }
    println!("\nRefresh calls by resource type, per scale:\n");
    let types: std::collections::BTreeSet<&String> =
        rows.iter().flat_map(|r| r.4.by_type.keys()).collect();
    print!("{:>40}", "");
    for (scale, ..) in &rows {
        print!("  {:>6}", format!("{scale}×"));
    }
    println!();
    for ty in types {
        print!("{ty:>40}");
        for row in &rows {
            print!("  {:>6}", row.4.by_type.get(ty).copied().unwrap_or(0));
        }
        println!();
    }
    Ok(())
}

/// The environment's system name: the `name:` its first module call is given (the reference
/// stack names everything after it).
fn system_name(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("inputs: { name: ")?;
        Some(
            rest.split([',', ' ', '}'])
                .next()?
                .trim_matches('"')
                .to_string(),
        )
    })
}

fn count_resources(exe: &Path, dir: &Path, env: &str) -> usize {
    Command::new(exe)
        .arg("-C")
        .arg(dir)
        .args(["state", "list", "-e", env])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).lines().count())
        .unwrap_or(0)
}

fn summary(counts: &std::collections::BTreeMap<String, u64>) -> String {
    counts
        .iter()
        .map(|(k, n)| format!("{k}={n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn tempdir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("cairn-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
