//! `azurerm_postgresql_flexible_server_firewall_rule`: a range of public IPv4 addresses allowed
//! to connect to a flexible server (`0.0.0.0`–`0.0.0.0` means every Azure service).

use std::collections::BTreeMap;

use cairn_provider::provider::ProviderError;
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{
    ArmBody, Child, Ctx, PROVIDER, as_prior, collection, id_schema, name_schema, parse, required,
    same_ignoring_case, to_json,
};

pub struct PostgresqlFlexibleServerFirewallRule;

const TYPE: &str = "azurerm_postgresql_flexible_server_firewall_rule";

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Properties {
    #[serde(default)]
    start_ip_address: String,
    #[serde(default)]
    end_ip_address: String,
}

impl ArmBody for PostgresqlFlexibleServerFirewallRule {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("A firewall rule of a PostgreSQL flexible server")
            .attr(name_schema())
            .attr(AttrSchema::required("server_id", AttrType::String).force_new())
            .attr(AttrSchema::required("start_ip_address", AttrType::String))
            .attr(AttrSchema::required("end_ip_address", AttrType::String))
            .attr(id_schema())
            .import_id("/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.DBforPostgreSQL/flexibleServers/SERVER/firewallRules/NAME")
            .typical_create_secs(60.0)
    }

    fn arm_type(&self) -> &'static str {
        "Microsoft.DBforPostgreSQL/flexibleServers/firewallRules"
    }

    fn api_version(&self) -> &'static str {
        super::postgresql_flexible_server::API_VERSION
    }

    fn id(&self, _ctx: &Ctx<'_>, config: &Value) -> Result<String, ProviderError> {
        Ok(format!(
            "{}/firewallRules/{}",
            required(TYPE, config, "server_id")?,
            required(TYPE, config, "name")?
        ))
    }

    fn body(&self, _ctx: &Ctx<'_>, config: &Value) -> Result<Json, ProviderError> {
        to_json(
            TYPE,
            &Child {
                properties: Properties {
                    start_ip_address: required(TYPE, config, "start_ip_address")?.to_string(),
                    end_ip_address: required(TYPE, config, "end_ip_address")?.to_string(),
                },
                ..Default::default()
            },
        )
    }

    fn attributes(&self, resource: &Json, prior: &Value) -> Result<Value, ProviderError> {
        let rule: Child<Properties> = parse(TYPE, resource)?;
        let server = collection(collection(&rule.id));
        Ok(Value::Map(BTreeMap::from([
            ("id".to_string(), Value::string(&rule.id)),
            (
                "name".to_string(),
                as_prior(prior, "name", &rule.name, same_ignoring_case),
            ),
            (
                "server_id".to_string(),
                as_prior(prior, "server_id", server, same_ignoring_case),
            ),
            (
                "start_ip_address".to_string(),
                Value::string(rule.properties.start_ip_address),
            ),
            (
                "end_ip_address".to_string(),
                Value::string(rule.properties.end_ip_address),
            ),
        ])))
    }
}
