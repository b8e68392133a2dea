//! `aws_ecs_cluster`: the ECS cluster services run in, with its Container Insights setting. Its
//! id is the cluster's ARN; it is imported by the cluster's name (Terraform's import id).
//!
//! Refresh is one DescribeClusters per 100 clusters (the API's limit), tags and settings
//! included. A deleted cluster stays listed as `INACTIVE` for a while: it counts as gone.
//! Also home to the ECS tag conversions the other ECS types share.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ecs::types::{ClusterField, ClusterSetting, ClusterSettingName, Tag};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, id_schema, required, tags_schema, tags_value, text};
use crate::config::Clients;
use crate::errors::{invalid, sdk_error};
use crate::tagging::{tag_changes, with_owner};

pub struct Cluster;

const TYPE: &str = "aws_ecs_cluster";
/// Clusters per DescribeClusters call.
const CHUNK: usize = 100;

/// Tags in ECS's form.
pub(super) fn ecs_tags(tags: BTreeMap<String, String>) -> Vec<Tag> {
    tags.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// The `tags` attribute of ECS tags, without the ownership tag.
pub(super) fn tags_of(tags: &[Tag]) -> Value {
    tags_value(
        tags.iter()
            .filter_map(|t| Some((t.key()?, t.value().unwrap_or_default()))),
    )
}

/// Whether ECS tags carry the ownership tag of `address`.
pub(super) fn owned_by(tags: &[Tag], address: &str) -> bool {
    tags.iter()
        .any(|t| t.key() == Some(crate::attrs::ADDRESS_TAG) && t.value() == Some(address))
}

/// Applies a `tags` change to any ECS resource by ARN.
pub(super) async fn sync_tags(
    aws: &Clients,
    arn: &str,
    prior: &Value,
    config: &Value,
) -> Result<(), ProviderError> {
    let edits = tag_changes(prior, config);
    if !edits.removed.is_empty() {
        aws.ecs
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(edits.removed))
            .send()
            .await
            .map_err(|e| sdk_error("UntagResource", e))?;
    }
    if !edits.set.is_empty() {
        aws.ecs
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(ecs_tags(edits.set)))
            .send()
            .await
            .map_err(|e| sdk_error("TagResource", e))?;
    }
    Ok(())
}

/// The `setting` blocks of a configuration.
fn settings(config: &Value) -> Result<Vec<ClusterSetting>, ProviderError> {
    let Some(list) = config.get("setting").and_then(Value::as_list) else {
        return Ok(Vec::new());
    };
    list.iter()
        .map(|s| {
            let name = required(TYPE, s, "name")?;
            let value = required(TYPE, s, "value")?;
            if name != "containerInsights" {
                return Err(invalid(
                    TYPE,
                    format!("setting `{name}` is unknown; the one ECS has is `containerInsights`"),
                ));
            }
            Ok(ClusterSetting::builder()
                .name(ClusterSettingName::from(name))
                .value(value)
                .build())
        })
        .collect()
}

/// The cluster name of a name or an ARN (`arn:aws:ecs:REGION:ACCOUNT:cluster/NAME`).
pub(super) fn cluster_name(name_or_arn: &str) -> &str {
    name_or_arn
        .split_once(":cluster/")
        .map_or(name_or_arn, |(_, name)| name)
}

#[async_trait]
impl Resource for Cluster {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .import_id("CLUSTER_NAME")
            .describe("An ECS cluster")
            .attr(AttrSchema::required("name", AttrType::String).force_new())
            .attr(
                AttrSchema::optional_computed(
                    "setting",
                    AttrType::List(Box::new(AttrType::Object(BTreeMap::from([
                        ("name".to_string(), AttrType::String),
                        ("value".to_string(), AttrType::String),
                    ])))),
                )
                .describe("`{ name: containerInsights, value: enabled | disabled }`"),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(arn_schema())
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        // By name: ids are ARNs, import ids names, and an unrecorded create has only the spec's.
        let mut wanted: BTreeMap<String, &ReadItem> = BTreeMap::new();
        for item in items {
            let name = match &item.id {
                Some(id) => Some(cluster_name(id)),
                None if item.token.is_some() => text(&item.prior, "name"),
                None => None,
            };
            if let Some(name) = name {
                wanted.insert(name.to_string(), item);
            }
        }
        let names: Vec<String> = wanted.keys().cloned().collect();
        let mut found = BTreeMap::new();
        for chunk in names.chunks(CHUNK) {
            let out = aws
                .ecs
                .describe_clusters()
                .set_clusters(Some(chunk.to_vec()))
                .include(ClusterField::Tags)
                .include(ClusterField::Settings)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeClusters", e))?;
            for c in out.clusters() {
                let (Some(arn), Some(name)) = (c.cluster_arn(), c.cluster_name()) else {
                    continue;
                };
                if c.status() == Some("INACTIVE") {
                    continue;
                }
                let Some(item) = wanted.get(name) else {
                    continue;
                };
                if item.id.is_none() && !owned_by(c.tags(), &item.address) {
                    continue;
                }
                let settings: Vec<Value> = c
                    .settings()
                    .iter()
                    .map(|s| {
                        Attrs::new()
                            .opt("name", s.name().map(|n| n.as_str()))
                            .opt("value", s.value())
                            .build()
                    })
                    .collect();
                found.insert(
                    item.address.clone(),
                    ReadResult {
                        id: arn.to_string(),
                        attributes: Attrs::new()
                            .set("id", arn)
                            .set("arn", arn)
                            .set("name", name)
                            .set("setting", Value::List(settings))
                            .set("tags", tags_of(c.tags()))
                            .build(),
                    },
                );
            }
        }
        Ok(found)
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let c = &req.config;
        let settings = settings(c)?;
        let out = aws
            .ecs
            .create_cluster()
            .cluster_name(required(TYPE, c, "name")?)
            .set_settings(Some(settings).filter(|s| !s.is_empty()))
            .set_tags(Some(ecs_tags(with_owner(c, &req.address))))
            .send()
            .await
            .map_err(|e| sdk_error("CreateCluster", e))?;
        out.cluster()
            .and_then(|c| c.cluster_arn())
            .map(String::from)
            .ok_or_else(|| invalid(TYPE, "CreateCluster returned no ARN"))
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let changed = |attr: &str| req.changed.iter().any(|a| a == attr);
        if changed("setting") {
            let mut settings = settings(&req.config)?;
            // Removing the block turns Container Insights off rather than leaving it as it was.
            if settings.is_empty() {
                settings.push(
                    ClusterSetting::builder()
                        .name(ClusterSettingName::ContainerInsights)
                        .value("disabled")
                        .build(),
                );
            }
            aws.ecs
                .update_cluster()
                .cluster(&req.id)
                .set_settings(Some(settings))
                .send()
                .await
                .map_err(|e| sdk_error("UpdateCluster", e))?;
        }
        if changed("tags") {
            sync_tags(aws, &req.id, &req.prior, &req.config).await?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        aws.ecs
            .delete_cluster()
            .cluster(&req.id)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteCluster", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_is_named_by_its_name_or_its_arn() {
        assert_eq!(
            cluster_name("arn:aws:ecs:us-east-1:123456789012:cluster/app"),
            "app"
        );
        assert_eq!(cluster_name("app"), "app");
    }
}
