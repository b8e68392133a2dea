//! `cairn state list|show`: what state records for an environment.

use super::Outcome;
use super::project::{Context, show_value};
use crate::addr::ResourceAddr;
use crate::spec::model::Backend;

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
}

pub async fn run(ctx: &Context, cmd: Command) -> anyhow::Result<Outcome> {
    let env = match &cmd {
        Command::List { env } | Command::Show { env, .. } => env.clone(),
    };
    // The backend is configured in the environment file; a broken file still leaves the default.
    let backend = ctx
        .load(&env)
        .map(|l| l.env.backend)
        .unwrap_or(Backend::Local { path: None });
    let store = ctx.store(&env, &backend);
    let Some(state) = store.load().await? else {
        anyhow::bail!(
            "environment `{env}` has no state yet ({}): nothing has been applied",
            store.describe()
        );
    };
    match cmd {
        Command::List { .. } => {
            for addr in state.resources.keys() {
                println!("{addr}");
            }
        }
        Command::Show { address, .. } => {
            let Some(rs) = state.resources.get(&address) else {
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
        }
    }
    Ok(Outcome::Success)
}
