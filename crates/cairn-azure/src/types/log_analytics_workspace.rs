//! `azurerm_log_analytics_workspace`: where AKS, Key Vault and application logs go. Its
//! `workspace_id` (ARM's `customerId`) is what agents are configured with.

use std::collections::BTreeMap;

use cairn_provider::provider::ProviderError;
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::choices::{enabled, is_enabled};
use super::{
    ArmBody, Ctx, PROVIDER, Tracked, as_prior, flag, id_part, id_schema, location, location_schema,
    name_schema, number, parse, resource_group_name_schema, same_ignoring_case, same_location,
    tags, tags_schema, tags_value, text, to_json,
};
use crate::errors::invalid;

pub struct LogAnalyticsWorkspace;

const TYPE: &str = "azurerm_log_analytics_workspace";
const ARM_TYPE: &str = "Microsoft.OperationalInsights/workspaces";

/// `dailyQuotaGb` of -1: no daily cap, azurerm's default.
const UNCAPPED: f64 = -1.0;

/// `WorkspaceProperties` at api-version 2025-02-01.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Properties {
    #[serde(default)]
    sku: Sku,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retention_in_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    workspace_capping: Option<Capping>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public_network_access_for_ingestion: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public_network_access_for_query: Option<String>,
    #[serde(default, skip_serializing)]
    customer_id: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Sku {
    #[serde(default)]
    name: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Capping {
    #[serde(default)]
    daily_quota_gb: Option<f64>,
}

impl ArmBody for LogAnalyticsWorkspace {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("A Log Analytics workspace")
            .attr(name_schema())
            .attr(resource_group_name_schema())
            .attr(location_schema())
            .attr(
                AttrSchema::optional("sku", AttrType::String)
                    .default("PerGB2018")
                    .describe("PerGB2018, CapacityReservation, Free, PerNode, Premium, Standard or Standalone"),
            )
            .attr(
                AttrSchema::optional_computed("retention_in_days", AttrType::Number)
                    .describe("7 (Free), or 30 to 730; ARM keeps 30 when unset"),
            )
            .attr(
                AttrSchema::optional("daily_quota_gb", AttrType::Number)
                    .default(-1)
                    .describe("-1: no daily cap"),
            )
            .attr(AttrSchema::optional("internet_ingestion_enabled", AttrType::Bool).default(true))
            .attr(AttrSchema::optional("internet_query_enabled", AttrType::Bool).default(true))
            .attr(tags_schema())
            .attr(id_schema())
            .attr(AttrSchema::computed("workspace_id", AttrType::String))
            .import_id("/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.OperationalInsights/workspaces/NAME")
            .typical_create_secs(15.0)
    }

    fn arm_type(&self) -> &'static str {
        ARM_TYPE
    }

    fn api_version(&self) -> &'static str {
        "2025-02-01"
    }

    fn body(&self, ctx: &Ctx<'_>, config: &Value) -> Result<Json, ProviderError> {
        let retention = number(config, "retention_in_days");
        if let Some(days) = retention
            && (days.fract() != 0.0 || !(7.0..=730.0).contains(&days))
        {
            return Err(invalid(
                TYPE,
                format!(
                    "`retention_in_days` is {days}; expected a whole number of days from 7 to 730"
                ),
            ));
        }
        to_json(
            TYPE,
            &Tracked {
                location: location(ctx, TYPE, config)?,
                tags: tags(config),
                properties: Properties {
                    sku: Sku {
                        name: text(config, "sku").unwrap_or("PerGB2018").to_string(),
                    },
                    retention_in_days: retention.map(|d| d as i64),
                    workspace_capping: Some(Capping {
                        daily_quota_gb: Some(number(config, "daily_quota_gb").unwrap_or(UNCAPPED)),
                    }),
                    public_network_access_for_ingestion: Some(
                        enabled(flag(config, "internet_ingestion_enabled").unwrap_or(true))
                            .to_string(),
                    ),
                    public_network_access_for_query: Some(
                        enabled(flag(config, "internet_query_enabled").unwrap_or(true)).to_string(),
                    ),
                    customer_id: None,
                },
                ..Default::default()
            },
        )
    }

    fn attributes(&self, resource: &Json, prior: &Value) -> Result<Value, ProviderError> {
        let workspace: Tracked<Properties> = parse(TYPE, resource)?;
        let p = workspace.properties;
        let group = id_part(&workspace.id, "resourceGroups").unwrap_or_default();
        Ok(Value::Map(BTreeMap::from([
            ("id".to_string(), Value::string(&workspace.id)),
            (
                "name".to_string(),
                as_prior(prior, "name", &workspace.name, same_ignoring_case),
            ),
            (
                "resource_group_name".to_string(),
                as_prior(prior, "resource_group_name", group, same_ignoring_case),
            ),
            (
                "location".to_string(),
                as_prior(prior, "location", &workspace.location, same_location),
            ),
            (
                "sku".to_string(),
                as_prior(prior, "sku", &p.sku.name, same_ignoring_case),
            ),
            (
                "retention_in_days".to_string(),
                p.retention_in_days
                    .map(|d| Value::Number(d as f64))
                    .unwrap_or(Value::Null),
            ),
            (
                "daily_quota_gb".to_string(),
                Value::Number(
                    p.workspace_capping
                        .and_then(|c| c.daily_quota_gb)
                        .unwrap_or(UNCAPPED),
                ),
            ),
            (
                "internet_ingestion_enabled".to_string(),
                Value::Bool(is_enabled(p.public_network_access_for_ingestion.as_deref())),
            ),
            (
                "internet_query_enabled".to_string(),
                Value::Bool(is_enabled(p.public_network_access_for_query.as_deref())),
            ),
            ("tags".to_string(), tags_value(&workspace.tags)),
            (
                "workspace_id".to_string(),
                Value::string(p.customer_id.unwrap_or_default()),
            ),
        ])))
    }
}
