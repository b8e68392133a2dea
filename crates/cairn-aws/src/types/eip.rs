//! `aws_eip`: an Elastic IP address in the VPC domain, the public face of a NAT gateway. Refresh
//! is one DescribeAddresses for all addresses of a run (the API does not paginate).

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ec2::types::{DomainType, ResourceType};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, id_schema, tags_schema, tags_value, text};
use crate::config::Clients;
use crate::ec2::{self, batched, tag_pairs, tag_spec};
use crate::errors::{invalid, sdk_error};

pub struct Eip;

const TYPE: &str = "aws_eip";

#[async_trait]
impl Resource for Eip {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("An Elastic IP address")
            .attr(
                AttrSchema::optional("domain", AttrType::String)
                    .default("vpc")
                    .force_new()
                    .describe("`vpc` (the only domain new accounts have) or `standard`"),
            )
            .attr(tags_schema())
            .attr(id_schema().describe("The allocation id"))
            .attr(AttrSchema::computed("allocation_id", AttrType::String))
            .attr(AttrSchema::computed("public_ip", AttrType::String))
            .attr(AttrSchema::computed("association_id", AttrType::String))
            .typical_create_secs(1.0)
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let addresses = batched(
            items,
            "allocation-id",
            |f| async move {
                // DescribeAddresses has no NextToken: one call answers for every address.
                let out = aws
                    .ec2
                    .describe_addresses()
                    .filters(f)
                    .send()
                    .await
                    .map_err(|e| sdk_error("DescribeAddresses", e))?;
                Ok(out.addresses.unwrap_or_default())
            },
            |a| a.allocation_id(),
            |a| a.tags(),
        )
        .await?;
        let mut found = BTreeMap::new();
        for (address, a) in addresses {
            let Some(id) = a.allocation_id() else {
                continue;
            };
            let attributes = Attrs::new()
                .set("id", id)
                .set("allocation_id", id)
                .opt("domain", a.domain().map(|d| d.as_str()))
                .opt("public_ip", a.public_ip())
                .opt("association_id", a.association_id())
                .set("tags", tags_value(tag_pairs(a.tags())))
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
        let domain = match text(&req.config, "domain").unwrap_or("vpc") {
            "vpc" => DomainType::Vpc,
            "standard" => DomainType::Standard,
            other => {
                return Err(invalid(
                    TYPE,
                    format!("`domain` is {other:?}; it must be \"vpc\" or \"standard\""),
                ));
            }
        };
        let out = aws
            .ec2
            .allocate_address()
            .domain(domain)
            .tag_specifications(tag_spec(ResourceType::ElasticIp, &req.config, &req.address))
            .send()
            .await
            .map_err(|e| sdk_error("AllocateAddress", e))?;
        out.allocation_id
            .ok_or_else(|| ProviderError::new(ErrorKind::Other, "AllocateAddress returned no id"))
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        ec2::sync_tags(&aws.ec2, &req.id, &req.prior, &req.config).await
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        aws.ec2
            .release_address()
            .allocation_id(&req.id)
            .send()
            .await
            .map_err(|e| sdk_error("ReleaseAddress", e))?;
        Ok(())
    }
}
