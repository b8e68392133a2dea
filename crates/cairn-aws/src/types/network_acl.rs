//! `aws_network_acl`: a stateless subnet firewall of a VPC, associated with `subnet_ids`. Rules
//! are separate `aws_network_acl_rule` resources (no inline rules). A subnet always has exactly
//! one network ACL, so associating one moves it off its current ACL, and releasing it (on
//! update or delete) moves it back to the VPC's default ACL.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ec2::types::{NetworkAcl, ResourceType};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{
    Attrs, arn_schema, id_schema, required, string_list, tags_schema, tags_value, text,
};
use crate::config::Clients;
use crate::ec2::{self, batched, filter, tag_pairs, tag_spec};
use crate::errors::sdk_error;
use crate::paginate::all_pages;

pub struct NetworkAclType;

const TYPE: &str = "aws_network_acl";
const ID_FILTER: &str = "network-acl-id";

#[async_trait]
impl Resource for NetworkAclType {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("A network ACL of a VPC, associated with subnets")
            .attr(AttrSchema::required("vpc_id", AttrType::String).force_new())
            .attr(
                AttrSchema::optional("subnet_ids", AttrType::List(Box::new(AttrType::String)))
                    .default(Value::List(Vec::new()))
                    .describe("Subnets to move onto this ACL"),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
            .attr(AttrSchema::computed("owner_id", AttrType::String))
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let acls = batched(
            items,
            ID_FILTER,
            |f| async move {
                // moto 5.2 does not implement the `network-acl-id` filter (AWS does): list the
                // region's ACLs, a handful per VPC, and let `batched` pick the ids it asked for.
                let by_id = f.name() == Some(ID_FILTER);
                describe(aws, if by_id { Vec::new() } else { vec![f] }).await
            },
            |a| a.network_acl_id(),
            |a| a.tags(),
        )
        .await?;
        let priors: BTreeMap<&str, &Value> = items
            .iter()
            .map(|i| (i.address.as_str(), &i.prior))
            .collect();
        let mut found = BTreeMap::new();
        for (address, a) in acls {
            let Some(id) = a.network_acl_id() else {
                continue;
            };
            let mut subnets: Vec<String> = a
                .associations()
                .iter()
                .filter_map(|s| s.subnet_id().map(str::to_string))
                .collect();
            // AWS lists associations in no particular order; keep the configured order so a
            // re-plan is empty.
            let prior = priors
                .get(address.as_str())
                .map(|p| subnet_ids(p))
                .unwrap_or_default();
            subnets.sort_by_key(|s| {
                let configured = prior.iter().position(|p| p == s);
                (configured.unwrap_or(usize::MAX), s.clone())
            });
            let owner = a.owner_id().unwrap_or_default();
            let attributes = Attrs::new()
                .set("id", id)
                .set("arn", ec2::arn(&aws.region, owner, "network-acl", id))
                .opt("vpc_id", a.vpc_id())
                .set("subnet_ids", string_list(subnets))
                .set("tags", tags_value(tag_pairs(a.tags())))
                .set("owner_id", owner)
                .build();
            found.insert(
                address,
                ReadResult {
                    id: id.to_string(),
                    attributes,
                },
            );
        }
        Ok(found)
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let vpc = required(TYPE, &req.config, "vpc_id")?;
        let out = aws
            .ec2
            .create_network_acl()
            .vpc_id(vpc)
            .tag_specifications(tag_spec(
                ResourceType::NetworkAcl,
                &req.config,
                &req.address,
            ))
            .send()
            .await
            .map_err(|e| sdk_error("CreateNetworkAcl", e))?;
        let id = out
            .network_acl()
            .and_then(|a| a.network_acl_id())
            .ok_or_else(|| ProviderError::new(ErrorKind::Other, "CreateNetworkAcl returned no id"))?
            .to_string();
        move_subnets(aws, &subnet_ids(&req.config), &id).await?;
        Ok(id)
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let (before, after) = (subnet_ids(&req.prior), subnet_ids(&req.config));
        let added: Vec<String> = after
            .iter()
            .filter(|s| !before.contains(s))
            .cloned()
            .collect();
        let removed: Vec<String> = before
            .iter()
            .filter(|s| !after.contains(s))
            .cloned()
            .collect();
        move_subnets(aws, &added, &req.id).await?;
        if !removed.is_empty() {
            let vpc = required(TYPE, &req.prior, "vpc_id")?;
            let default = default_acl(aws, vpc).await?;
            move_subnets(aws, &removed, &default).await?;
        }
        ec2::sync_tags(&aws.ec2, &req.id, &req.prior, &req.config).await
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        // An ACL with subnets cannot be deleted: hand them back to the VPC's default first.
        let mine: Vec<String> = describe(aws, vec![filter("vpc-id", &vpc_of(&req.prior))])
            .await?
            .iter()
            .filter(|a| a.network_acl_id() == Some(req.id.as_str()))
            .flat_map(|a| a.associations())
            .filter_map(|s| s.subnet_id().map(str::to_string))
            .collect();
        if let Some(vpc) = text(&req.prior, "vpc_id").filter(|_| !mine.is_empty()) {
            let default = default_acl(aws, vpc).await?;
            move_subnets(aws, &mine, &default).await?;
        }
        aws.ec2
            .delete_network_acl()
            .network_acl_id(&req.id)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteNetworkAcl", e))?;
        Ok(())
    }
}

