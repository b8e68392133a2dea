//! `azurerm_kubernetes_cluster_node_pool`: an AKS node pool beside the cluster's default one
//! (an `agentPools` child of the managed cluster). The pool properties are shared with the
//! cluster's `default_node_pool`, which ARM shows in the same shape inside the cluster.

use std::collections::BTreeMap;

use cairn_provider::provider::ProviderError;
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::block::{id_value, int, opt_int};
use super::{
    ArmBody, Child, Ctx, PROVIDER, as_prior, collection, flag, id_schema, parse, required,
    same_ignoring_case, string_list, strings, tags, tags_schema, tags_value, text, to_json,
};
use crate::errors::invalid;

pub struct KubernetesClusterNodePool;

const TYPE: &str = "azurerm_kubernetes_cluster_node_pool";

/// `ManagedClusterAgentPoolProfileProperties`: what a pool is, inside a cluster or on its own.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PoolProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    #[serde(default)]
    pub vm_size: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_auto_scaling: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_count: Option<i64>,
    #[serde(
        rename = "vnetSubnetID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub vnet_subnet_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub availability_zones: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// The pool fields of a block (`default_node_pool`, or a node pool's configuration). A pool
/// that autoscales starts at `min_count` unless `node_count` says otherwise, as azurerm does.
pub(super) fn pool_properties(
    resource_type: &str,
    config: &Value,
    mode: &str,
) -> Result<PoolProperties, ProviderError> {
    let autoscale = flag(config, "auto_scaling_enabled").unwrap_or(false);
    let (min, max) = (int(config, "min_count"), int(config, "max_count"));
    if autoscale && (min.is_none() || max.is_none()) {
        return Err(invalid(
            resource_type,
            "`min_count` and `max_count` are required when `auto_scaling_enabled` is true",
        ));
    }
    if !autoscale && (min.is_some() || max.is_some()) {
        return Err(invalid(
            resource_type,
            "`min_count` and `max_count` apply only when `auto_scaling_enabled` is true",
        ));
    }
    let count = int(config, "node_count").or(if autoscale { min } else { Some(1) });
    Ok(PoolProperties {
        count,
        vm_size: required(resource_type, config, "vm_size")?.to_string(),
        enable_auto_scaling: Some(autoscale),
        min_count: min,
        max_count: max,
        vnet_subnet_id: text(config, "vnet_subnet_id").map(String::from),
        availability_zones: strings(config, "zones"),
        mode: Some(mode.to_string()),
        tags: BTreeMap::new(),
    })
}

/// The attributes both pool kinds share, from ARM's pool. `prior` is the pool's configuration
/// or state, for id spellings.
pub(super) fn pool_fields(pool: &PoolProperties, prior: Option<&Value>) -> BTreeMap<String, Value> {
    BTreeMap::from([
        ("vm_size".to_string(), Value::string(&pool.vm_size)),
        ("node_count".to_string(), opt_int(pool.count)),
        (
            "auto_scaling_enabled".to_string(),
            Value::Bool(pool.enable_auto_scaling.unwrap_or(false)),
        ),
        ("min_count".to_string(), opt_int(pool.min_count)),
        ("max_count".to_string(), opt_int(pool.max_count)),
        (
            "vnet_subnet_id".to_string(),
            id_value(prior, "vnet_subnet_id", pool.vnet_subnet_id.as_deref()),
        ),
        ("zones".to_string(), string_list(&pool.availability_zones)),
    ])
}

impl ArmBody for KubernetesClusterNodePool {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("A node pool of an AKS cluster, beside its default one")
            .attr(
                AttrSchema::required("name", AttrType::String)
                    .force_new()
                    .describe("lower-case letters and digits, at most 12 (Linux)"),
            )
            .attr(AttrSchema::required("kubernetes_cluster_id", AttrType::String).force_new())
            .attr(AttrSchema::required("vm_size", AttrType::String).force_new())
            .attr(
                AttrSchema::optional_computed("node_count", AttrType::Number)
                    .describe("default: 1, or `min_count` when autoscaling"),
            )
            .attr(AttrSchema::optional("auto_scaling_enabled", AttrType::Bool).default(false))
            .attr(AttrSchema::optional("min_count", AttrType::Number))
            .attr(AttrSchema::optional("max_count", AttrType::Number))
            .attr(
                AttrSchema::optional("zones", AttrType::List(Box::new(AttrType::String)))
                    .force_new(),
            )
            .attr(
                AttrSchema::optional("mode", AttrType::String)
                    .default("User")
                    .describe("User or System"),
            )
            .attr(AttrSchema::optional("vnet_subnet_id", AttrType::String).force_new())
            .attr(tags_schema())
            .attr(id_schema())
            .import_id("/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.ContainerService/managedClusters/CLUSTER/agentPools/NAME")
            .typical_create_secs(240.0)
    }

    fn arm_type(&self) -> &'static str {
        "Microsoft.ContainerService/managedClusters/agentPools"
    }

    fn api_version(&self) -> &'static str {
        super::kubernetes_cluster::API_VERSION
    }

    fn id(&self, _ctx: &Ctx<'_>, config: &Value) -> Result<String, ProviderError> {
        Ok(format!(
            "{}/agentPools/{}",
            required(TYPE, config, "kubernetes_cluster_id")?,
            required(TYPE, config, "name")?
        ))
    }

    fn body(&self, _ctx: &Ctx<'_>, config: &Value) -> Result<Json, ProviderError> {
        let mut properties = pool_properties(TYPE, config, text(config, "mode").unwrap_or("User"))?;
        properties.tags = tags(config);
        to_json(
            TYPE,
            &Child {
                properties,
                ..Default::default()
            },
        )
    }

    fn attributes(&self, resource: &Json, prior: &Value) -> Result<Value, ProviderError> {
        let pool: Child<PoolProperties> = parse(TYPE, resource)?;
        let cluster = collection(collection(&pool.id));
        let mut attrs = pool_fields(&pool.properties, Some(prior));
        attrs.extend([
            ("id".to_string(), Value::string(&pool.id)),
            (
                "name".to_string(),
                as_prior(prior, "name", &pool.name, same_ignoring_case),
            ),
            (
                "kubernetes_cluster_id".to_string(),
                as_prior(prior, "kubernetes_cluster_id", cluster, same_ignoring_case),
            ),
            (
                "mode".to_string(),
                Value::string(pool.properties.mode.as_deref().unwrap_or("User")),
            ),
            ("tags".to_string(), tags_value(&pool.properties.tags)),
        ]);
        Ok(Value::Map(attrs))
    }

    fn default_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(60 * 60)
    }
}
