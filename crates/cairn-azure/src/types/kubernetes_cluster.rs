//! `azurerm_kubernetes_cluster`: an AKS managed cluster with its default (system) node pool, a
//! system-assigned identity and a network profile. Further node pools are
//! `azurerm_kubernetes_cluster_node_pool`; ARM lists every pool in the cluster's
//! `agentPoolProfiles`, so the default pool is picked out by name (or, on import, as the first
//! `System` pool). An update therefore carries over the live profiles of the other pools: a PUT
//! of the cluster without them would ask ARM to remove them.

use std::collections::BTreeMap;

use cairn_provider::provider::ProviderError;
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::block::{block, configured, opt_string};
use super::{
    ArmBody, Ctx, PROVIDER, as_prior, id_part, id_schema, location, location_schema, name_schema,
    parse, required, resource_group_name_schema, same_ignoring_case, same_location, tags,
    tags_schema, tags_value, text, to_json,
};
use crate::errors::invalid;

pub struct KubernetesCluster;

const TYPE: &str = "azurerm_kubernetes_cluster";
const ARM_TYPE: &str = "Microsoft.ContainerService/managedClusters";
pub(super) const API_VERSION: &str = "2025-05-01";

#[derive(Debug, Default, Serialize, Deserialize)]
struct Cluster {
    #[serde(default, skip_serializing)]
    id: String,
    #[serde(default, skip_serializing)]
    name: String,
    location: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sku: Option<Sku>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    identity: Option<Identity>,
    #[serde(default)]
    properties: Properties,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sku {
    #[serde(default)]
    name: String,
    #[serde(default)]
    tier: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Identity {
    #[serde(rename = "type", default)]
    kind: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Properties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kubernetes_version: Option<String>,
    #[serde(default)]
    dns_prefix: String,
    #[serde(default)]
    agent_pool_profiles: Vec<PoolProfile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    network_profile: Option<NetworkProfile>,
    #[serde(default, skip_serializing)]
    fqdn: Option<String>,
    #[serde(default, skip_serializing)]
    node_resource_group: Option<String>,
}

/// One entry of `agentPoolProfiles` (`ManagedClusterAgentPoolProfile`).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PoolProfile {
    #[serde(default)]
    name: String,
    #[serde(flatten)]
    pool: super::kubernetes_cluster_node_pool::PoolProperties,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NetworkProfile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    network_plugin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    network_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    service_cidr: Option<String>,
    #[serde(
        rename = "dnsServiceIP",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    dns_service_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    load_balancer_sku: Option<String>,
}

fn object(fields: &[(&str, AttrType)]) -> AttrType {
    AttrType::Object(
        fields
            .iter()
            .map(|(k, t)| (k.to_string(), t.clone()))
            .collect(),
    )
}

fn zones_type() -> AttrType {
    AttrType::List(Box::new(AttrType::String))
}

impl ArmBody for KubernetesCluster {
    fn schema(&self) -> Schema {
        let s = || AttrType::String;
        let n = || AttrType::Number;
        Schema::resource(PROVIDER, TYPE)
            .describe("An AKS managed Kubernetes cluster")
            .attr(name_schema())
            .attr(resource_group_name_schema())
            .attr(location_schema())
            .attr(AttrSchema::required("dns_prefix", s()).force_new())
            .attr(
                AttrSchema::optional_computed("kubernetes_version", s())
                    .describe("e.g. `1.31`; default: AKS's default version"),
            )
            .attr(
                AttrSchema::optional("sku_tier", s())
                    .default("Free")
                    .describe("Free, Standard or Premium"),
            )
            .attr(
                AttrSchema::required(
                    "default_node_pool",
                    object(&[
                        ("name", s()),
                        ("vm_size", s()),
                        ("node_count", n()),
                        ("auto_scaling_enabled", AttrType::Bool),
                        ("min_count", n()),
                        ("max_count", n()),
                        ("vnet_subnet_id", s()),
                        ("zones", zones_type()),
                    ]),
                )
                .describe("the system node pool: { name, vm_size, node_count, auto_scaling_enabled, min_count, max_count, vnet_subnet_id, zones }; changing name, vm_size, zones or vnet_subnet_id needs a new cluster"),
            )
            .attr(
                AttrSchema::required("identity", object(&[("type", s())]))
                    .describe("{ type: SystemAssigned }"),
            )
            .attr(
                AttrSchema::optional_computed(
                    "network_profile",
                    object(&[
                        ("network_plugin", s()),
                        ("network_policy", s()),
                        ("service_cidr", s()),
                        ("dns_service_ip", s()),
                        ("load_balancer_sku", s()),
                    ]),
                )
                .force_new()
                .describe("{ network_plugin: azure | kubenet | none, network_policy, service_cidr, dns_service_ip, load_balancer_sku: standard | basic }"),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(AttrSchema::computed("fqdn", s()))
            .attr(AttrSchema::computed("node_resource_group", s()))
            .import_id("/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.ContainerService/managedClusters/NAME")
            .typical_create_secs(420.0)
    }

    fn arm_type(&self) -> &'static str {
        ARM_TYPE
    }

