//! `azurerm_subnet`: a range of a virtual network's addresses. Its network security group and
//! NAT gateway links belong to association resources, so an update carries them over.

use std::collections::BTreeMap;

use cairn_provider::provider::ProviderError;
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{
    ArmBody, Child, Ctx, PROVIDER, as_prior, flag, id_part, id_schema, name_schema, parse,
    provider_id, required, resource_group_name_schema, same_ignoring_case, string_list, strings,
    text, to_json,
};

pub struct Subnet;

const TYPE: &str = "azurerm_subnet";

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Properties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    address_prefixes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    service_endpoints: Vec<ServiceEndpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    private_endpoint_network_policies: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_outbound_access: Option<bool>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServiceEndpoint {
    service: String,
}

impl ArmBody for Subnet {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("A subnet of a virtual network")
            .attr(name_schema())
            .attr(resource_group_name_schema())
            .attr(AttrSchema::required("virtual_network_name", AttrType::String).force_new())
            .attr(AttrSchema::required(
                "address_prefixes",
                AttrType::List(Box::new(AttrType::String)),
            ))
            .attr(AttrSchema::optional(
                "service_endpoints",
                AttrType::List(Box::new(AttrType::String)),
            ))
            .attr(
                AttrSchema::optional("private_endpoint_network_policies", AttrType::String)
                    .default("Disabled")
                    .describe("Disabled, Enabled, NetworkSecurityGroupEnabled or RouteTableEnabled"),
            )
            .attr(AttrSchema::optional("default_outbound_access_enabled", AttrType::Bool).default(true))
            .attr(id_schema())
            .import_id("/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.Network/virtualNetworks/NETWORK/subnets/NAME")
            .typical_create_secs(5.0)
    }

    fn arm_type(&self) -> &'static str {
        "Microsoft.Network/virtualNetworks/subnets"
    }

    fn api_version(&self) -> &'static str {
        "2025-03-01"
    }

    fn id(&self, ctx: &Ctx<'_>, config: &Value) -> Result<String, ProviderError> {
        let network = provider_id(
            ctx.subscription,
            required(TYPE, config, "resource_group_name")?,
            "Microsoft.Network/virtualNetworks",
            required(TYPE, config, "virtual_network_name")?,
        );
        Ok(format!(
            "{network}/subnets/{}",
            required(TYPE, config, "name")?
        ))
    }

    fn body(&self, _ctx: &Ctx<'_>, config: &Value) -> Result<Json, ProviderError> {
        to_json(
            TYPE,
            &Child {
                properties: Properties {
                    address_prefix: None,
                    address_prefixes: strings(config, "address_prefixes"),
                    service_endpoints: strings(config, "service_endpoints")
                        .into_iter()
                        .map(|service| ServiceEndpoint { service })
                        .collect(),
                    private_endpoint_network_policies: Some(
                        text(config, "private_endpoint_network_policies")
                            .unwrap_or("Disabled")
                            .to_string(),
                    ),
                    default_outbound_access: Some(
                        flag(config, "default_outbound_access_enabled").unwrap_or(true),
                    ),
                },
                ..Default::default()
            },
        )
    }

    fn attributes(&self, resource: &Json, prior: &Value) -> Result<Value, ProviderError> {
        let subnet: Child<Properties> = parse(TYPE, resource)?;
        let p = subnet.properties;
        let prefixes = if p.address_prefixes.is_empty() {
            p.address_prefix.into_iter().collect()
        } else {
            p.address_prefixes
        };
        let group = id_part(&subnet.id, "resourceGroups").unwrap_or_default();
        let network = id_part(&subnet.id, "virtualNetworks").unwrap_or_default();
        Ok(Value::Map(BTreeMap::from([
            ("id".to_string(), Value::string(&subnet.id)),
            (
                "name".to_string(),
                as_prior(prior, "name", &subnet.name, same_ignoring_case),
            ),
            (
                "resource_group_name".to_string(),
                as_prior(prior, "resource_group_name", group, same_ignoring_case),
            ),
            (
                "virtual_network_name".to_string(),
                as_prior(prior, "virtual_network_name", network, same_ignoring_case),
            ),
            ("address_prefixes".to_string(), string_list(&prefixes)),
            (
                "service_endpoints".to_string(),
                string_list(
                    &p.service_endpoints
                        .into_iter()
                        .map(|s| s.service)
                        .collect::<Vec<_>>(),
                ),
            ),
            (
                "private_endpoint_network_policies".to_string(),
                Value::string(
                    p.private_endpoint_network_policies
                        .unwrap_or_else(|| "Disabled".to_string()),
                ),
            ),
            (
                "default_outbound_access_enabled".to_string(),
                Value::Bool(p.default_outbound_access.unwrap_or(true)),
            ),
        ])))
    }

    fn preserve(&self) -> &'static [&'static str] {
        &[
            "properties.networkSecurityGroup",
            "properties.natGateway",
            "properties.routeTable",
        ]
    }
}
