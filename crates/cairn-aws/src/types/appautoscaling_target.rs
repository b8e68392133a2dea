//! `aws_appautoscaling_target`: what Application Auto Scaling may scale, and between which
//! bounds (an ECS service's desired count: namespace `ecs`, resource `service/CLUSTER/SERVICE`,
//! dimension `ecs:service:DesiredCount`). Its id, also the import id, is Terraform's import id:
//! `SERVICE_NAMESPACE/RESOURCE_ID/SCALABLE_DIMENSION`.
//!
//! Refresh is one DescribeScalableTargets per namespace and page, filtered by the resource ids
//! in state. Registering again with new bounds updates a target in place. Also home to the id
//! helpers the scaling policy and scheduled action share.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use cairn_provider::provider::{
    CreateRequest, DeleteRequest, ProviderError, ReadItem, ReadResult, UpdateRequest,
};
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;

use super::{PROVIDER, Resource};
use crate::attrs::{Attrs, arn_schema, id_schema, number, required, text};
use crate::config::Clients;
use crate::errors::{invalid, sdk_error};
use crate::paginate::all_pages;

pub struct Target;

const TYPE: &str = "aws_appautoscaling_target";
/// Resource ids per DescribeScalableTargets call.
const CHUNK: usize = 50;

/// What a scalable target is: namespace, resource id, dimension.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct TargetKey {
    pub namespace: String,
    pub resource_id: String,
    pub dimension: String,
}

impl TargetKey {
    /// `NAMESPACE/RESOURCE_ID/DIMENSION`: the resource id has slashes, the other two do not.
    pub fn parse(id: &str) -> Option<TargetKey> {
        let (namespace, rest) = id.split_once('/')?;
        let (resource_id, dimension) = rest.rsplit_once('/')?;
        (!namespace.is_empty() && !resource_id.is_empty() && dimension.contains(':')).then(|| {
            TargetKey {
                namespace: namespace.to_string(),
                resource_id: resource_id.to_string(),
                dimension: dimension.to_string(),
            }
        })
    }

    /// From a configuration's `service_namespace`, `resource_id` and `scalable_dimension`.
    pub fn of(resource_type: &str, config: &Value) -> Result<TargetKey, ProviderError> {
        Ok(TargetKey {
            namespace: required(resource_type, config, "service_namespace")?.to_string(),
            resource_id: required(resource_type, config, "resource_id")?.to_string(),
            dimension: required(resource_type, config, "scalable_dimension")?.to_string(),
        })
    }

    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.namespace, self.resource_id, self.dimension)
    }

    pub fn ns(&self) -> ServiceNamespace {
        ServiceNamespace::from(self.namespace.as_str())
    }

    pub fn dim(&self) -> ScalableDimension {
        ScalableDimension::from(self.dimension.as_str())
    }

    /// The three attributes every Application Auto Scaling type has.
    pub fn attrs(&self, attrs: Attrs) -> Attrs {
        attrs
            .set("service_namespace", self.namespace.as_str())
            .set("resource_id", self.resource_id.as_str())
            .set("scalable_dimension", self.dimension.as_str())
    }
}

/// The schema of the three attributes that say which target.
pub(super) fn target_attrs(schema: Schema) -> Schema {
    schema
        .attr(
            AttrSchema::required("service_namespace", AttrType::String)
                .force_new()
                .describe("`ecs` for an ECS service"),
        )
        .attr(
            AttrSchema::required("resource_id", AttrType::String)
                .force_new()
                .describe("`service/CLUSTER_NAME/SERVICE_NAME` for an ECS service"),
        )
        .attr(
            AttrSchema::required("scalable_dimension", AttrType::String)
                .force_new()
                .describe("`ecs:service:DesiredCount` for an ECS service"),
        )
}

/// Items by the name their `id` (or, before one is recorded, their configuration) gives them:
/// `(target, name)`; `name` is empty for targets themselves.
pub(super) fn keyed<'a>(
    items: &'a [ReadItem],
    resource_type: &str,
    with_name: bool,
) -> BTreeMap<(TargetKey, String), &'a ReadItem> {
    let mut out = BTreeMap::new();
    for item in items {
        let key = match &item.id {
            Some(id) if with_name => id
                .rsplit_once('/')
                .and_then(|(target, name)| Some((TargetKey::parse(target)?, name.to_string()))),
            Some(id) => TargetKey::parse(id).map(|t| (t, String::new())),
            None => None,
        };
        if let Some(key) = key {
            out.insert(key, item);
        } else if item.id.is_some() {
            tracing::warn!(target: "cairn::aws", "{resource_type} id {:?} is not NAMESPACE/RESOURCE_ID/DIMENSION", item.id);
        }
    }
    out
}

