//! `cairn import -e ENV ADDRESS ID`: adopt an existing cloud object at an address the spec
//! declares. Nothing in the cloud changes; the next plan shows how the object differs from the
//! spec.

use super::Outcome;
use super::project::{Context, PlanFlags};
use crate::addr::ResourceAddr;
use crate::engine::import::import;
use crate::plan::PlanMode;
use crate::plan::diff::PlanOptions;
use crate::spec::diagnostic::did_you_mean;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  cairn import -e dev aws_vpc.main vpc-0a1b2c3d
  cairn import -e dev 'module.network.aws_subnet.private[\"us-east-1a\"]' subnet-0a1b2c3d
  cairn import -e dev aws_s3_bucket.logs my-logs-bucket")]
pub struct Args {
    /// The environment: environments/ENV.yaml.
    #[arg(short, long = "env", value_name = "ENV")]
    pub env: String,
    /// Where the object goes: an address the spec declares, such as aws_vpc.main.
    pub address: ResourceAddr,
    /// The object's cloud id, as the type's schema documents it (`cairn schema TYPE`).
    pub id: String,
    #[command(flatten)]
    pub flags: PlanFlags,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<Outcome> {
    let options = PlanOptions {
        mode: PlanMode::Normal,
        replace: Vec::new(),
    };
    let (_, mut planned) = ctx.plan(&args.env, &args.flags, &options, "import").await?;
    let Some(change) = planned.plan.change(&args.address) else {
        let known: Vec<String> = planned
            .plan
            .changes
            .iter()
            .map(|c| c.address.to_string())
            .collect();
        let hint = did_you_mean(&args.address.to_string(), known.iter().map(String::as_str))
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        anyhow::bail!(
            "environment `{}` declares no resource {}{hint}\nAdd it to the spec first: import only records an existing object at a declared address.",
            args.env,
            args.address
        );
    };
    let change = change.clone();
    let entry = import(&mut planned.state, &change, &args.id, &planned.providers).await?;
    planned.store.save(&mut planned.state).await?;
    println!(
        "{}: imported {} `{}`",
        args.address,
        entry.resource_type,
        entry.id.as_deref().unwrap_or(&args.id)
    );
    println!(
        "\nImport successful! The object is now in the state of `{}` and cairn manages it.\nRun `cairn plan -e {}` to see how it differs from the spec.",
        args.env, args.env
    );
    Ok(Outcome::Success)
}
