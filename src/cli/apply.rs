//! `cairn apply [-e ENV | PLANFILE]` and `cairn destroy -e ENV`: show the plan, confirm,
//! execute it with progress, and report what happened.

use std::path::PathBuf;

use super::Outcome;
use super::output::confirm;
use super::progress::{self, Progress};
use super::project::{Context, PlanFlags, lock_and_read, show_value};
use crate::engine::{self, ApplyOptions, Cancel, Op, RetryPolicy};
use crate::plan::diff::PlanOptions;
use crate::plan::render::human;
use crate::plan::{Plan, PlanMode};
use crate::providers::ProviderSet;
use crate::spec::model::Backend;
use crate::state::{State, StateStore};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A plan saved with `cairn plan --out FILE`: applied exactly, without re-reading the YAML.
    #[arg(value_name = "PLANFILE", conflicts_with = "env")]
    pub plan_file: Option<PathBuf>,
    /// The environment to plan and apply: environments/ENV.yaml.
    #[arg(short, long = "env", value_name = "ENV")]
    pub env: Option<String>,
    /// Apply without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    #[command(flatten)]
    pub flags: PlanFlags,
}

#[derive(Debug, clap::Args)]
pub struct DestroyArgs {
    /// The environment to destroy: environments/ENV.yaml.
    #[arg(short, long = "env", value_name = "ENV")]
    pub env: String,
    /// Destroy without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    #[command(flatten)]
    pub flags: PlanFlags,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<Outcome> {
    if let Some(file) = &args.plan_file {
        return apply_saved(ctx, file, &args.flags).await;
    }
    let Some(env) = &args.env else {
        anyhow::bail!("say what to apply: `cairn apply -e ENV` or `cairn apply PLANFILE`");
    };
    let options = PlanOptions {
        mode: if args.flags.refresh_only {
            PlanMode::RefreshOnly
        } else {
            PlanMode::Normal
        },
        replace: args.flags.replace.clone(),
    };
    let question =
        "Do you want to perform these actions?\n  cairn will perform the actions described above.";
    plan_confirm_execute(ctx, env, &args.flags, &options, args.auto_approve, question).await
}

pub async fn destroy(ctx: &Context, args: DestroyArgs) -> anyhow::Result<Outcome> {
    let options = PlanOptions {
        mode: PlanMode::Destroy,
        replace: Vec::new(),
    };
    let question = format!(
        "Do you really want to destroy all resources in environment `{}`?\n  There is no undo.",
        args.env
    );
    plan_confirm_execute(
        ctx,
        &args.env,
        &args.flags,
        &options,
        args.auto_approve,
        &question,
    )
    .await
}

/// Plans, shows the plan, asks (unless approved in advance) and applies.
async fn plan_confirm_execute(
    ctx: &Context,
    env: &str,
    flags: &PlanFlags,
    options: &PlanOptions,
    auto_approve: bool,
    question: &str,
) -> anyhow::Result<Outcome> {
    let operation = match options.mode {
        PlanMode::Normal | PlanMode::RefreshOnly => "apply",
        PlanMode::Destroy => "destroy",
    };
    let (_, planned) = ctx.plan(env, flags, options, operation).await?;
    print!(
        "{}",
        human::render(&planned.plan, &human::HumanOptions { color: ctx.color })
    );
    if !planned.plan.can_apply() {
        return Ok(Outcome::Success);
    }
    if !auto_approve && !confirm(question)? {
        println!(
            "\n{} cancelled.",
            if operation == "apply" {
                "Apply"
            } else {
                "Destroy"
            }
        );
        return Ok(Outcome::Success);
    }
    execute(
        &planned.plan,
        planned.state,
        planned.store.as_ref(),
        &planned.providers,
        flags.parallelism,
    )
    .await
}

/// Applies a saved plan: its own graph and values, against the state it was made for.
async fn apply_saved(
    ctx: &Context,
    file: &std::path::Path,
    flags: &PlanFlags,
) -> anyhow::Result<Outcome> {
    let plan = crate::plan::file::load(&ctx.dir.join(file))?;
    let backend = match &plan.prior_state.s3 {
        Some(location) => Backend::S3(location.clone()),
        None => Backend::Local {
            path: plan.prior_state.path.as_ref().map(PathBuf::from),
        },
    };
    let store = ctx.store(&plan.environment, &backend);
    let (_lock, stored) = lock_and_read(&*store, "apply", flags.lock_timeout).await?;
    crate::plan::file::check_applicable(&plan, None, stored.as_ref())?;
    let state = stored.unwrap_or_else(|| State::new(&plan.environment));
    let providers = ProviderSet::from_configs(&ctx.catalog, &plan.providers)?;
    if !plan.can_apply() {
        println!("The plan has no changes: nothing to apply.");
        return Ok(Outcome::Success);
    }
    execute(&plan, state, store.as_ref(), &providers, flags.parallelism).await
}

/// A refresh-only apply: state takes what the cloud reported (and the `moved:` renames); the
/// cloud is not touched.
async fn accept_drift(
    plan: &Plan,
    mut state: State,
    store: &dyn StateStore,
) -> anyhow::Result<Outcome> {
    let renames: Vec<_> = plan
        .moved
        .iter()
        .map(|m| (m.from.clone(), m.to.clone()))
        .collect();
    crate::state::surgery::rename(&mut state, &renames);
    crate::plan::drift::accept(&mut state, plan);
    store.save(&mut state).await?;
    println!(
        "Apply complete! Recorded {} change(s) made outside cairn in the state (serial {}); nothing in the cloud changed.",
        plan.drift.len(),
        state.serial
    );
    Ok(Outcome::Success)
}

/// Runs the engine with progress output and Ctrl-C handling, then reports the outcome.
async fn execute(
    plan: &Plan,
    state: State,
    store: &dyn StateStore,
    providers: &ProviderSet,
    parallelism: usize,
) -> anyhow::Result<Outcome> {
    let cancel = Cancel::new();
    let watcher = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!(
                    "\nInterrupt received: starting no new operations, waiting for those in flight to finish and be recorded. Press Ctrl-C again to exit at once."
                );
                cancel.cancel();
            }
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!(
                    "\nSecond interrupt: exiting now. State records every operation that completed; operations in flight are recorded as pending and resolved by the next run."
                );
                std::process::exit(130);
            }
        })
    };
    println!();
    let mut state = state;
    if plan.mode == PlanMode::RefreshOnly {
        return accept_drift(plan, state, store).await;
    }
    if !plan.moved.is_empty() {
        // Renames are recorded before any operation, so an apply interrupted later still
        // finds each moved object under the address the spec gives it.
        let renames: Vec<_> = plan
            .moved
            .iter()
            .map(|m| (m.from.clone(), m.to.clone()))
            .collect();
        crate::state::surgery::rename(&mut state, &renames);
        store.save(&mut state).await?;
        for m in &plan.moved {
            println!("{}: moved from {}", m.to, m.from);
        }
    }
    let hooks = Progress::start();
    let outcome = engine::apply(
        plan,
        state,
        store,
        providers,
        &ApplyOptions {
            parallelism: parallelism.max(1),
            retry: RetryPolicy::default(),
        },
        hooks.as_ref(),
        &cancel,
    )
    .await;
    watcher.abort();
    hooks.stop();

    let (mut added, mut changed, mut destroyed) = (0, 0, 0);
    for report in &outcome.completed {
        match report.op {
            Op::Create => added += 1,
            Op::Update => changed += 1,
            Op::Delete => destroyed += 1,
            Op::Read => {}
        }
    }
    for failure in &outcome.failed {
        eprintln!(
            "\nError: {} {}: {}",
            progress::verb_ing(failure.op).to_lowercase(),
            failure.addr,
            failure.error
        );
    }
    if !outcome.skipped.is_empty() {
        eprintln!();
        for (addr, op, why) in &outcome.skipped {
            eprintln!("Skipped: {} {addr}: {why}", verb(*op));
        }
    }
    let counts = format!("{added} added, {changed} changed, {destroyed} destroyed");
    if outcome.cancelled {
        eprintln!(
            "\nApply interrupted. Resources: {counts}. {} operations were not started; run apply again to finish.",
            outcome.skipped.len()
        );
        return Err(anyhow::anyhow!("apply was interrupted"));
    }
    if !outcome.failed.is_empty() {
        anyhow::bail!(
            "apply failed: {} operation{} failed, {} skipped; resources: {counts}. State records everything that was created.",
            outcome.failed.len(),
            if outcome.failed.len() == 1 { "" } else { "s" },
            outcome.skipped.len()
        );
    }
    let verb = if plan.mode == PlanMode::Destroy {
        "Destroy"
    } else {
        "Apply"
    };
    println!("\n{verb} complete! Resources: {counts}.");
    if !outcome.state.outputs.is_empty() {
        println!("\nOutputs:\n");
        let width = outcome
            .state
            .outputs
            .keys()
            .map(String::len)
            .max()
            .unwrap_or(0);
        for (name, value) in &outcome.state.outputs {
            println!("{name:width$} = {}", show_value(value));
        }
    }
    Ok(Outcome::Success)
}

fn verb(op: Op) -> &'static str {
    match op {
        Op::Create => "create",
        Op::Update => "update",
        Op::Delete => "delete",
        Op::Read => "read",
    }
}