fn vpc_of(prior: &Value) -> Vec<String> {
    text(prior, "vpc_id")
        .map(str::to_string)
        .into_iter()
        .collect()
}

fn subnet_ids(config: &Value) -> Vec<String> {
    config
        .get("subnet_ids")
        .and_then(Value::as_list)
        .map(|l| {
            l.iter()
                .filter_map(|v| v.expose().as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) async fn describe(
    aws: &Clients,
    filters: Vec<aws_sdk_ec2::types::Filter>,
) -> Result<Vec<NetworkAcl>, ProviderError> {
    all_pages(|token| {
        let filters = filters.clone();
        async move {
            let out = aws
                .ec2
                .describe_network_acls()
                .set_filters(Some(filters))
                .max_results(1000)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeNetworkAcls", e))?;
            Ok((out.network_acls.unwrap_or_default(), out.next_token))
        }
    })
    .await
}

async fn default_acl(aws: &Clients, vpc: &str) -> Result<String, ProviderError> {
    let found = describe(
        aws,
        vec![
            filter("vpc-id", &[vpc.to_string()]),
            filter("default", &["true".to_string()]),
        ],
    )
    .await?;
    found
        .iter()
        .find_map(|a| a.network_acl_id())
        .map(str::to_string)
        .ok_or_else(|| {
            ProviderError::new(
                ErrorKind::NotFound,
                format!("VPC {vpc} has no default network ACL to return its subnets to"),
            )
        })
}

/// Moves each subnet's association (it always has one) onto `acl`, with one Describe for all.
async fn move_subnets(aws: &Clients, subnets: &[String], acl: &str) -> Result<(), ProviderError> {
    if subnets.is_empty() {
        return Ok(());
    }
    let current = describe(aws, vec![filter("association.subnet-id", subnets)]).await?;
    for subnet in subnets {
        let association = current
            .iter()
            .flat_map(|a| a.associations())
            .find(|a| a.subnet_id() == Some(subnet.as_str()))
            .and_then(|a| a.network_acl_association_id())
            .ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::NotFound,
                    format!("subnet {subnet} has no network ACL association (does it exist?)"),
                )
            })?;
        aws.ec2
            .replace_network_acl_association()
            .association_id(association)
            .network_acl_id(acl)
            .send()
            .await
            .map_err(|e| sdk_error("ReplaceNetworkAclAssociation", e))?;
    }
    Ok(())
}
