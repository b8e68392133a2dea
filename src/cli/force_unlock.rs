//! `cairn force-unlock ID -e ENV`: removes a lock its holder will never release (a cairn that
//! was killed while it held an S3 lock). Only the lock whose id is ID is removed, so a lock
//! taken since by someone else is never broken by mistake.

use super::Outcome;
use super::project::Context;
use crate::spec::model::Backend;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "The id is the `lock id` printed by the command that found the lock held:
  Error: state of environment `prd` is locked by ci@runner-7 (pid 4242, running `apply`, since 2026-01-05T10:00:00Z, lock id 3f2a…)
  cairn force-unlock 3f2a… -e prd

Make sure that process is really gone first: its lock is what keeps two applies apart.
The local backend's lock is an OS lock that ends with its holder, so it is never stale."
)]
pub struct Args {
    /// The lock's id, as the \"locked by\" message prints it.
    pub id: String,
    #[arg(short, long = "env", value_name = "ENV")]
    pub env: String,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<Outcome> {
    // A broken environment file must not send the unlock to the wrong backend.
    let backend: Backend = ctx.load(&args.env)?.env.backend;
    let store = ctx.store(&args.env, &backend);
    let holder = store.force_unlock(&args.id).await?;
    println!(
        "Removed the lock of environment `{}` ({}), held by {holder}.",
        args.env,
        store.describe()
    );
    Ok(Outcome::Success)
}