    fn api_version(&self) -> &'static str {
        API_VERSION
    }

    fn body(&self, ctx: &Ctx<'_>, config: &Value) -> Result<Json, ProviderError> {
        let pool = block(config, "default_node_pool")
            .ok_or_else(|| invalid(TYPE, "`default_node_pool` is required"))?;
        let identity = block(config, "identity")
            .and_then(|i| text(i, "type"))
            .ok_or_else(|| invalid(TYPE, "`identity` with a `type` is required"))?;
        let network = block(config, "network_profile").map(|p| NetworkProfile {
            network_plugin: text(p, "network_plugin").map(String::from),
            network_policy: text(p, "network_policy").map(String::from),
            service_cidr: text(p, "service_cidr").map(String::from),
            dns_service_ip: text(p, "dns_service_ip").map(String::from),
            // azurerm's default; ARM's own is also `standard`.
            load_balancer_sku: Some(
                text(p, "load_balancer_sku")
                    .unwrap_or("standard")
                    .to_string(),
            ),
        });
        to_json(
            TYPE,
            &Cluster {
                location: location(ctx, TYPE, config)?,
                tags: tags(config),
                sku: Some(Sku {
                    // `Base` is the only SKU name ARM knows; the tier is what users choose.
                    name: "Base".to_string(),
                    tier: text(config, "sku_tier").unwrap_or("Free").to_string(),
                }),
                identity: Some(Identity {
                    kind: identity.to_string(),
                }),
                properties: Properties {
                    kubernetes_version: text(config, "kubernetes_version").map(String::from),
                    dns_prefix: required(TYPE, config, "dns_prefix")?.to_string(),
                    agent_pool_profiles: vec![PoolProfile {
                        name: required(TYPE, pool, "name")?.to_string(),
                        pool: super::kubernetes_cluster_node_pool::pool_properties(
                            TYPE, pool, "System",
                        )?,
                    }],
                    network_profile: network,
                    fqdn: None,
                    node_resource_group: None,
                },
                ..Default::default()
            },
        )
    }

