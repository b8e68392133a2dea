//! `aws_route_table`: a VPC's route table. Routes are `aws_route` resources and subnets join it
//! with `aws_route_table_association` (no inline `route` blocks).

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ec2::types::{Filter, ResourceType, RouteTable};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, id_schema, required, tags_schema, tags_value};
use crate::config::Clients;
use crate::ec2::{self, batched, tag_pairs, tag_spec};
use crate::errors::sdk_error;
use crate::paginate::all_pages;

pub struct RouteTableType;

const TYPE: &str = "aws_route_table";

/// Every route table matching `filter`, all pages.
pub async fn describe(aws: &Clients, filter: Filter) -> Result<Vec<RouteTable>, ProviderError> {
    all_pages(|token| {
        let filter = filter.clone();
        async move {
            let out = aws
                .ec2
                .describe_route_tables()
                .filters(filter)
                .max_results(100)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeRouteTables", e))?;
            Ok((out.route_tables.unwrap_or_default(), out.next_token))
        }
    })
    .await
}

#[async_trait]
impl Resource for RouteTableType {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("A route table of a VPC (routes are aws_route resources)")
            .attr(AttrSchema::required("vpc_id", AttrType::String).force_new())
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
        let tables = batched(
            items,
            "route-table-id",
            |f| describe(aws, f),
            |t| t.route_table_id(),
            |t| t.tags(),
        )
        .await?;
        let mut found = BTreeMap::new();
        for (address, t) in tables {
            let Some(id) = t.route_table_id() else {
                continue;
            };
            let owner = t.owner_id().unwrap_or_default();
            let attributes = Attrs::new()
                .set("id", id)
                .set("arn", ec2::arn(&aws.region, owner, "route-table", id))
                .opt("vpc_id", t.vpc_id())
                .set("tags", tags_value(tag_pairs(t.tags())))
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
            .create_route_table()
            .vpc_id(required(TYPE, &req.config, "vpc_id")?)
            .tag_specifications(tag_spec(
                ResourceType::RouteTable,
                &req.config,
                &req.address,
            ))
            .send()
            .await
            .map_err(|e| sdk_error("CreateRouteTable", e))?;
        out.route_table()
            .and_then(|t| t.route_table_id())
            .map(String::from)
            .ok_or_else(|| ProviderError::new(ErrorKind::Other, "CreateRouteTable returned no id"))
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        ec2::sync_tags(&aws.ec2, &req.id, &req.prior, &req.config).await
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        aws.ec2
            .delete_route_table()
            .route_table_id(&req.id)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteRouteTable", e))?;
        Ok(())
    }
}
