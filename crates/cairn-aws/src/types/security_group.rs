//! `aws_security_group`: a stateful firewall of a VPC. Rules are separate resources
//! (`aws_vpc_security_group_ingress_rule` / `..._egress_rule`); like Terraform, the allow-all
//! egress rule AWS adds to every new group is removed, so only declared rules exist.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, id_schema, tags_schema, tags_value, text};
use crate::config::Clients;
use crate::ec2::{self, batched, tag_pairs, tag_spec};
use crate::errors::sdk_error;
use crate::paginate::all_pages;

pub struct SecurityGroup;

const TYPE: &str = "aws_security_group";
const DEFAULT_DESCRIPTION: &str = "Managed by cairn";

#[async_trait]
impl Resource for SecurityGroup {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("A security group of a VPC (rules are separate resources)")
            .attr(
                AttrSchema::optional_computed("name", AttrType::String)
                    .force_new()
                    .describe("Generated when not set"),
            )
            .attr(
                AttrSchema::optional("description", AttrType::String)
                    .default(DEFAULT_DESCRIPTION)
                    .force_new(),
            )
            .attr(AttrSchema::optional_computed("vpc_id", AttrType::String).force_new())
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
        let groups = batched(
            items,
            "group-id",
            |f| async move {
                all_pages(|token| {
                    let f = f.clone();
                    async move {
                        let out = aws
                            .ec2
                            .describe_security_groups()
                            .filters(f)
                            .max_results(1000)
                            .set_next_token(token)
                            .send()
                            .await
                            .map_err(|e| sdk_error("DescribeSecurityGroups", e))?;
                        Ok((out.security_groups.unwrap_or_default(), out.next_token))
                    }
                })
                .await
            },
            |g| g.group_id(),
            |g| g.tags(),
        )
        .await?;
        let mut found = BTreeMap::new();
        for (address, g) in groups {
            let Some(id) = g.group_id() else { continue };
            let owner = g.owner_id().unwrap_or_default();
            let arn = g
                .security_group_arn()
                .map(String::from)
                .unwrap_or_else(|| ec2::arn(&aws.region, owner, "security-group", id));
            let attributes = Attrs::new()
                .set("id", id)
                .set("arn", arn)
                .opt("name", g.group_name())
                .opt("description", g.description())
                .opt("vpc_id", g.vpc_id())
                .set("tags", tags_value(tag_pairs(g.tags())))
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
        let c = &req.config;
        let name = match text(c, "name") {
            Some(name) => name.to_string(),
            None => generated_name(&req.token),
        };
        let out = aws
            .ec2
            .create_security_group()
            .group_name(name)
            .description(text(c, "description").unwrap_or(DEFAULT_DESCRIPTION))
            .set_vpc_id(text(c, "vpc_id").map(String::from))
            .tag_specifications(tag_spec(ResourceType::SecurityGroup, c, &req.address))
            .send()
            .await
            .map_err(|e| sdk_error("CreateSecurityGroup", e))?;
        let id = out
            .group_id()
            .ok_or_else(|| {
                ProviderError::new(ErrorKind::Other, "CreateSecurityGroup returned no GroupId")
            })?
            .to_string();
        if text(c, "vpc_id").is_some() {
            let allow_all = IpPermission::builder()
                .ip_protocol("-1")
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build();
            let revoked = aws
                .ec2
                .revoke_security_group_egress()
                .group_id(&id)
                .ip_permissions(allow_all)
                .send()
                .await;
            // Some accounts and emulators create the group without it: nothing to remove.
            if let Err(e) = revoked.map_err(|e| sdk_error("RevokeSecurityGroupEgress", e))
                && !e.message.contains("InvalidPermission.NotFound")
            {
                return Err(e);
            }
        }
        Ok(id)
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        ec2::sync_tags(&aws.ec2, &req.id, &req.prior, &req.config).await
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        aws.ec2
            .delete_security_group()
            .group_id(&req.id)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteSecurityGroup", e))?;
        Ok(())
    }
}

/// A unique name for a group declared without one, stable per create attempt.
fn generated_name(token: &str) -> String {
    let tail: String = token
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(20)
        .collect();
    format!("cairn-{tail}")
}
