//! `aws_vpc`: a virtual network. DNS attributes need one DescribeVpcAttribute per VPC (EC2 has
//! no batch form), run concurrently; the default security group and main route table come from
//! one batched call each.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, Tenancy, VpcAttributeName};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, flag, id_schema, required, tags_schema, tags_value, text};
use crate::config::Clients;
use crate::ec2::{self, batched, filter, tag_pairs, tag_spec};
use crate::errors::sdk_error;
use crate::paginate::all_pages;

pub struct Vpc;

const TYPE: &str = "aws_vpc";

#[async_trait]
impl Resource for Vpc {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("A virtual private cloud")
            .attr(AttrSchema::required("cidr_block", AttrType::String).force_new())
            .attr(
                AttrSchema::optional("instance_tenancy", AttrType::String)
                    .default("default")
                    .force_new()
                    .describe("default or dedicated"),
            )
            .attr(AttrSchema::optional("enable_dns_support", AttrType::Bool).default(true))
            .attr(AttrSchema::optional("enable_dns_hostnames", AttrType::Bool).default(false))
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
            .attr(AttrSchema::computed(
                "default_security_group_id",
                AttrType::String,
            ))
            .attr(AttrSchema::computed(
                "main_route_table_id",
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
        let vpcs = batched(
            items,
            "vpc-id",
            |f| async move {
                all_pages(|token| {
                    let f = f.clone();
                    async move {
                        let out = aws
                            .ec2
                            .describe_vpcs()
                            .filters(f)
                            .max_results(1000)
                            .set_next_token(token)
                            .send()
                            .await
                            .map_err(|e| sdk_error("DescribeVpcs", e))?;
                        Ok((out.vpcs.unwrap_or_default(), out.next_token))
                    }
                })
                .await
            },
            |v| v.vpc_id(),
            |v| v.tags(),
        )
        .await?;
        let ids: Vec<String> = vpcs
            .values()
            .filter_map(|v| v.vpc_id().map(String::from))
            .collect();
        let mut default_sg = BTreeMap::new();
        let mut main_rt = BTreeMap::new();
        for chunk in ids.chunks(ec2::CHUNK) {
            let groups = all_pages(|token| async move {
                let out = aws
                    .ec2
                    .describe_security_groups()
                    .filters(filter("vpc-id", chunk))
                    .filters(filter("group-name", &["default".to_string()]))
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| sdk_error("DescribeSecurityGroups", e))?;
                Ok((out.security_groups.unwrap_or_default(), out.next_token))
            })
            .await?;
            for g in groups {
                if let (Some(vpc), Some(id)) = (g.vpc_id(), g.group_id()) {
                    default_sg.insert(vpc.to_string(), id.to_string());
                }
            }
            let tables = all_pages(|token| async move {
                let out = aws
                    .ec2
                    .describe_route_tables()
                    .filters(filter("vpc-id", chunk))
                    .filters(filter("association.main", &["true".to_string()]))
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| sdk_error("DescribeRouteTables", e))?;
                Ok((out.route_tables.unwrap_or_default(), out.next_token))
            })
            .await?;
            for t in tables {
                if let (Some(vpc), Some(id)) = (t.vpc_id(), t.route_table_id()) {
                    main_rt.insert(vpc.to_string(), id.to_string());
                }
            }
        }
        // DNS attributes: no batch API; bounded concurrency over the VPCs found.
        let mut dns: BTreeMap<String, (bool, bool)> = BTreeMap::new();
        let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(8));
        let mut tasks = tokio::task::JoinSet::new();
        for id in &ids {
            let (client, id, permits) = (aws.ec2.clone(), id.clone(), permits.clone());
            tasks.spawn(crate::calls::carried(async move {
                let _permit = permits.acquire_owned().await;
                let support =
                    vpc_attribute(&client, &id, VpcAttributeName::EnableDnsSupport).await?;
                let hostnames =
                    vpc_attribute(&client, &id, VpcAttributeName::EnableDnsHostnames).await?;
                Ok::<_, ProviderError>((id, (support, hostnames)))
            }));
        }
        while let Some(joined) = tasks.join_next().await {
            let (id, flags) = joined.map_err(|e| {
                ProviderError::new(cairn_provider::provider::ErrorKind::Other, e.to_string())
            })??;
            dns.insert(id, flags);
        }

        let mut found = BTreeMap::new();
        for (address, vpc) in vpcs {
            let Some(id) = vpc.vpc_id() else { continue };
            let owner = vpc.owner_id().unwrap_or_default();
            let (support, hostnames) = dns.get(id).copied().unwrap_or((true, false));
            let attributes = Attrs::new()
                .set("id", id)
                .set("arn", ec2::arn(&aws.region, owner, "vpc", id))
                .opt("cidr_block", vpc.cidr_block())
                .set(
                    "instance_tenancy",
                    vpc.instance_tenancy()
                        .map(|t| t.as_str())
                        .unwrap_or("default"),
                )
                .set("enable_dns_support", support)
                .set("enable_dns_hostnames", hostnames)
                .set("tags", tags_value(tag_pairs(vpc.tags())))
                .opt("default_security_group_id", default_sg.get(id).cloned())
                .opt("main_route_table_id", main_rt.get(id).cloned())
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
            .create_vpc()
            .cidr_block(required(TYPE, c, "cidr_block")?)
            .instance_tenancy(Tenancy::from(
                text(c, "instance_tenancy").unwrap_or("default"),
            ))
            .tag_specifications(tag_spec(ResourceType::Vpc, c, &req.address))
            .send()
            .await
            .map_err(|e| sdk_error("CreateVpc", e))?;
        let id = out
            .vpc()
            .and_then(|v| v.vpc_id())
            .ok_or_else(|| {
                ProviderError::new(
                    cairn_provider::provider::ErrorKind::Other,
                    "CreateVpc returned no VpcId",
                )
            })?
            .to_string();
        if !flag(c, "enable_dns_support", true) {
            set_dns(aws, &id, VpcAttributeName::EnableDnsSupport, false).await?;
        }
        if flag(c, "enable_dns_hostnames", false) {
            set_dns(aws, &id, VpcAttributeName::EnableDnsHostnames, true).await?;
        }
        Ok(id)
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let (c, p) = (&req.config, &req.prior);
        for (name, attribute, default) in [
            (
                "enable_dns_support",
                VpcAttributeName::EnableDnsSupport,
                true,
            ),
            (
                "enable_dns_hostnames",
                VpcAttributeName::EnableDnsHostnames,
                false,
            ),
        ] {
            if flag(c, name, default) != flag(p, name, default) {
                set_dns(aws, &req.id, attribute, flag(c, name, default)).await?;
            }
        }
        ec2::sync_tags(&aws.ec2, &req.id, p, c).await
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        aws.ec2
            .delete_vpc()
            .vpc_id(&req.id)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteVpc", e))?;
        Ok(())
    }
}

