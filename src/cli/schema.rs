//! `cairn schema [TYPE]`: the resource types cairn knows, or one type's attributes.

use super::Outcome;
use super::project::Context;
use crate::schema::{Presence, SchemaKind};
use crate::spec::diagnostic::did_you_mean;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A resource type, e.g. fake_network.
    pub resource_type: Option<String>,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<Outcome> {
    let registry = &ctx.catalog.schemas;
    let Some(name) = args.resource_type else {
        let width = registry.type_names().map(str::len).max().unwrap_or(4);
        println!(
            "{:width$}  {:8}  {:11}  DESCRIPTION",
            "TYPE", "PROVIDER", "KIND"
        );
        for s in registry.iter() {
            let kind = match s.kind {
                crate::schema::SchemaKind::Resource => "resource",
                crate::schema::SchemaKind::DataSource => "data source",
            };
            println!(
                "{:width$}  {:8}  {:11}  {}",
                s.type_name, s.provider, kind, s.description
            );
        }
        return Ok(Outcome::Success);
    };
    let Some(schema) = registry.get(&name) else {
        let hint = match did_you_mean(&name, registry.type_names()) {
            Some(close) => format!("did you mean `{close}`?"),
            None => "run `cairn schema` to list them".to_string(),
        };
        anyhow::bail!("unknown resource type `{name}`: {hint}");
    };
    println!(
        "{} ({} provider): {}\n",
        schema.type_name, schema.provider, schema.description
    );
    let width = schema
        .attributes
        .iter()
        .map(|a| a.name.len())
        .max()
        .unwrap_or(4)
        .max(9);
    println!(
        "{:width$}  {:14}  {:17}  {:7}  {:9}  DEFAULT",
        "ATTRIBUTE", "TYPE", "PRESENCE", "REPLACE", "SENSITIVE"
    );
    for a in &schema.attributes {
        let presence = match a.presence {
            Presence::Required => "required",
            Presence::Optional => "optional",
            Presence::OptionalComputed => "optional+computed",
            Presence::Computed => "computed",
        };
        let default = a
            .default
            .as_ref()
            .map(|d| d.to_string())
            .unwrap_or_default();
        println!(
            "{:width$}  {:14}  {:17}  {:7}  {:9}  {default}",
            a.name,
            a.ty.to_string(),
            presence,
            if a.force_new {
                "yes"
            } else if a.deferred {
                "window"
            } else {
                ""
            },
            if a.sensitive { "yes" } else { "" },
        );
    }
    if schema.attributes.iter().any(|a| a.deferred) {
        println!(
            "\nREPLACE `window`: an in-place change the cloud applies in the next maintenance window unless `{}: true`.",
            schema.apply_immediately
        );
    }
    if schema.kind == SchemaKind::Resource {
        let id = match schema.import_id {
            "" => "ID",
            format => format,
        };
        println!("\nImport: cairn import -e ENV ADDRESS {id}",);
    }
    Ok(Outcome::Success)
}
