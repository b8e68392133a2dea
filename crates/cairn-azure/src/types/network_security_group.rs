//! `azurerm_network_security_group`: a set of traffic rules that subnets and interfaces point
//! at. Its rules are their own resources (`azurerm_network_security_rule`), never inline: an
//! update carries the live `properties.securityRules` over, since a PUT without them would
//! delete every rule.

use std::collections::BTreeMap;

use cairn_provider::provider::ProviderError;
use cairn_provider::schema::Schema;
use cairn_provider::value::Value;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{
    ArmBody, Ctx, PROVIDER, Tracked, as_prior, id_part, id_schema, location, location_schema,
    name_schema, parse, resource_group_name_schema, same_ignoring_case, same_location, tags,
    tags_schema, tags_value, to_json,
};

pub struct NetworkSecurityGroup;

const TYPE: &str = "azurerm_network_security_group";
pub const ARM_TYPE: &str = "Microsoft.Network/networkSecurityGroups";
/// The version the test server pins for security groups and their rules.
pub const API_VERSION: &str = "2024-10-01";

/// Nothing of the group's own is written: its rules are carried over from the live resource
/// on update, and everything else ARM computes.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Properties {}

impl ArmBody for NetworkSecurityGroup {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("A network security group; its rules are `azurerm_network_security_rule` resources")
            .attr(name_schema())
            .attr(resource_group_name_schema())
            .attr(location_schema())
            .attr(tags_schema())
            .attr(id_schema())
            .import_id("/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.Network/networkSecurityGroups/NAME")
            .typical_create_secs(5.0)
    }

    fn arm_type(&self) -> &'static str {
        ARM_TYPE
    }

    fn api_version(&self) -> &'static str {
        API_VERSION
    }

    fn body(&self, ctx: &Ctx<'_>, config: &Value) -> Result<Json, ProviderError> {
        to_json(
            TYPE,
            &Tracked {
                location: location(ctx, TYPE, config)?,
                tags: tags(config),
                properties: Properties {},
                ..Default::default()
            },
        )
    }

    fn attributes(&self, resource: &Json, prior: &Value) -> Result<Value, ProviderError> {
        let nsg: Tracked<Properties> = parse(TYPE, resource)?;
        let group = id_part(&nsg.id, "resourceGroups").unwrap_or_default();
        Ok(Value::Map(BTreeMap::from([
            ("id".to_string(), Value::string(&nsg.id)),
            (
                "name".to_string(),
                as_prior(prior, "name", &nsg.name, same_ignoring_case),
            ),
            (
                "resource_group_name".to_string(),
                as_prior(prior, "resource_group_name", group, same_ignoring_case),
            ),
            (
                "location".to_string(),
                as_prior(prior, "location", &nsg.location, same_location),
            ),
            ("tags".to_string(), tags_value(&nsg.tags)),
        ])))
    }

    fn preserve(&self) -> &'static [&'static str] {
        &["properties.securityRules"]
    }
}
