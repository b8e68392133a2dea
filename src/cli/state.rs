//! `cairn state list|show|mv|rm|migrate`: what state records for an environment, and the surgery a team
//! needs after refactoring (rename without replacing, forget without destroying). Every change
//! is a new serial, saved under the lock with the previous file kept as a backup; `migrate` copies
//! a state to another backend with its lineage and serial unchanged.

use std::time::Duration;

use super::Outcome;
use super::project::{Context, lock_error, parse_duration, show_value};
use crate::addr::{AddrSelector, ResourceAddr};
use crate::spec::model::{Backend, S3Location};
use crate::state::surgery::{move_addresses, remove_addresses};
use crate::state::{LockInfo, State, StateStore};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List every address in state.
    List {
        #[arg(short, long = "env", value_name = "ENV")]
        env: String,
    },
    /// Show one instance's id and attributes (secrets masked).
    Show {
        address: ResourceAddr,
        #[arg(short, long = "env", value_name = "ENV")]
        env: String,
    },
    /// Rename an instance, a resource (every instance) or a module in state; the cloud is not
    /// touched. Refused when the destination is already in state.
    #[command(after_help = "Examples:
  cairn state mv -e dev aws_vpc.main aws_vpc.core
  cairn state mv -e dev module.net module.network
  cairn state mv -e dev 'aws_subnet.public[0]' 'aws_subnet.public[\"a\"]'")]
    Mv {
        #[arg(short, long = "env", value_name = "ENV")]
        env: String,
        from: AddrSelector,
        to: AddrSelector,
        #[command(flatten)]
        lock: LockFlags,
    },
    /// Forget instances: cairn stops managing them, and the cloud objects stay as they are.
    #[command(after_help = "Examples:
  cairn state rm -e dev aws_s3_bucket.legacy
  cairn state rm -e dev module.old_network")]
    Rm {
        #[arg(short, long = "env", value_name = "ENV")]
        env: String,
        #[arg(required = true, value_name = "ADDRESS")]
        addresses: Vec<AddrSelector>,
        #[command(flatten)]
        lock: LockFlags,
    },
    /// Copy the environment's state from its previous backend into the one its environment file
    /// now names, keeping lineage and serial. The old copy is left as it was.
    #[command(
        after_help = "Change `backend:` in environments/ENV.yaml first, then name where the state was:
  cairn state migrate -e prd --from local                 (the default .cairn/state/prd.json)
  cairn state migrate -e prd --from local:state/prd.json
  cairn state migrate -e prd --from s3://acme-cairn-state/envs/prd.json --from-region eu-west-1
