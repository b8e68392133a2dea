//! `aws_route`: one route of a route table, to an internet or NAT gateway. Its id is
//! `ROUTE_TABLE_ID_DESTINATION` (Terraform's import form), so a read needs no lookup table: one
//! DescribeRouteTables per page for all routes of a run.

use std::collections::BTreeMap;

use async_trait::async_trait;
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};

use super::route_table::describe;
use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, id_schema, required, text};
use crate::config::Clients;
use crate::ec2::{CHUNK, filter};
use crate::errors::{invalid, sdk_error};

pub struct Route;

const TYPE: &str = "aws_route";

fn route_id(table: &str, destination: &str) -> String {
    format!("{table}_{destination}")
}

/// The (table, destination) of an item: from its id, or for an unrecorded create, its prior.
fn key_of(item: &ReadItem) -> Option<(String, String)> {
    match &item.id {
        Some(id) => id
            .split_once('_')
            .map(|(t, d)| (t.to_string(), d.to_string())),
        None => Some((
            text(&item.prior, "route_table_id")?.to_string(),
            text(&item.prior, "destination_cidr_block")?.to_string(),
        )),
    }
}

#[async_trait]
impl Resource for Route {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("ROUTE_TABLE_ID_DESTINATION (rtb-0a1b2c3d_0.0.0.0/0)")
            .describe("A route in a route table")
            .attr(AttrSchema::required("route_table_id", AttrType::String).force_new())
            .attr(AttrSchema::required("destination_cidr_block", AttrType::String).force_new())
            .attr(AttrSchema::optional("gateway_id", AttrType::String))
            .attr(AttrSchema::optional("nat_gateway_id", AttrType::String))
            .attr(id_schema())
            .attr(AttrSchema::computed("origin", AttrType::String))
            .attr(AttrSchema::computed("state", AttrType::String))
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let keyed: Vec<(&str, (String, String))> = items
            .iter()
            .filter_map(|i| Some((i.address.as_str(), key_of(i)?)))
            .collect();
        let mut tables: Vec<String> = keyed.iter().map(|(_, (t, _))| t.clone()).collect();
        tables.sort();
        tables.dedup();
        let mut routes = BTreeMap::new();
        for chunk in tables.chunks(CHUNK) {
            for table in describe(aws, filter("route-table-id", chunk)).await? {
                let Some(table_id) = table.route_table_id() else {
                    continue;
                };
                for route in table.routes() {
                    if let Some(destination) = route.destination_cidr_block() {
                        routes.insert(
                            (table_id.to_string(), destination.to_string()),
                            route.clone(),
                        );
                    }
                }
            }
        }
        let mut found = BTreeMap::new();
        for (address, (table, destination)) in keyed {
            let Some(route) = routes.get(&(table.clone(), destination.clone())) else {
                continue;
            };
            let id = route_id(&table, &destination);
            let attributes = Attrs::new()
                .set("id", id.as_str())
                .set("route_table_id", table.as_str())
                .set("destination_cidr_block", destination.as_str())
                .opt("gateway_id", route.gateway_id())
                .opt("nat_gateway_id", route.nat_gateway_id())
                .opt("origin", route.origin().map(|o| o.as_str()))
                .opt("state", route.state().map(|s| s.as_str()))
                .build();
            found.insert(address.to_string(), ReadResult { id, attributes });
        }
        Ok(found)
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let table = required(TYPE, c, "route_table_id")?;
        let destination = required(TYPE, c, "destination_cidr_block")?;
        if text(c, "gateway_id").is_none() && text(c, "nat_gateway_id").is_none() {
            return Err(invalid(TYPE, "set a target: gateway_id or nat_gateway_id"));
        }
        aws.ec2
            .create_route()
            .route_table_id(table)
            .destination_cidr_block(destination)
            .set_gateway_id(text(c, "gateway_id").map(String::from))
            .set_nat_gateway_id(text(c, "nat_gateway_id").map(String::from))
            .send()
            .await
            .map_err(|e| sdk_error("CreateRoute", e))?;
        Ok(route_id(table, destination))
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let c = &req.config;
        aws.ec2
            .replace_route()
            .route_table_id(required(TYPE, c, "route_table_id")?)
            .destination_cidr_block(required(TYPE, c, "destination_cidr_block")?)
            .set_gateway_id(text(c, "gateway_id").map(String::from))
            .set_nat_gateway_id(text(c, "nat_gateway_id").map(String::from))
            .send()
            .await
            .map_err(|e| sdk_error("ReplaceRoute", e))?;
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        aws.ec2
            .delete_route()
            .route_table_id(required(TYPE, &req.prior, "route_table_id")?)
            .destination_cidr_block(required(TYPE, &req.prior, "destination_cidr_block")?)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteRoute", e))?;
        Ok(())
    }
}