async fn vpc_attribute(
    ec2: &aws_sdk_ec2::Client,
    id: &str,
    attribute: VpcAttributeName,
) -> Result<bool, ProviderError> {
    let out = ec2
        .describe_vpc_attribute()
        .vpc_id(id)
        .attribute(attribute.clone())
        .send()
        .await
        .map_err(|e| sdk_error("DescribeVpcAttribute", e))?;
    let value = match attribute {
        VpcAttributeName::EnableDnsHostnames => out.enable_dns_hostnames(),
        _ => out.enable_dns_support(),
    };
    Ok(value.and_then(|v| v.value()).unwrap_or(false))
}

/// One attribute per ModifyVpcAttribute call: EC2 rejects two at once.
async fn set_dns(
    aws: &Clients,
    id: &str,
    attribute: VpcAttributeName,
    on: bool,
) -> Result<(), ProviderError> {
    let value = AttributeBooleanValue::builder().value(on).build();
    let call = aws.ec2.modify_vpc_attribute().vpc_id(id);
    let call = match attribute {
        VpcAttributeName::EnableDnsHostnames => call.enable_dns_hostnames(value),
        _ => call.enable_dns_support(value),
    };
    call.send()
        .await
        .map_err(|e| sdk_error("ModifyVpcAttribute", e))?;
    Ok(())
}
