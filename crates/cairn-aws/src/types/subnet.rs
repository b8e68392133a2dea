//! `aws_subnet`: a range of a VPC in one availability zone. Refresh is one DescribeSubnets per
//! page for all subnets of a run, however many.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, flag, id_schema, required, tags_schema, tags_value, text};
use crate::config::Clients;
use crate::ec2::{self, batched, tag_pairs, tag_spec};
use crate::errors::sdk_error;
use crate::paginate::all_pages;

pub struct Subnet;

const TYPE: &str = "aws_subnet";

#[async_trait]
impl Resource for Subnet {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("A subnet of a VPC in one availability zone")
            .attr(AttrSchema::required("vpc_id", AttrType::String).force_new())
            .attr(AttrSchema::required("cidr_block", AttrType::String).force_new())
            .attr(
                AttrSchema::optional_computed("availability_zone", AttrType::String)
                    .force_new()
                    .describe("Chosen by AWS when not set"),
            )
            .attr(AttrSchema::optional("map_public_ip_on_launch", AttrType::Bool).default(false))
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
            .attr(AttrSchema::computed(
                "availability_zone_id",
                AttrType::String,
            ))
            .attr(AttrSchema::computed("owner_id", AttrType::String))
            .typical_create_secs(2.0)
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let subnets = batched(
            items,
            "subnet-id",
            |f| async move {
                all_pages(|token| {
                    let f = f.clone();
                    async move {
                        let out = aws
                            .ec2
                            .describe_subnets()
                            .filters(f)
                            .max_results(1000)
                            .set_next_token(token)
                            .send()
                            .await
                            .map_err(|e| sdk_error("DescribeSubnets", e))?;
                        Ok((out.subnets.unwrap_or_default(), out.next_token))
                    }
                })
                .await
            },
            |s| s.subnet_id(),
            |s| s.tags(),
        )
        .await?;
        let mut found = BTreeMap::new();
        for (address, s) in subnets {
            let Some(id) = s.subnet_id() else { continue };
            let owner = s.owner_id().unwrap_or_default();
            let arn = s
                .subnet_arn()
                .map(String::from)
                .unwrap_or_else(|| ec2::arn(&aws.region, owner, "subnet", id));
            let attributes = Attrs::new()
                .set("id", id)
                .set("arn", arn)
                .opt("vpc_id", s.vpc_id())
                .opt("cidr_block", s.cidr_block())
                .opt("availability_zone", s.availability_zone())
                .opt("availability_zone_id", s.availability_zone_id())
                .set(
                    "map_public_ip_on_launch",
                    s.map_public_ip_on_launch().unwrap_or(false),
                )
                .set("tags", tags_value(tag_pairs(s.tags())))
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
        let out = aws
            .ec2
            .create_subnet()
            .vpc_id(required(TYPE, c, "vpc_id")?)
            .cidr_block(required(TYPE, c, "cidr_block")?)
            .set_availability_zone(text(c, "availability_zone").map(String::from))
            .tag_specifications(tag_spec(ResourceType::Subnet, c, &req.address))
            .send()
            .await
            .map_err(|e| sdk_error("CreateSubnet", e))?;
        let id = out
            .subnet()
            .and_then(|s| s.subnet_id())
            .ok_or_else(|| {
                ProviderError::new(ErrorKind::Other, "CreateSubnet returned no SubnetId")
            })?
            .to_string();
        if flag(c, "map_public_ip_on_launch", false) {
            set_public(aws, &id, true).await?;
        }
        Ok(id)
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let public = flag(&req.config, "map_public_ip_on_launch", false);
        if public != flag(&req.prior, "map_public_ip_on_launch", false) {
            set_public(aws, &req.id, public).await?;
        }
        ec2::sync_tags(&aws.ec2, &req.id, &req.prior, &req.config).await
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        aws.ec2
            .delete_subnet()
            .subnet_id(&req.id)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteSubnet", e))?;
        Ok(())
    }
}

async fn set_public(aws: &Clients, id: &str, on: bool) -> Result<(), ProviderError> {
    aws.ec2
        .modify_subnet_attribute()
        .subnet_id(id)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(on).build())
        .send()
        .await
        .map_err(|e| sdk_error("ModifySubnetAttribute", e))?;
    Ok(())
}
