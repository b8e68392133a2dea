//! `azurerm_network_security_rule`: one rule of a network security group, a child resource of
//! its own in ARM (`.../networkSecurityGroups/NSG/securityRules/NAME`). A port or address is
//! given either as one value (`source_port_range`) or as a list (`source_port_ranges`), as in
//! azurerm; ARM keeps the two in separate members too.

use std::collections::BTreeMap;

use cairn_provider::provider::ProviderError;
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::network_security_group::{API_VERSION, ARM_TYPE as NSG_TYPE};
use super::{
    ArmBody, Child, Ctx, PROVIDER, as_prior, id_part, id_schema, name_schema, number, parse,
    provider_id, required, resource_group_name_schema, same_ignoring_case, string_list, strings,
    text, to_json,
};
use crate::errors::invalid;

pub struct NetworkSecurityRule;

const TYPE: &str = "azurerm_network_security_rule";

/// The single-or-list pairs, by azurerm name; each maps to ARM's `xRange`/`xRanges` or
/// `xPrefix`/`xPrefixes`.
const PAIRS: [(&str, &str); 4] = [
    ("source_port_range", "source_port_ranges"),
    ("destination_port_range", "destination_port_ranges"),
    ("source_address_prefix", "source_address_prefixes"),
    ("destination_address_prefix", "destination_address_prefixes"),
];

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Properties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    protocol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source_port_range: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    source_port_ranges: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    destination_port_range: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    destination_port_ranges: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source_address_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    source_address_prefixes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    destination_address_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    destination_address_prefixes: Vec<String>,
    access: String,
    priority: i64,
    direction: String,
}

fn list_of_strings() -> AttrType {
    AttrType::List(Box::new(AttrType::String))
}

/// An optional text attribute: ARM omits what was never set.
fn opt(value: Option<String>) -> Value {
    value.map(Value::string).unwrap_or(Value::Null)
}

impl ArmBody for NetworkSecurityRule {
    fn schema(&self) -> Schema {
        let mut schema = Schema::resource(PROVIDER, TYPE)
            .describe("A rule of a network security group")
            .attr(name_schema())
            .attr(resource_group_name_schema())
            .attr(AttrSchema::required("network_security_group_name", AttrType::String).force_new())
            .attr(AttrSchema::optional("description", AttrType::String))
            .attr(
                AttrSchema::required("protocol", AttrType::String)
                    .describe("Tcp, Udp, Icmp, Esp, Ah or *"),
            )
            .attr(AttrSchema::required("access", AttrType::String).describe("Allow or Deny"))
            .attr(
                AttrSchema::required("priority", AttrType::Number)
                    .describe("100 to 4096, unique per direction in the group"),
            )
            .attr(
                AttrSchema::required("direction", AttrType::String).describe("Inbound or Outbound"),
            );
        for (one, many) in PAIRS {
            schema = schema
                .attr(AttrSchema::optional(one, AttrType::String))
                .attr(AttrSchema::optional(many, list_of_strings()));
        }
        schema
            .attr(id_schema())
            .import_id("/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.Network/networkSecurityGroups/NSG/securityRules/NAME")
            .typical_create_secs(5.0)
    }

    fn arm_type(&self) -> &'static str {
        "Microsoft.Network/networkSecurityGroups/securityRules"
    }

    fn api_version(&self) -> &'static str {
        API_VERSION
    }

    fn id(&self, ctx: &Ctx<'_>, config: &Value) -> Result<String, ProviderError> {
        let nsg = provider_id(
            ctx.subscription,
            required(TYPE, config, "resource_group_name")?,
            NSG_TYPE,
            required(TYPE, config, "network_security_group_name")?,
        );
        Ok(format!(
            "{nsg}/securityRules/{}",
            required(TYPE, config, "name")?
        ))
    }

    fn body(&self, _ctx: &Ctx<'_>, config: &Value) -> Result<Json, ProviderError> {
        // ARM refuses a rule with both forms, or with neither, of a port or address; azurerm
        // checks this before calling, and so do we, naming the attributes.
        for (one, many) in PAIRS {
            let has_one = text(config, one).is_some();
            let has_many = !strings(config, many).is_empty();
            if has_one && has_many {
                return Err(invalid(TYPE, format!("set `{one}` or `{many}`, not both")));
            }
            if !has_one && !has_many {
                return Err(invalid(
                    TYPE,
                    format!("one of `{one}` or `{many}` is required"),
                ));
            }
        }
        let priority =
            number(config, "priority").ok_or_else(|| invalid(TYPE, "`priority` is required"))?;
        if priority.fract() != 0.0 {
            return Err(invalid(TYPE, "`priority` must be a whole number"));
        }
        let one = |name: &str| text(config, name).map(String::from);
        to_json(
            TYPE,
            &Child {
                properties: Properties {
                    description: one("description"),
                    protocol: required(TYPE, config, "protocol")?.to_string(),
                    source_port_range: one("source_port_range"),
                    source_port_ranges: strings(config, "source_port_ranges"),
                    destination_port_range: one("destination_port_range"),
                    destination_port_ranges: strings(config, "destination_port_ranges"),
                    source_address_prefix: one("source_address_prefix"),
                    source_address_prefixes: strings(config, "source_address_prefixes"),
                    destination_address_prefix: one("destination_address_prefix"),
                    destination_address_prefixes: strings(config, "destination_address_prefixes"),
                    access: required(TYPE, config, "access")?.to_string(),
                    priority: priority as i64,
                    direction: required(TYPE, config, "direction")?.to_string(),
                },
                ..Default::default()
            },
        )
    }

    fn attributes(&self, resource: &Json, prior: &Value) -> Result<Value, ProviderError> {
        let rule: Child<Properties> = parse(TYPE, resource)?;
        let p = rule.properties;
        let group = id_part(&rule.id, "resourceGroups").unwrap_or_default();
        let nsg = id_part(&rule.id, "networkSecurityGroups").unwrap_or_default();
        Ok(Value::Map(BTreeMap::from([
            ("id".to_string(), Value::string(&rule.id)),
            (
                "name".to_string(),
                as_prior(prior, "name", &rule.name, same_ignoring_case),
            ),
            (
                "resource_group_name".to_string(),
                as_prior(prior, "resource_group_name", group, same_ignoring_case),
            ),
            (
                "network_security_group_name".to_string(),
                as_prior(
                    prior,
                    "network_security_group_name",
                    nsg,
                    same_ignoring_case,
                ),
            ),
            ("description".to_string(), opt(p.description)),
            ("protocol".to_string(), Value::string(p.protocol)),
            ("access".to_string(), Value::string(p.access)),
            ("priority".to_string(), Value::Number(p.priority as f64)),
            ("direction".to_string(), Value::string(p.direction)),
            ("source_port_range".to_string(), opt(p.source_port_range)),
            (
                "source_port_ranges".to_string(),
                string_list(&p.source_port_ranges),
            ),
            (
                "destination_port_range".to_string(),
                opt(p.destination_port_range),
            ),
            (
                "destination_port_ranges".to_string(),
                string_list(&p.destination_port_ranges),
            ),
            (
                "source_address_prefix".to_string(),
                opt(p.source_address_prefix),
            ),
            (
                "source_address_prefixes".to_string(),
                string_list(&p.source_address_prefixes),
            ),
            (
                "destination_address_prefix".to_string(),
                opt(p.destination_address_prefix),
            ),
            (
                "destination_address_prefixes".to_string(),
                string_list(&p.destination_address_prefixes),
            ),
        ])))
    }
}
