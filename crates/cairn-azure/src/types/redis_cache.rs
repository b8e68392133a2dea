//! `azurerm_redis_cache`: an Azure Cache for Redis instance. The SKU sits inside `properties`
//! and `zones` beside it in the envelope, so this type has its own envelope rather than
//! [`super::Tracked`]. Access keys are not read: nothing in the seed systems takes them from
//! state, and keeping them out of state keeps secrets out of it.

use std::collections::BTreeMap;

use cairn_provider::provider::ProviderError;
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::choices::{enabled, is_enabled, one_of};
use super::{
    ArmBody, Ctx, PROVIDER, as_prior, flag, id_part, id_schema, location, location_schema,
    name_schema, number, parse, resource_group_name_schema, same_ignoring_case, same_location,
    string_list, strings, tags, tags_schema, tags_value, text, to_json,
};
use crate::errors::invalid;

/// `RedisUpdateParameters`. `tags` is always sent: a PATCH without it keeps the old ones.
#[derive(Debug, Serialize)]
struct Patch {
    tags: BTreeMap<String, String>,
    properties: Properties,
}

const TYPE: &str = "azurerm_redis_cache";
const ARM_TYPE: &str = "Microsoft.Cache/redis";

/// `RedisCreateParameters` on the way in, `RedisResource` on the way out (2024-11-01).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Cache {
    #[serde(default, skip_serializing)]
    id: String,
    #[serde(default, skip_serializing)]
    name: String,
    location: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    zones: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    tags: BTreeMap<String, String>,
    properties: Properties,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Properties {
    sku: Sku,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    redis_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    enable_non_ssl_port: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    minimum_tls_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public_network_access: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shard_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subnet_id: Option<String>,
    #[serde(rename = "staticIP", default, skip_serializing_if = "Option::is_none")]
    static_ip: Option<String>,
    // What ARM computes; never sent.
    #[serde(default, skip_serializing)]
    host_name: Option<String>,
    #[serde(default, skip_serializing)]
    port: Option<i64>,
    #[serde(default, skip_serializing)]
    ssl_port: Option<i64>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Sku {
    name: String,
    family: String,
    capacity: i64,
}

const SKUS: &[&str] = &["Basic", "Standard", "Premium"];
const FAMILIES: &[&str] = &["C", "P"];

pub struct RedisCache;

impl ArmBody for RedisCache {
    /// ARM's PUT of an existing cache is "create or replace": it may recreate the cache, with
    /// downtime and data loss. azurerm updates with PATCH (`RedisUpdateParameters`: no location,
    /// zones or subnet, which force a replacement anyway), and so does cairn.
    fn patch_body(&self, _ctx: &Ctx<'_>, config: &Value) -> Result<Option<Json>, ProviderError> {
        to_json(
            TYPE,
            &Patch {
                tags: tags(config),
                properties: properties(config)?,
            },
        )
        .map(Some)
    }

    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("An Azure Cache for Redis")
            .attr(name_schema())
            .attr(resource_group_name_schema())
            .attr(location_schema())
            .attr(
                AttrSchema::required("capacity", AttrType::Number)
                    .describe("the size: 0-6 for C (Basic/Standard), 1-5 for P (Premium)"),
            )
            .attr(
                AttrSchema::required("family", AttrType::String)
                    .describe("C (Basic/Standard) or P (Premium)"),
            )
            .attr(
                AttrSchema::required("sku_name", AttrType::String)
                    .describe("Basic, Standard or Premium"),
            )
            .attr(AttrSchema::optional("minimum_tls_version", AttrType::String).default("1.2"))
            .attr(AttrSchema::optional("non_ssl_port_enabled", AttrType::Bool).default(false))
            .attr(
                AttrSchema::optional("redis_version", AttrType::String)
                    .default("6")
                    .describe("the major version: 4 or 6"),
            )
            .attr(
                AttrSchema::optional("public_network_access_enabled", AttrType::Bool)
                    .default(true),
            )
            .attr(
                AttrSchema::optional("shard_count", AttrType::Number)
                    .describe("Premium only: the number of shards of a cluster"),
            )
            .attr(
                AttrSchema::optional("zones", AttrType::List(Box::new(AttrType::String)))
                    .force_new(),
            )
            .attr(
                AttrSchema::optional("subnet_id", AttrType::String)
                    .force_new()
                    .describe("Premium only: the subnet the cache is injected into"),
            )
            .attr(
                AttrSchema::optional_computed("private_static_ip_address", AttrType::String)
                    .force_new(),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(AttrSchema::computed("hostname", AttrType::String))
            .attr(AttrSchema::computed("port", AttrType::Number))
            .attr(AttrSchema::computed("ssl_port", AttrType::Number))
            .import_id("/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.Cache/redis/NAME")
            // Real caches take 15 to 40 minutes.
            .typical_create_secs(1200.0)
    }

    fn arm_type(&self) -> &'static str {
        ARM_TYPE
    }

    fn api_version(&self) -> &'static str {
        "2024-11-01"
    }

    fn body(&self, ctx: &Ctx<'_>, config: &Value) -> Result<Json, ProviderError> {
        let mut properties = properties(config)?;
        properties.subnet_id = text(config, "subnet_id").map(String::from);
        properties.static_ip = text(config, "private_static_ip_address").map(String::from);
        to_json(
            TYPE,
            &Cache {
                location: location(ctx, TYPE, config)?,
                zones: strings(config, "zones"),
                tags: tags(config),
                properties,
                ..Default::default()
            },
        )
    }

    fn attributes(&self, resource: &Json, prior: &Value) -> Result<Value, ProviderError> {
        let cache: Cache = parse(TYPE, resource)?;
        let p = cache.properties;
        let group = id_part(&cache.id, "resourceGroups").unwrap_or_default();
        // ARM answers the full version (`6.0.14`); azurerm's attribute is the major one.
        let version = p
            .redis_version
            .as_deref()
            .and_then(|v| v.split('.').next())
            .unwrap_or_default()
            .to_string();
        let number = |n: Option<i64>| n.map(|n| Value::Number(n as f64)).unwrap_or(Value::Null);
        let optional = |v: Option<String>| v.map(Value::string).unwrap_or(Value::Null);
        Ok(Value::Map(BTreeMap::from([
            ("id".to_string(), Value::string(&cache.id)),
            (
                "name".to_string(),
                as_prior(prior, "name", &cache.name, same_ignoring_case),
            ),
            (
                "resource_group_name".to_string(),
                as_prior(prior, "resource_group_name", group, same_ignoring_case),
            ),
            (
                "location".to_string(),
                as_prior(prior, "location", &cache.location, same_location),
            ),
            ("capacity".to_string(), Value::Number(p.sku.capacity as f64)),
            (
                "family".to_string(),
                as_prior(prior, "family", &p.sku.family, same_ignoring_case),
            ),
            (
                "sku_name".to_string(),
                as_prior(prior, "sku_name", &p.sku.name, same_ignoring_case),
            ),
            (
                "minimum_tls_version".to_string(),
                Value::string(p.minimum_tls_version.unwrap_or_else(|| "1.0".to_string())),
            ),
            (
                "non_ssl_port_enabled".to_string(),
                Value::Bool(p.enable_non_ssl_port.unwrap_or(false)),
            ),
            ("redis_version".to_string(), Value::string(version)),
            (
                "public_network_access_enabled".to_string(),
                Value::Bool(is_enabled(p.public_network_access.as_deref())),
            ),
            ("shard_count".to_string(), number(p.shard_count)),
            ("zones".to_string(), string_list(&cache.zones)),
            (
                "subnet_id".to_string(),
                match p.subnet_id {
                    Some(s) => as_prior(prior, "subnet_id", &s, same_ignoring_case),
                    None => Value::Null,
                },
            ),
            (
                "private_static_ip_address".to_string(),
                optional(p.static_ip),
            ),
            ("tags".to_string(), tags_value(&cache.tags)),
            ("hostname".to_string(), optional(p.host_name)),
            ("port".to_string(), number(p.port)),
            ("ssl_port".to_string(), number(p.ssl_port)),
        ])))
    }
}

/// The settings a create and an update both send.
fn properties(config: &Value) -> Result<Properties, ProviderError> {
    let capacity = number(config, "capacity")
        .filter(|c| c.fract() == 0.0 && (0.0..=6.0).contains(c))
        .ok_or_else(|| invalid(TYPE, "`capacity` is required: a whole number from 0 to 6"))?;
    Ok(Properties {
        sku: Sku {
            name: one_of(TYPE, config, "sku_name", SKUS)?.to_string(),
            family: one_of(TYPE, config, "family", FAMILIES)?.to_string(),
            capacity: capacity as i64,
        },
        redis_version: Some(text(config, "redis_version").unwrap_or("6").to_string()),
        enable_non_ssl_port: Some(flag(config, "non_ssl_port_enabled").unwrap_or(false)),
        minimum_tls_version: Some(
            text(config, "minimum_tls_version")
                .unwrap_or("1.2")
                .to_string(),
        ),
        public_network_access: Some(
            enabled(flag(config, "public_network_access_enabled").unwrap_or(true)).to_string(),
        ),
        shard_count: number(config, "shard_count").map(|n| n as i64),
        ..Default::default()
    })
}
