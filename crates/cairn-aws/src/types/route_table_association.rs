//! `aws_route_table_association`: a subnet using a route table. Read in one DescribeRouteTables
//! per page for all associations of a run, by association id.

use std::collections::BTreeMap;

use async_trait::async_trait;
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};

use super::route_table::describe;
use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, id_schema, required};
use crate::config::Clients;
use crate::ec2::{CHUNK, filter};
use crate::errors::sdk_error;

pub struct Association;

const TYPE: &str = "aws_route_table_association";

#[async_trait]
impl Resource for Association {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("Associates a subnet with a route table")
            .attr(AttrSchema::required("subnet_id", AttrType::String).force_new())
            // ReplaceRouteTableAssociation hands back a new association id, and an update cannot
            // change an id: a move to another table is a replacement.
            .attr(AttrSchema::required("route_table_id", AttrType::String).force_new())
            .attr(id_schema())
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        // An unrecorded create is left to be created again: AWS rejects a second association
        // of the subnet with a Conflict that names the first.
        let ids: Vec<String> = items.iter().filter_map(|i| i.id.clone()).collect();
        let mut associations = BTreeMap::new();
        for chunk in ids.chunks(CHUNK) {
            for table in
                describe(aws, filter("association.route-table-association-id", chunk)).await?
            {
                for a in table.associations() {
                    if let Some(id) = a.route_table_association_id() {
                        associations.insert(id.to_string(), a.clone());
                    }
                }
            }
        }
        let mut found = BTreeMap::new();
        for item in items {
            let Some(id) = &item.id else { continue };
            let Some(a) = associations.get(id) else {
                continue;
            };
            let attributes = Attrs::new()
                .set("id", id.as_str())
                .opt("subnet_id", a.subnet_id())
                .opt("route_table_id", a.route_table_id())
                .build();
            found.insert(
                item.address.clone(),
                ReadResult {
                    id: id.clone(),
                    attributes,
                },
            );
        }
        Ok(found)
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let out = aws
            .ec2
            .associate_route_table()
            .subnet_id(required(TYPE, &req.config, "subnet_id")?)
            .route_table_id(required(TYPE, &req.config, "route_table_id")?)
            .send()
            .await
            .map_err(|e| sdk_error("AssociateRouteTable", e))?;
        out.association_id().map(String::from).ok_or_else(|| {
            ProviderError::new(ErrorKind::Other, "AssociateRouteTable returned no id")
        })
    }

    async fn update(&self, _aws: &Clients, _req: &UpdateRequest) -> Result<(), ProviderError> {
        // Every settable attribute forces replacement.
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        aws.ec2
            .disassociate_route_table()
            .association_id(&req.id)
            .send()
            .await
            .map_err(|e| sdk_error("DisassociateRouteTable", e))?;
        Ok(())
    }
}
