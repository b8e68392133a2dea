//! `aws_nat_gateway`: outbound internet for private subnets, placed in a public subnet behind an
//! Elastic IP. Create and delete wait for AWS's state machine (minutes on AWS); refresh is one
//! DescribeNatGateways per page for all gateways of a run, and a `deleted` gateway, which AWS
//! keeps listing for a while, counts as gone.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{ConnectivityType, NatGateway, NatGatewayState, ResourceType};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, id_schema, required, tags_schema, tags_value, text};
use crate::config::Clients;
use crate::ec2::{self, batched, filter, tag_pairs, tag_spec};
use crate::errors::{invalid, sdk_error};
use crate::paginate::all_pages;
use crate::wait::{Check, Wait};

pub struct NatGatewayType;

const TYPE: &str = "aws_nat_gateway";

/// AWS documents NAT gateway creation and deletion as taking a few minutes; Terraform waits 10.
const WAIT_LIMIT: Duration = Duration::from_secs(600);

#[async_trait]
impl Resource for NatGatewayType {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("A NAT gateway in a subnet")
            .attr(
                AttrSchema::optional("allocation_id", AttrType::String)
                    .force_new()
                    .describe("The Elastic IP's allocation id; required when public"),
            )
            .attr(AttrSchema::required("subnet_id", AttrType::String).force_new())
            .attr(
                AttrSchema::optional("connectivity_type", AttrType::String)
                    .default("public")
                    .force_new()
                    .describe("`public` or `private`"),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(AttrSchema::computed("public_ip", AttrType::String))
            .attr(AttrSchema::computed("private_ip", AttrType::String))
            .attr(AttrSchema::computed(
                "network_interface_id",
                AttrType::String,
            ))
            .typical_create_secs(120.0)
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let gateways = batched(
            items,
            "nat-gateway-id",
            |f| async move { describe(aws, f).await },
            |g| g.nat_gateway_id(),
            |g| g.tags(),
        )
        .await?;
        let mut found = BTreeMap::new();
        for (address, g) in gateways {
            let Some(id) = g.nat_gateway_id() else {
                continue;
            };
            if g.state() == Some(&NatGatewayState::Deleted) {
                continue;
            }
            let primary = g.nat_gateway_addresses().first();
            let attributes = Attrs::new()
                .set("id", id)
                .opt("subnet_id", g.subnet_id())
                .opt("allocation_id", primary.and_then(|a| a.allocation_id()))
                .set(
                    "connectivity_type",
                    g.connectivity_type().map_or("public", |c| c.as_str()),
                )
                .opt("public_ip", primary.and_then(|a| a.public_ip()))
                .opt("private_ip", primary.and_then(|a| a.private_ip()))
                .opt(
                    "network_interface_id",
                    primary.and_then(|a| a.network_interface_id()),
                )
                .set("tags", tags_value(tag_pairs(g.tags())))
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
        let subnet = required(TYPE, &req.config, "subnet_id")?;
        let connectivity = match text(&req.config, "connectivity_type").unwrap_or("public") {
            "public" => ConnectivityType::Public,
            "private" => ConnectivityType::Private,
            other => {
                return Err(invalid(
                    TYPE,
                    format!(
                        "`connectivity_type` is {other:?}; it must be \"public\" or \"private\""
                    ),
                ));
            }
        };
        let allocation = text(&req.config, "allocation_id");
        if connectivity == ConnectivityType::Public && allocation.is_none() {
            return Err(invalid(
                TYPE,
                "a public NAT gateway needs `allocation_id` (an aws_eip's id)",
            ));
        }
        let out = aws
            .ec2
            .create_nat_gateway()
            .subnet_id(subnet)
            .set_allocation_id(allocation.map(str::to_string))
            .connectivity_type(connectivity)
            .tag_specifications(tag_spec(
                ResourceType::Natgateway,
                &req.config,
                &req.address,
            ))
            .send()
            .await
            .map_err(|e| sdk_error("CreateNatGateway", e))?;
        let id = out
            .nat_gateway()
            .and_then(|g| g.nat_gateway_id())
            .ok_or_else(|| ProviderError::new(ErrorKind::Other, "CreateNatGateway returned no id"))?
            .to_string();
        wait_for(aws, &id, NatGatewayState::Available, req.timeout).await?;
        Ok(id)
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        ec2::sync_tags(&aws.ec2, &req.id, &req.prior, &req.config).await
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        aws.ec2
            .delete_nat_gateway()
            .nat_gateway_id(&req.id)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteNatGateway", e))?;
        wait_for(aws, &req.id, NatGatewayState::Deleted, req.timeout).await
    }
}

async fn describe(
    aws: &Clients,
    f: aws_sdk_ec2::types::Filter,
) -> Result<Vec<NatGateway>, ProviderError> {
    all_pages(|token| {
        let f = f.clone();
        async move {
            let out = aws
                .ec2
                .describe_nat_gateways()
                .filter(f)
                .max_results(1000)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeNatGateways", e))?;
            Ok((out.nat_gateways.unwrap_or_default(), out.next_token))
        }
    })
    .await
}

/// Waits until the gateway reaches `want`. A gateway that fails or vanishes while being created
/// is reported with AWS's reason; one that vanishes while being deleted is deleted.
async fn wait_for(
    aws: &Clients,
    id: &str,
    want: NatGatewayState,
    timeout: Option<Duration>,
) -> Result<(), ProviderError> {
    let what = format!("NAT gateway {id}");
    let wait = Wait {
        what: &what,
        until: want.as_str(),
        operation: if want == NatGatewayState::Deleted {
            "delete"
        } else {
            "create"
        },
        limit: timeout.unwrap_or(WAIT_LIMIT),
    };
    wait.run(|| async {
        let ids = [id.to_string()];
        let gateway = describe(aws, filter("nat-gateway-id", &ids))
            .await?
            .into_iter()
            .find(|g| g.nat_gateway_id() == Some(id));
        let state = gateway.as_ref().and_then(|g| g.state());
        if state == Some(&want) || (want == NatGatewayState::Deleted && gateway.is_none()) {
            return Ok(Check::Done(()));
        }
        if want == NatGatewayState::Available
            && matches!(
                state,
                Some(
                    NatGatewayState::Failed | NatGatewayState::Deleting | NatGatewayState::Deleted
                )
            )
        {
            let reason = gateway
                .as_ref()
                .and_then(|g| g.failure_message())
                .unwrap_or("no reason given");
            return Err(ProviderError::new(
                ErrorKind::Other,
                format!(
                    "NAT gateway {id} failed to become available (state {}): {reason}",
                    state.map_or("unknown", |s| s.as_str())
                ),
            ));
        }
        Ok(Check::Waiting(
            state.map_or("not listed", |s| s.as_str()).to_string(),
        ))
    })
    .await
}
