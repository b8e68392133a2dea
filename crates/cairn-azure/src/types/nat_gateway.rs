//! `azurerm_nat_gateway`: outbound internet access for subnets. Its public addresses and
//! subnets are linked by association resources, so an update carries the live links over.

use std::collections::BTreeMap;

use cairn_provider::provider::ProviderError;
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{
    ArmBody, Ctx, PROVIDER, as_prior, id_part, id_schema, location, location_schema, name_schema,
    number, parse, resource_group_name_schema, same_ignoring_case, same_location, string_list,
    strings, tags, tags_schema, tags_value, text, to_json,
};
use crate::errors::invalid;

pub struct NatGateway;

const TYPE: &str = "azurerm_nat_gateway";
const ARM_TYPE: &str = "Microsoft.Network/natGateways";
/// azurerm's defaults.
const SKU: &str = "Standard";
const IDLE_MINUTES: i64 = 4;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Gateway {
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
    #[serde(default)]
    properties: Properties,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sku {
    #[serde(default)]
    name: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Properties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    idle_timeout_in_minutes: Option<i64>,
    #[serde(default, skip_serializing)]
    resource_guid: Option<String>,
}

impl ArmBody for NatGateway {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("A NAT gateway for subnets' outbound traffic")
            .attr(name_schema())
            .attr(resource_group_name_schema())
            .attr(location_schema())
            .attr(
                AttrSchema::optional("sku_name", AttrType::String)
                    .default(SKU)
                    .describe("Standard"),
            )
            .attr(
                AttrSchema::optional("idle_timeout_in_minutes", AttrType::Number)
                    .default(IDLE_MINUTES as f64)
                    .describe("4 to 120"),
            )
            .attr(
                AttrSchema::optional("zones", AttrType::List(Box::new(AttrType::String)))
                    .force_new(),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(AttrSchema::computed("resource_guid", AttrType::String))
            .import_id("/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.Network/natGateways/NAME")
            .typical_create_secs(10.0)
    }

    fn arm_type(&self) -> &'static str {
        ARM_TYPE
    }

    fn api_version(&self) -> &'static str {
        "2025-03-01"
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
            &Gateway {
                location: location(ctx, TYPE, config)?,
                tags: tags(config),
                sku: Some(Sku {
                    name: text(config, "sku_name").unwrap_or(SKU).to_string(),
                }),
                zones: strings(config, "zones"),
                properties: Properties {
                    idle_timeout_in_minutes: Some(idle as i64),
                    resource_guid: None,
                },
                ..Default::default()
            },
        )
    }

    fn attributes(&self, resource: &Json, prior: &Value) -> Result<Value, ProviderError> {
        let gw: Gateway = parse(TYPE, resource)?;
        let group = id_part(&gw.id, "resourceGroups").unwrap_or_default();
        Ok(Value::Map(BTreeMap::from([
            ("id".to_string(), Value::string(&gw.id)),
            (
                "name".to_string(),
                as_prior(prior, "name", &gw.name, same_ignoring_case),
            ),
            (
                "resource_group_name".to_string(),
                as_prior(prior, "resource_group_name", group, same_ignoring_case),
            ),
            (
                "location".to_string(),
                as_prior(prior, "location", &gw.location, same_location),
            ),
            (
                "sku_name".to_string(),
                Value::string(gw.sku.map(|s| s.name).unwrap_or_else(|| SKU.to_string())),
            ),
            (
                "idle_timeout_in_minutes".to_string(),
                Value::Number(
                    gw.properties
                        .idle_timeout_in_minutes
                        .unwrap_or(IDLE_MINUTES) as f64,
                ),
            ),
            ("zones".to_string(), string_list(&gw.zones)),
            ("tags".to_string(), tags_value(&gw.tags)),
            (
                "resource_guid".to_string(),
                Value::string(gw.properties.resource_guid.unwrap_or_default()),
            ),
        ])))
    }

    fn preserve(&self) -> &'static [&'static str] {
        // Linked by `azurerm_nat_gateway_public_ip_association` and friends.
        &[
            "properties.publicIpAddresses",
            "properties.publicIpPrefixes",
        ]
    }
}
