//! `aws_internet_gateway`: a VPC's way to the internet, attached to at most one VPC.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ec2::types::ResourceType;
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

pub struct InternetGateway;

const TYPE: &str = "aws_internet_gateway";

#[async_trait]
impl Resource for InternetGateway {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("An internet gateway, attached to a VPC")
            .attr(AttrSchema::optional("vpc_id", AttrType::String))
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
        let gateways = batched(
            items,
            "internet-gateway-id",
            |f| async move {
                all_pages(|token| {
                    let f = f.clone();
                    async move {
                        let out = aws
                            .ec2
                            .describe_internet_gateways()
                            .filters(f)
                            .max_results(1000)
                            .set_next_token(token)
                            .send()
                            .await
                            .map_err(|e| sdk_error("DescribeInternetGateways", e))?;
                        Ok((out.internet_gateways.unwrap_or_default(), out.next_token))
                    }
                })
                .await
            },
            |g| g.internet_gateway_id(),
            |g| g.tags(),
        )
        .await?;
        let mut found = BTreeMap::new();
        for (address, g) in gateways {
            let Some(id) = g.internet_gateway_id() else {
                continue;
            };
            let owner = g.owner_id().unwrap_or_default();
            let vpc = g.attachments().iter().find_map(|a| a.vpc_id());
            let attributes = Attrs::new()
                .set("id", id)
                .set("arn", ec2::arn(&aws.region, owner, "internet-gateway", id))
                .opt("vpc_id", vpc)
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
        let out = aws
            .ec2
            .create_internet_gateway()
            .tag_specifications(tag_spec(
                ResourceType::InternetGateway,
                &req.config,
                &req.address,
            ))
            .send()
            .await
            .map_err(|e| sdk_error("CreateInternetGateway", e))?;
        let id = out
            .internet_gateway()
            .and_then(|g| g.internet_gateway_id())
            .ok_or_else(|| {
                ProviderError::new(ErrorKind::Other, "CreateInternetGateway returned no id")
            })?
            .to_string();
        if let Some(vpc) = text(&req.config, "vpc_id") {
            attach(aws, &id, vpc).await?;
        }
        Ok(id)
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let (before, after) = (text(&req.prior, "vpc_id"), text(&req.config, "vpc_id"));
        if before != after {
            if let Some(old) = before {
                detach(aws, &req.id, old).await?;
            }
            if let Some(new) = after {
                attach(aws, &req.id, new).await?;
            }
        }
        ec2::sync_tags(&aws.ec2, &req.id, &req.prior, &req.config).await
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        if let Some(vpc) = text(&req.prior, "vpc_id") {
            match detach(aws, &req.id, vpc).await {
                // Already detached (or the VPC is gone): nothing to undo.
                Err(e) if e.kind != ErrorKind::NotFound && !e.message.contains("NotAttached") => {
                    return Err(e);
                }
                _ => {}
            }
        }
        aws.ec2
            .delete_internet_gateway()
            .internet_gateway_id(&req.id)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteInternetGateway", e))?;
        Ok(())
    }
}

async fn attach(aws: &Clients, id: &str, vpc: &str) -> Result<(), ProviderError> {
    aws.ec2
        .attach_internet_gateway()
        .internet_gateway_id(id)
        .vpc_id(vpc)
        .send()
        .await
        .map_err(|e| sdk_error("AttachInternetGateway", e))?;
    Ok(())
}

async fn detach(aws: &Clients, id: &str, vpc: &str) -> Result<(), ProviderError> {
    aws.ec2
        .detach_internet_gateway()
        .internet_gateway_id(id)
        .vpc_id(vpc)
        .send()
        .await
        .map_err(|e| sdk_error("DetachInternetGateway", e))?;
    Ok(())
}
