//! `aws_db_subnet_group`: the subnets (in at least two AZs) RDS places instances and clusters
//! in. Its id is its name, which is also how it is imported.
//!
//! DescribeDBSubnetGroups takes one name and no usable filter, and does not list tags: refresh
//! reads each group and its tags concurrently, bounded.

use std::collections::BTreeMap;

use async_trait::async_trait;
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ErrorKind, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, id_schema, required, tags_schema, text};
use crate::config::Clients;
use crate::each::read_each;
use crate::errors::invalid;
use crate::rds::{
    create_tags, in_prior_order, list_tags, rds_error, strings, sync_tags, tags_of, wanted,
};

pub struct SubnetGroup;

const TYPE: &str = "aws_db_subnet_group";
/// What AWS would otherwise refuse: the description is required by the API.
const DEFAULT_DESCRIPTION: &str = "Managed by cairn";

#[async_trait]
impl Resource for SubnetGroup {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("NAME")
            .describe("An RDS DB subnet group")
            .attr(AttrSchema::required("name", AttrType::String).force_new())
            .attr(
                AttrSchema::optional("description", AttrType::String).default(DEFAULT_DESCRIPTION),
            )
            .attr(
                AttrSchema::required("subnet_ids", AttrType::List(Box::new(AttrType::String)))
                    .describe("Subnets in at least two availability zones"),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
            .attr(AttrSchema::computed("vpc_id", AttrType::String))
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let wanted = items
            .iter()
            .filter_map(|i| Some((i.address.clone(), (wanted(i, "name")?, i.prior.clone()))));
        let aws = aws.clone();
        read_each(wanted, move |(name, prior)| {
            let aws = aws.clone();
            async move {
                let out = aws
                    .rds
                    .describe_db_subnet_groups()
                    .db_subnet_group_name(&name)
                    .send()
                    .await
                    .map_err(|e| rds_error("DescribeDBSubnetGroups", e, &[]))?;
                // moto answers an unknown name with an empty list rather than the error.
                let Some(group) = out
                    .db_subnet_groups()
                    .iter()
                    .find(|g| g.db_subnet_group_name() == Some(name.as_str()))
                else {
                    return Ok(None);
                };
                let arn = group.db_subnet_group_arn().unwrap_or_default().to_string();
                let tags = list_tags(&aws, &arn).await?;
                let subnets = group
                    .subnets()
                    .iter()
                    .filter_map(|s| s.subnet_identifier().map(String::from))
                    .collect();
                Ok(Some(ReadResult {
                    id: name.clone(),
                    attributes: Attrs::new()
                        .set("id", name.as_str())
                        .set("name", name.as_str())
                        .set("arn", arn.as_str())
                        .opt("description", group.db_subnet_group_description())
                        .set("subnet_ids", in_prior_order(&prior, "subnet_ids", subnets))
                        .opt("vpc_id", group.vpc_id())
                        .set("tags", tags_of(&tags))
                        .build(),
                }))
            }
        })
        .await
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let name = required(TYPE, c, "name")?;
        let subnets =
            strings(c, "subnet_ids").ok_or_else(|| invalid(TYPE, "`subnet_ids` is required"))?;
        aws.rds
            .create_db_subnet_group()
            .db_subnet_group_name(name)
            .db_subnet_group_description(text(c, "description").unwrap_or(DEFAULT_DESCRIPTION))
            .set_subnet_ids(Some(subnets))
            .set_tags(Some(create_tags(c, &req.address)))
            .send()
            .await
            .map_err(|e| rds_error("CreateDBSubnetGroup", e, &[]))?;
        Ok(name.to_string())
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let c = &req.config;
        let changed = |a: &str| req.changed.iter().any(|n| n == a);
        if changed("description") || changed("subnet_ids") {
            aws.rds
                .modify_db_subnet_group()
                .db_subnet_group_name(&req.id)
                .db_subnet_group_description(text(c, "description").unwrap_or(DEFAULT_DESCRIPTION))
                .set_subnet_ids(strings(c, "subnet_ids"))
                .send()
                .await
                .map_err(|e| rds_error("ModifyDBSubnetGroup", e, &[]))?;
        }
        if changed("tags") {
            let arn = text(&req.prior, "arn")
                .ok_or_else(|| invalid(TYPE, format!("{} has no ARN in state", req.address)))?;
            sync_tags(aws, arn, &req.prior, c).await?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        match aws
            .rds
            .delete_db_subnet_group()
            .db_subnet_group_name(&req.id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = rds_error("DeleteDBSubnetGroup", e, &[]);
                if e.kind == ErrorKind::NotFound {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }
}
