//! `aws_elasticache_subnet_group`: the subnets a Redis replication group's nodes are placed in.
//! Its id is the group's name, which is also how it is imported.
//!
//! Refresh: one DescribeCacheSubnetGroups walk (100 groups a page) for every group in state;
//! tags come from one ListTagsForResource per group, concurrently, bounded.

use std::collections::BTreeMap;

use async_trait::async_trait;
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{
    ADDRESS_TAG, Attrs, arn_schema, id_schema, required, tags_schema, tags_value, text,
};
use crate::config::Clients;
use crate::each::read_each;
use crate::elasticache::{ec_tags, sync_tags, tags_of};
use crate::errors::sdk_error;
use crate::paginate::all_pages;
use crate::tagging::with_owner;

pub struct SubnetGroup;

const TYPE: &str = "aws_elasticache_subnet_group";

fn subnet_ids(config: &cairn_provider::value::Value) -> Vec<String> {
    config
        .get("subnet_ids")
        .and_then(cairn_provider::value::Value::as_list)
        .map(|l| {
            l.iter()
                .filter_map(|v| v.expose().as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[async_trait]
impl Resource for SubnetGroup {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("NAME")
            .describe("An ElastiCache subnet group")
            .attr(AttrSchema::required("name", AttrType::String).force_new())
            .attr(AttrSchema::optional("description", AttrType::String).default("Managed by cairn"))
            .attr(AttrSchema::required(
                "subnet_ids",
                AttrType::List(Box::new(AttrType::String)),
            ))
            .attr(AttrSchema::computed("vpc_id", AttrType::String))
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        // By name: the id once recorded, the configured name for a create that may have
        // happened unrecorded (kept only if it carries our ownership tag).
        let wanted: BTreeMap<String, &ReadItem> = items
            .iter()
            .filter_map(|i| match (&i.id, &i.token) {
                (Some(id), _) => Some((id.clone(), i)),
                (None, Some(_)) => Some((text(&i.prior, "name")?.to_string(), i)),
                (None, None) => None,
            })
            .collect();
        if wanted.is_empty() {
            return Ok(BTreeMap::new());
        }
        let groups = all_pages(|marker| async move {
            let out = aws
                .elasticache
                .describe_cache_subnet_groups()
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeCacheSubnetGroups", e))?;
            Ok((out.cache_subnet_groups.unwrap_or_default(), out.marker))
        })
        .await?;
        let matched = groups.into_iter().filter_map(|g| {
            let item = wanted.get(g.cache_subnet_group_name()?)?;
            let owner = item.id.is_none().then(|| item.address.clone());
            Some((item.address.clone(), (owner, g, item.prior.clone())))
        });
        let client = aws.elasticache.clone();
        read_each(
            matched,
            move |(owner, group, prior): (Option<String>, _, Value)| {
                let client = client.clone();
                async move {
                    let group: aws_sdk_elasticache::types::CacheSubnetGroup = group;
                    let arn = group.arn().unwrap_or_default().to_string();
                    let tags = tags_of(&client, &arn).await?;
                    if owner.is_some() && tags.get(ADDRESS_TAG) != owner.as_ref() {
                        return Ok(None);
                    }
                    let name = group.cache_subnet_group_name().unwrap_or_default();
                    let subnets = group
                        .subnets()
                        .iter()
                        .filter_map(|s| s.subnet_identifier().map(String::from));
                    Ok(Some(ReadResult {
                        id: name.to_string(),
                        attributes: Attrs::new()
                            .set("id", name)
                            .set("arn", arn.as_str())
                            .set("name", name)
                            .opt("description", group.cache_subnet_group_description())
                            // A set: AWS's order is its own.
                            .set(
                                "subnet_ids",
                                crate::rds::in_prior_order(&prior, "subnet_ids", subnets.collect()),
                            )
                            .opt("vpc_id", group.vpc_id())
                            .set(
                                "tags",
                                tags_value(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
                            )
                            .build(),
                    }))
                }
            },
        )
        .await
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let name = required(TYPE, &req.config, "name")?;
        aws.elasticache
            .create_cache_subnet_group()
            .cache_subnet_group_name(name)
            .cache_subnet_group_description(
                text(&req.config, "description").unwrap_or("Managed by cairn"),
            )
            .set_subnet_ids(Some(subnet_ids(&req.config)))
            .set_tags(Some(ec_tags(with_owner(&req.config, &req.address))))
            .send()
            .await
            .map_err(|e| sdk_error("CreateCacheSubnetGroup", e))?;
        Ok(name.to_string())
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        if req
            .changed
            .iter()
            .any(|a| a == "description" || a == "subnet_ids")
        {
            aws.elasticache
                .modify_cache_subnet_group()
                .cache_subnet_group_name(&req.id)
                .set_cache_subnet_group_description(
                    text(&req.config, "description").map(String::from),
                )
                .set_subnet_ids(Some(subnet_ids(&req.config)))
                .send()
                .await
                .map_err(|e| sdk_error("ModifyCacheSubnetGroup", e))?;
        }
        if req.changed.iter().any(|a| a == "tags") {
            let arn = required(TYPE, &req.prior, "arn")?;
            sync_tags(&aws.elasticache, arn, &req.prior, &req.config).await?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        aws.elasticache
            .delete_cache_subnet_group()
            .cache_subnet_group_name(&req.id)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteCacheSubnetGroup", e))?;
        Ok(())
    }
}