#[async_trait]
impl Resource for Target {
    fn schema(&self) -> Schema {
        target_attrs(
            Schema::resource(PROVIDER, TYPE)
                .import_id("SERVICE_NAMESPACE/RESOURCE_ID/SCALABLE_DIMENSION")
                .describe("An Application Auto Scaling target (an ECS service's desired count)"),
        )
        .attr(AttrSchema::required("min_capacity", AttrType::Number))
        .attr(AttrSchema::required("max_capacity", AttrType::Number))
        .attr(
            AttrSchema::optional_computed("role_arn", AttrType::String)
                .describe("The role scaling acts with; AWS's service-linked role when unset"),
        )
        .attr(id_schema())
        .attr(arn_schema())
    }

    async fn read(
        &self,
        aws: &Clients,
        items: &[ReadItem],
    ) -> Result<BTreeMap<String, ReadResult>, ProviderError> {
        let wanted = keyed(items, TYPE, false);
        let mut namespaces: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (key, _) in wanted.keys() {
            namespaces
                .entry(key.namespace.as_str())
                .or_default()
                .push(key.resource_id.clone());
        }
        let mut found = BTreeMap::new();
        for (namespace, mut ids) in namespaces {
            ids.sort();
            ids.dedup();
            for chunk in ids.chunks(CHUNK) {
                let targets = all_pages(|token| async move {
                    let out = aws
                        .autoscaling
                        .describe_scalable_targets()
                        .service_namespace(ServiceNamespace::from(namespace))
                        .set_resource_ids(Some(chunk.to_vec()))
                        .set_next_token(token)
                        .send()
                        .await
                        .map_err(|e| sdk_error("DescribeScalableTargets", e))?;
                    Ok((out.scalable_targets.unwrap_or_default(), out.next_token))
                })
                .await?;
                for t in targets {
                    let key = TargetKey {
                        namespace: t.service_namespace().as_str().to_string(),
                        resource_id: t.resource_id().to_string(),
                        dimension: t.scalable_dimension().as_str().to_string(),
                    };
                    let Some(item) = wanted.get(&(key.clone(), String::new())) else {
                        continue;
                    };
                    let id = key.id();
                    found.insert(
                        item.address.clone(),
                        ReadResult {
                            id: id.clone(),
                            attributes: key
                                .attrs(Attrs::new())
                                .set("id", id)
                                .opt("arn", t.scalable_target_arn())
                                .set("min_capacity", f64::from(t.min_capacity()))
                                .set("max_capacity", f64::from(t.max_capacity()))
                                .opt("role_arn", Some(t.role_arn()).filter(|r| !r.is_empty()))
                                .build(),
                        },
                    );
                }
            }
        }
        Ok(found)
    }

    async fn create(&self, aws: &Clients, req: &CreateRequest) -> Result<String, ProviderError> {
        let key = TargetKey::of(TYPE, &req.config)?;
        register(aws, &key, &req.config).await?;
        Ok(key.id())
    }

    async fn update(&self, aws: &Clients, req: &UpdateRequest) -> Result<(), ProviderError> {
        let key = TargetKey::of(TYPE, &req.config)?;
        register(aws, &key, &req.config).await
    }

    async fn delete(&self, aws: &Clients, req: &DeleteRequest) -> Result<(), ProviderError> {
        let key = TargetKey::parse(&req.id)
            .ok_or_else(|| invalid(TYPE, format!("id {:?} is not a target id", req.id)))?;
        aws.autoscaling
            .deregister_scalable_target()
            .service_namespace(key.ns())
            .resource_id(&key.resource_id)
            .scalable_dimension(key.dim())
            .send()
            .await
            .map_err(|e| sdk_error("DeregisterScalableTarget", e))?;
        Ok(())
    }
}

/// RegisterScalableTarget creates a target or, for one that exists, sets its bounds.
async fn register(aws: &Clients, key: &TargetKey, config: &Value) -> Result<(), ProviderError> {
    aws.autoscaling
        .register_scalable_target()
        .service_namespace(key.ns())
        .resource_id(&key.resource_id)
        .scalable_dimension(key.dim())
        .set_min_capacity(number(config, "min_capacity"))
        .set_max_capacity(number(config, "max_capacity"))
        .set_role_arn(text(config, "role_arn").map(String::from))
        .send()
        .await
        .map_err(|e| sdk_error("RegisterScalableTarget", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_id_splits_around_the_slashes_of_its_resource_id() {
        let key = TargetKey::parse("ecs/service/main/app/ecs:service:DesiredCount").unwrap();
        assert_eq!(key.namespace, "ecs");
        assert_eq!(key.resource_id, "service/main/app");
        assert_eq!(key.dimension, "ecs:service:DesiredCount");
        assert_eq!(key.id(), "ecs/service/main/app/ecs:service:DesiredCount");
        assert_eq!(TargetKey::parse("service/main/app"), None);
    }
}
