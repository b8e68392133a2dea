//! `azurerm_virtual_network`: an address space that subnets are carved from. Subnets are their
//! own resources (`azurerm_subnet`); an update carries the live ones over, since a PUT without
//! them would delete them.

use std::collections::BTreeMap;

use cairn_provider::provider::ProviderError;
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{
    ArmBody, Ctx, PROVIDER, Tracked, as_prior, id_part, id_schema, location, location_schema,
    name_schema, parse, resource_group_name_schema, same_ignoring_case, same_location, string_list,
    strings, tags, tags_schema, tags_value, to_json,
};

pub struct VirtualNetwork;

const TYPE: &str = "azurerm_virtual_network";
const ARM_TYPE: &str = "Microsoft.Network/virtualNetworks";

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Properties {
    address_space: AddressSpace,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dhcp_options: Option<DhcpOptions>,
    #[serde(default, skip_serializing)]
    resource_guid: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddressSpace {
    #[serde(default)]
    address_prefixes: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DhcpOptions {
    #[serde(default)]
    dns_servers: Vec<String>,
}

impl ArmBody for VirtualNetwork {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("A virtual network")
            .attr(name_schema())
            .attr(resource_group_name_schema())
            .attr(location_schema())
            .attr(AttrSchema::required(
                "address_space",
                AttrType::List(Box::new(AttrType::String)),
            ))
            .attr(AttrSchema::optional(
                "dns_servers",
                AttrType::List(Box::new(AttrType::String)),
            ))
            .attr(tags_schema())
            .attr(id_schema())
            .attr(AttrSchema::computed("guid", AttrType::String))
            .import_id("/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.Network/virtualNetworks/NAME")
            .typical_create_secs(10.0)
    }

    fn arm_type(&self) -> &'static str {
        ARM_TYPE
    }

    fn api_version(&self) -> &'static str {
        "2025-03-01"
    }

    fn body(&self, ctx: &Ctx<'_>, config: &Value) -> Result<Json, ProviderError> {
        let dns = strings(config, "dns_servers");
        to_json(
            TYPE,
            &Tracked {
                location: location(ctx, TYPE, config)?,
                tags: tags(config),
                properties: Properties {
                    address_space: AddressSpace {
                        address_prefixes: strings(config, "address_space"),
                    },
                    dhcp_options: (!dns.is_empty()).then_some(DhcpOptions { dns_servers: dns }),
                    resource_guid: None,
                },
                ..Default::default()
            },
        )
    }

    fn attributes(&self, resource: &Json, prior: &Value) -> Result<Value, ProviderError> {
        let vnet: Tracked<Properties> = parse(TYPE, resource)?;
        let group = id_part(&vnet.id, "resourceGroups").unwrap_or_default();
        let dns = vnet
            .properties
            .dhcp_options
            .map(|d| d.dns_servers)
            .unwrap_or_default();
        Ok(Value::Map(BTreeMap::from([
            ("id".to_string(), Value::string(&vnet.id)),
            (
                "name".to_string(),
                as_prior(prior, "name", &vnet.name, same_ignoring_case),
            ),
            (
                "resource_group_name".to_string(),
                as_prior(prior, "resource_group_name", group, same_ignoring_case),
            ),
            (
                "location".to_string(),
                as_prior(prior, "location", &vnet.location, same_location),
            ),
            (
                "address_space".to_string(),
                string_list(&vnet.properties.address_space.address_prefixes),
            ),
            ("dns_servers".to_string(), string_list(&dns)),
            ("tags".to_string(), tags_value(&vnet.tags)),
            (
                "guid".to_string(),
                Value::string(vnet.properties.resource_guid.unwrap_or_default()),
            ),
        ])))
    }

    fn preserve(&self) -> &'static [&'static str] {
        &["properties.subnets"]
    }
}