Refused when the destination already holds a state of another lineage, or a newer one."
    )]
    Migrate {
        #[arg(short, long = "env", value_name = "ENV")]
        env: String,
        /// Where the state is now: `local`, `local:PATH` or `s3://BUCKET/KEY`.
        #[arg(long, value_name = "BACKEND")]
        from: String,
        /// The region of the `--from` bucket (default: the SDK's, AWS_REGION).
        #[arg(long, value_name = "REGION")]
        from_region: Option<String>,
        #[command(flatten)]
        lock: LockFlags,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct LockFlags {
    /// How long to wait for a state lock held by someone else, e.g. 30s (default: fail at once).
    #[arg(long, value_parser = parse_duration, default_value = "0s", value_name = "DURATION")]
    pub lock_timeout: Duration,
}

pub async fn run(ctx: &Context, cmd: Command) -> anyhow::Result<Outcome> {
    if let Command::Migrate {
        env,
        from,
        from_region,
        lock,
    } = &cmd
    {
        migrate(ctx, env, from, from_region.as_deref(), lock).await?;
        return Ok(Outcome::Success);
    }
    let env = match &cmd {
        Command::List { env }
        | Command::Show { env, .. }
        | Command::Mv { env, .. }
        | Command::Rm { env, .. }
        | Command::Migrate { env, .. } => env.clone(),
    };
    // The backend is configured in the environment file; a broken file still leaves the default.
    let backend = ctx
        .load(&env)
        .map(|l| l.env.backend)
        .unwrap_or(Backend::Local { path: None });
    let store = ctx.store(&env, &backend);
    match cmd {
        Command::Migrate { .. } => {}
        Command::List { .. } => {
            for addr in existing(&*store, &env).await?.resources.keys() {
                println!("{addr}");
            }
        }
        Command::Show { address, .. } => show(&existing(&*store, &env).await?, &address, &env)?,
        Command::Mv { from, to, lock, .. } => {
            let _lock = store
                .lock(LockInfo::for_current_process("state mv"), lock.lock_timeout)
                .await
                .map_err(lock_error)?;
            let mut state = existing(&*store, &env).await?;
            let moves = move_addresses(&mut state, &from, &to)?;
            let serial = state.serial;
            store.save(&mut state).await?;
            for (old, new) in &moves {
                println!("Moved {old} to {new}");
            }
            println!(
                "\nSuccessfully moved {} in state. Nothing in the cloud changed.",
                objects(moves.len())
            );
            print_saved(&*store, serial, state.serial);
        }
        Command::Rm {
            addresses, lock, ..
        } => {
            let _lock = store
                .lock(LockInfo::for_current_process("state rm"), lock.lock_timeout)
                .await
                .map_err(lock_error)?;
            let mut state = existing(&*store, &env).await?;
            let mut gone = Vec::new();
            for selector in &addresses {
                gone.extend(remove_addresses(&mut state, selector)?);
            }
            let serial = state.serial;
            store.save(&mut state).await?;
            for addr in &gone {
                println!("Removed {addr}");
            }
            println!(
                "\nSuccessfully removed {} from state. The cloud objects still exist: cairn no longer manages them.\nIf the spec still declares them, the next plan creates new ones; `cairn import` adopts an object again.",
                objects(gone.len())
            );
            print_saved(&*store, serial, state.serial);
        }
    }
    Ok(Outcome::Success)
}

/// `local`, `local:PATH` or `s3://BUCKET/KEY`: where `state migrate` copies from.
fn parse_source(text: &str, region: Option<&str>) -> anyhow::Result<Backend> {
    if text == "local" {
        return Ok(Backend::Local { path: None });
    }
    if let Some(path) = text.strip_prefix("local:").filter(|p| !p.is_empty()) {
        return Ok(Backend::Local {
            path: Some(path.into()),
        });
    }
    if let Some(rest) = text.strip_prefix("s3://")
        && let Some((bucket, key)) = rest.split_once('/')
        && !bucket.is_empty()
        && !key.is_empty()
    {
        return Ok(Backend::S3(S3Location {
            bucket: bucket.to_string(),
            key: key.to_string(),
            region: region.map(str::to_string),
        }));
    }
    anyhow::bail!(
        "--from {text:?} names no backend: write `local`, `local:PATH` or `s3://BUCKET/KEY`"
    )
}

/// Copies the state from `from` into the environment file's backend, lineage and serial
/// unchanged, both locked throughout.
async fn migrate(
    ctx: &Context,
    env: &str,
    from: &str,
    from_region: Option<&str>,
    lock: &LockFlags,
) -> anyhow::Result<()> {
    let to = ctx.load(env)?.env.backend;
    let source = ctx.store(env, &parse_source(from, from_region)?);
    let destination = ctx.store(env, &to);
    if source.describe() == destination.describe() {
        anyhow::bail!(
            "--from names the backend environments/{env}.yaml already uses ({}): change `backend:` in the file to where the state should go, then migrate",
            destination.describe()
        );
    }
    let info = || LockInfo::for_current_process("state migrate");
    let _source_lock = source
        .lock(info(), lock.lock_timeout)
        .await
        .map_err(lock_error)?;
    let _destination_lock = destination
        .lock(info(), lock.lock_timeout)
        .await
        .map_err(lock_error)?;
    let Some(state) = source.load().await? else {
        anyhow::bail!(
            "{} holds no state of `{env}`: nothing to migrate",
            source.describe()
        );
    };
    if let Some(there) = destination.load().await? {
        if there.lineage != state.lineage {
            anyhow::bail!(
                "{} already holds a state of `{env}` of another lineage ({}, serial {}) than {} ({}, serial {}): it was not overwritten.\nThey are two different histories of the environment; remove the one that is wrong by hand if that is what you mean.",
                destination.describe(),
                there.lineage,
                there.serial,
                source.describe(),
                state.lineage,
                state.serial
            );
        }
        if there.serial > state.serial {
            anyhow::bail!(
                "{} already holds a newer state of `{env}` (serial {} > {}): it was not overwritten; the environment was probably migrated and applied since",
                destination.describe(),
                there.serial,
                state.serial
            );
        }
        if there.serial == state.serial {
            println!(
                "{} already holds this state of `{env}` (lineage {}, serial {}): nothing to copy.",
                destination.describe(),
                state.lineage,
                state.serial
            );
            return Ok(());
        }
    }
    destination.save_copy(&state).await?;
    println!(
        "Copied the state of `{env}` ({}, lineage {}, serial {}) from {} to {}.",
        objects(state.resources.len()),
        state.lineage,
        state.serial,
        source.describe(),
        destination.describe()
    );
    println!(
        "cairn now uses {}; {} was left as it was: delete it once everyone uses the new backend.",
        destination.describe(),
        source.describe()
    );
    Ok(())
}

async fn existing(store: &dyn StateStore, env: &str) -> anyhow::Result<State> {
    match store.load().await? {
        Some(state) => Ok(state),
        None => anyhow::bail!(
            "environment `{env}` has no state yet ({}): nothing has been applied",
            store.describe()
        ),
    }
}

fn objects(n: usize) -> String {
    if n == 1 {
        "1 object".to_string()
    } else {
        format!("{n} objects")
    }
}

fn print_saved(store: &dyn StateStore, before: u64, after: u64) {
    let backup = store
        .backup_hint()
        .map(|b| format!("; the previous state is kept in {b}"))
        .unwrap_or_default();
    println!("State serial {before} -> {after}{backup}.");
}

fn show(state: &State, address: &ResourceAddr, env: &str) -> anyhow::Result<()> {
    let Some(rs) = state.resources.get(address) else {
        anyhow::bail!(
            "{address} is not in the state of `{env}`; `cairn state list -e {env}` lists what is"
        );
    };
    println!("# {address}");
    println!("type     = {}", rs.resource_type);
    println!("provider = {}", rs.provider);
    let mode = match rs.mode {
        crate::addr::ResourceMode::Managed => "managed",
        crate::addr::ResourceMode::Data => "data",
    };
    println!("mode     = {mode}");
    println!(
        "id       = {}",
        rs.id.as_deref().unwrap_or("(pending create)")
    );
    if let Some(attrs) = rs.attributes.as_map() {
        let width = attrs.keys().map(String::len).max().unwrap_or(0);
        println!();
        for (k, v) in attrs {
            println!("{k:width$} = {}", show_value(v));
        }
    }
    Ok(())
}