    fn attributes(&self, resource: &Json, prior: &Value) -> Result<Value, ProviderError> {
        let cluster: Cluster = parse(TYPE, resource)?;
        let group = id_part(&cluster.id, "resourceGroups").unwrap_or_default();
        let p = cluster.properties;
        let prior_pool = prior.get("default_node_pool").map(Value::expose);
        let wanted = prior_pool.and_then(|b| text(b, "name"));
        let pool = p
            .agent_pool_profiles
            .iter()
            .find(|a| wanted.is_some_and(|w| a.name.eq_ignore_ascii_case(w)))
            .or_else(|| {
                p.agent_pool_profiles
                    .iter()
                    .find(|a| a.pool.mode.as_deref() == Some("System"))
            })
            .or(p.agent_pool_profiles.first());
        let pool = match pool {
            Some(a) => {
                let mut full =
                    super::kubernetes_cluster_node_pool::pool_fields(&a.pool, prior_pool);
                full.insert("name".to_string(), as_prior_in(prior_pool, "name", &a.name));
                configured(full, prior_pool)
            }
            None => Value::Null,
        };
        let network = match &p.network_profile {
            Some(n) => {
                let prior_net = prior.get("network_profile").map(Value::expose);
                configured(
                    BTreeMap::from([
                        (
                            "network_plugin".to_string(),
                            opt_string(n.network_plugin.as_deref()),
                        ),
                        (
                            "network_policy".to_string(),
                            opt_string(n.network_policy.as_deref()),
                        ),
                        (
                            "service_cidr".to_string(),
                            opt_string(n.service_cidr.as_deref()),
                        ),
                        (
                            "dns_service_ip".to_string(),
                            opt_string(n.dns_service_ip.as_deref()),
                        ),
                        (
                            "load_balancer_sku".to_string(),
                            opt_string(n.load_balancer_sku.as_deref()),
                        ),
                    ]),
                    prior_net,
                )
            }
            None => Value::Null,
        };
        let identity = cluster
            .identity
            .map(|i| {
                Value::Map(BTreeMap::from([(
                    "type".to_string(),
                    Value::string(i.kind),
                )]))
            })
            .unwrap_or(Value::Null);
        Ok(Value::Map(BTreeMap::from([
            ("id".to_string(), Value::string(&cluster.id)),
            (
                "name".to_string(),
                as_prior(prior, "name", &cluster.name, same_ignoring_case),
            ),
            (
                "resource_group_name".to_string(),
                as_prior(prior, "resource_group_name", group, same_ignoring_case),
            ),
            (
                "location".to_string(),
                as_prior(prior, "location", &cluster.location, same_location),
            ),
            ("dns_prefix".to_string(), Value::string(p.dns_prefix)),
            (
                "kubernetes_version".to_string(),
                opt_string(p.kubernetes_version.as_deref()),
            ),
            (
                "sku_tier".to_string(),
                Value::string(
                    cluster
                        .sku
                        .map(|s| s.tier)
                        .filter(|t| !t.is_empty())
                        .unwrap_or_else(|| "Free".to_string()),
                ),
            ),
            ("default_node_pool".to_string(), pool),
            ("identity".to_string(), identity),
            ("network_profile".to_string(), network),
            ("tags".to_string(), tags_value(&cluster.tags)),
            ("fqdn".to_string(), opt_string(p.fqdn.as_deref())),
            (
                "node_resource_group".to_string(),
                opt_string(p.node_resource_group.as_deref()),
            ),
        ])))
    }

    /// ARM lists every pool in `agentPoolProfiles`: a PUT without those of
    /// `azurerm_kubernetes_cluster_node_pool` resources would ask it to remove them.
    fn reads_live_on_update(&self) -> bool {
        true
    }

    fn carry_over(&self, body: &mut Json, live: &Json) {
        keep_other_pools(body, live);
    }

    fn default_timeout(&self) -> std::time::Duration {
        // AKS creates take 5 to 15 minutes; azurerm waits 90.
        std::time::Duration::from_secs(90 * 60)
    }
}

/// A name as the prior block spells it when ARM's differs only in case.
fn as_prior_in(prior: Option<&Value>, name: &str, live: &str) -> Value {
    match prior {
        Some(p) => as_prior(p, name, live, same_ignoring_case),
        None => Value::string(live),
    }
}

/// Appends to the body's `agentPoolProfiles` the live profiles of pools other than the default
/// one (those of `azurerm_kubernetes_cluster_node_pool` resources), as ARM shows them.
fn keep_other_pools(body: &mut Json, live: &Json) {
    let Some(others) = live
        .pointer("/properties/agentPoolProfiles")
        .and_then(Json::as_array)
    else {
        return;
    };
    let Some(ours) = body
        .pointer_mut("/properties/agentPoolProfiles")
        .and_then(Json::as_array_mut)
    else {
        return;
    };
    let names: Vec<String> = ours
        .iter()
        .filter_map(|p| p.get("name")?.as_str().map(str::to_ascii_lowercase))
        .collect();
    for other in others {
        let name = other.get("name").and_then(Json::as_str).unwrap_or_default();
        if !names.contains(&name.to_ascii_lowercase()) {
            ours.push(other.clone());
        }
    }
}
