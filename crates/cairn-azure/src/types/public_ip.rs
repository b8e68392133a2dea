//! `azurerm_public_ip`: an internet-facing address for a gateway or load balancer. The address
//! itself (`ip_address`) is ARM's to choose; a Static one is known once the create finishes, a
//! Dynamic one only once something uses it.

use std::collections::BTreeMap;

use cairn_provider::provider::ProviderError;
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{
    ArmBody, Ctx, PROVIDER, as_prior, id_part, id_schema, location, location_schema, name_schema,
    number, parse, required, resource_group_name_schema, same_ignoring_case, same_location,
    string_list, strings, tags, tags_schema, tags_value, text, to_json,
};
use crate::errors::invalid;

pub struct PublicIp;

const TYPE: &str = "azurerm_public_ip";
pub const ARM_TYPE: &str = "Microsoft.Network/publicIPAddresses";
pub const API_VERSION: &str = "2025-03-01";
/// azurerm's defaults (provider 4.x): Standard SKU, regional, IPv4, 4 idle minutes.
const SKU: &str = "Standard";
const SKU_TIER: &str = "Regional";
const IP_VERSION: &str = "IPv4";
const IDLE_MINUTES: i64 = 4;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PublicIpAddress {
    #[serde(default, skip_serializing)]
    id: String,
    #[serde(default, skip_serializing)]
    name: String,
    location: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sku: Option<Sku>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    zones: Vec<String>,
    properties: Properties,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sku {
    #[serde(default)]
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tier: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Properties {
    #[serde(rename = "publicIPAllocationMethod", default)]
    public_ip_allocation_method: String,
    #[serde(
        rename = "publicIPAddressVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    public_ip_address_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    idle_timeout_in_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dns_settings: Option<DnsSettings>,
    #[serde(default, skip_serializing)]
    ip_address: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DnsSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    domain_name_label: Option<String>,
    #[serde(default, skip_serializing)]
    fqdn: Option<String>,
}

impl ArmBody for PublicIp {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("A public IP address")
            .attr(name_schema())
            .attr(resource_group_name_schema())
            .attr(location_schema())
            .attr(
                AttrSchema::required("allocation_method", AttrType::String)
                    .describe("Static or Dynamic (a Standard SKU needs Static)"),
            )
            .attr(
                AttrSchema::optional("sku", AttrType::String)
                    .default(SKU)
                    .force_new()
                    .describe("Basic or Standard"),
            )
            .attr(
                AttrSchema::optional("sku_tier", AttrType::String)
                    .default(SKU_TIER)
                    .force_new()
                    .describe("Regional or Global"),
            )
            .attr(
                AttrSchema::optional("zones", AttrType::List(Box::new(AttrType::String)))
                    .force_new(),
            )
            .attr(
                AttrSchema::optional("ip_version", AttrType::String)
                    .default(IP_VERSION)
                    .force_new()
                    .describe("IPv4 or IPv6"),
            )
            .attr(
                AttrSchema::optional("idle_timeout_in_minutes", AttrType::Number)
                    .default(IDLE_MINUTES as f64)
                    .describe("4 to 30"),
            )
            .attr(AttrSchema::optional("domain_name_label", AttrType::String))
            .attr(tags_schema())
            .attr(id_schema())
            .attr(AttrSchema::computed("ip_address", AttrType::String))
            .attr(AttrSchema::computed("fqdn", AttrType::String))
            .import_id("/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.Network/publicIPAddresses/NAME")
            .typical_create_secs(5.0)
    }

    fn arm_type(&self) -> &'static str {
        ARM_TYPE
    }

    fn api_version(&self) -> &'static str {
        API_VERSION
    }

    fn body(&self, ctx: &Ctx<'_>, config: &Value) -> Result<Json, ProviderError> {
        let idle = number(config, "idle_timeout_in_minutes").unwrap_or(IDLE_MINUTES as f64);
        if idle.fract() != 0.0 {
            return Err(invalid(
                TYPE,
                "`idle_timeout_in_minutes` must be a whole number",
            ));
        }
        to_json(
            TYPE,
            &PublicIpAddress {
                location: location(ctx, TYPE, config)?,
                tags: tags(config),
                sku: Some(Sku {
                    name: text(config, "sku").unwrap_or(SKU).to_string(),
                    tier: Some(text(config, "sku_tier").unwrap_or(SKU_TIER).to_string()),
                }),
                zones: strings(config, "zones"),
                properties: Properties {
                    public_ip_allocation_method: required(TYPE, config, "allocation_method")?
                        .to_string(),
                    public_ip_address_version: Some(
                        text(config, "ip_version").unwrap_or(IP_VERSION).to_string(),
                    ),
                    idle_timeout_in_minutes: Some(idle as i64),
                    dns_settings: text(config, "domain_name_label").map(|label| DnsSettings {
                        domain_name_label: Some(label.to_string()),
                        fqdn: None,
                    }),
                    ip_address: None,
                },
                ..Default::default()
            },
        )
    }

    fn attributes(&self, resource: &Json, prior: &Value) -> Result<Value, ProviderError> {
        let ip: PublicIpAddress = parse(TYPE, resource)?;
        let group = id_part(&ip.id, "resourceGroups").unwrap_or_default();
        let p = ip.properties;
        // ARM shows no SKU on addresses made before SKUs existed; those are Basic.
        let sku = ip.sku.unwrap_or_else(|| Sku {
            name: "Basic".to_string(),
            tier: None,
        });
        let dns = p.dns_settings.unwrap_or_default();
        let optional = |v: Option<String>| v.map(Value::string).unwrap_or(Value::Null);
        Ok(Value::Map(BTreeMap::from([
            ("id".to_string(), Value::string(&ip.id)),
            (
                "name".to_string(),
                as_prior(prior, "name", &ip.name, same_ignoring_case),
            ),
            (
                "resource_group_name".to_string(),
                as_prior(prior, "resource_group_name", group, same_ignoring_case),
            ),
            (
                "location".to_string(),
                as_prior(prior, "location", &ip.location, same_location),
            ),
            (
                "allocation_method".to_string(),
                Value::string(p.public_ip_allocation_method),
            ),
            ("sku".to_string(), Value::string(sku.name)),
            (
                "sku_tier".to_string(),
                Value::string(sku.tier.unwrap_or_else(|| SKU_TIER.to_string())),
            ),
            ("zones".to_string(), string_list(&ip.zones)),
            (
                "ip_version".to_string(),
                Value::string(
                    p.public_ip_address_version
                        .unwrap_or_else(|| IP_VERSION.to_string()),
                ),
            ),
            (
                "idle_timeout_in_minutes".to_string(),
                Value::Number(p.idle_timeout_in_minutes.unwrap_or(IDLE_MINUTES) as f64),
            ),
            (
                "domain_name_label".to_string(),
                optional(dns.domain_name_label),
            ),
            ("fqdn".to_string(), optional(dns.fqdn)),
            ("ip_address".to_string(), optional(p.ip_address)),
            ("tags".to_string(), tags_value(&ip.tags)),
        ])))
    }
}
