//! `azurerm_key_vault`: a vault for keys, secrets and certificates. Access policies are not
//! attributes here (they belong to `azurerm_key_vault_access_policy` or to RBAC role
//! assignments), so an update carries the live ones over: a PUT without them would revoke them.

use std::collections::BTreeMap;

use cairn_provider::provider::ProviderError;
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::choices::{enabled, is_enabled};
use super::{
    ArmBody, Ctx, PROVIDER, Tracked, as_prior, flag, id_part, id_schema, location, location_schema,
    name_schema, number, parse, required, resource_group_name_schema, same_ignoring_case,
    same_location, tags, tags_schema, tags_value, to_json,
};
use crate::errors::invalid;

pub struct KeyVault;

const TYPE: &str = "azurerm_key_vault";
const ARM_TYPE: &str = "Microsoft.KeyVault/vaults";

/// `VaultProperties` at api-version 2024-11-01.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Properties {
    tenant_id: String,
    sku: Sku,
    /// Sent empty on create (ARM wants the member), replaced by the live list on update.
    #[serde(default)]
    access_policies: Vec<Json>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    enabled_for_deployment: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    enabled_for_disk_encryption: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    enabled_for_template_deployment: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    enable_soft_delete: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    soft_delete_retention_in_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    enable_rbac_authorization: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    enable_purge_protection: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public_network_access: Option<String>,
    #[serde(default, skip_serializing)]
    vault_uri: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Sku {
    /// Always `A`: the only family ARM knows.
    family: String,
    name: String,
}

impl ArmBody for KeyVault {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("A key vault")
            .attr(name_schema())
            .attr(resource_group_name_schema())
            .attr(location_schema())
            .attr(AttrSchema::required("tenant_id", AttrType::String))
            .attr(
                AttrSchema::required("sku_name", AttrType::String)
                    .describe("standard or premium"),
            )
            .attr(
                AttrSchema::optional("soft_delete_retention_days", AttrType::Number)
                    .default(90)
                    .describe("7 to 90; ARM keeps the value chosen at creation"),
            )
            .attr(
                AttrSchema::optional("purge_protection_enabled", AttrType::Bool)
                    .default(false)
                    .describe("once enabled, ARM refuses to disable it"),
            )
            // azurerm 4.x renamed `enable_rbac_authorization`; both spellings are accepted
            // and both are shown, so a configuration in either one re-plans empty.
            .attr(AttrSchema::optional_computed(
                "rbac_authorization_enabled",
                AttrType::Bool,
            ))
            .attr(AttrSchema::optional_computed(
                "enable_rbac_authorization",
                AttrType::Bool,
            ))
            .attr(
                AttrSchema::optional("public_network_access_enabled", AttrType::Bool)
                    .default(true),
            )
            .attr(AttrSchema::optional("enabled_for_deployment", AttrType::Bool).default(false))
            .attr(
                AttrSchema::optional("enabled_for_disk_encryption", AttrType::Bool)
                    .default(false),
            )
            .attr(
                AttrSchema::optional("enabled_for_template_deployment", AttrType::Bool)
                    .default(false),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(AttrSchema::computed("vault_uri", AttrType::String))
            .import_id("/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.KeyVault/vaults/NAME")
            .typical_create_secs(20.0)
    }

    fn arm_type(&self) -> &'static str {
        ARM_TYPE
    }

    fn api_version(&self) -> &'static str {
        "2024-11-01"
    }

    fn body(&self, ctx: &Ctx<'_>, config: &Value) -> Result<Json, ProviderError> {
        let sku = required(TYPE, config, "sku_name")?.to_ascii_lowercase();
        if sku != "standard" && sku != "premium" {
            return Err(invalid(
                TYPE,
                format!("`sku_name` is {sku:?}; expected standard or premium"),
            ));
        }
        let retention = number(config, "soft_delete_retention_days").unwrap_or(90.0);
        if !(7.0..=90.0).contains(&retention) || retention.fract() != 0.0 {
            return Err(invalid(
                TYPE,
                format!(
                    "`soft_delete_retention_days` is {retention}; expected a whole number of days from 7 to 90"
                ),
            ));
        }
        let rbac = match (
            flag(config, "rbac_authorization_enabled"),
            flag(config, "enable_rbac_authorization"),
        ) {
            (Some(a), Some(b)) if a != b => {
                return Err(invalid(
                    TYPE,
                    "`rbac_authorization_enabled` and `enable_rbac_authorization` are the same setting and disagree; keep one",
                ));
            }
            (a, b) => a.or(b).unwrap_or(false),
        };
        to_json(
            TYPE,
            &Tracked {
                location: location(ctx, TYPE, config)?,
                tags: tags(config),
                properties: Properties {
                    tenant_id: required(TYPE, config, "tenant_id")?.to_string(),
                    sku: Sku {
                        family: "A".to_string(),
                        name: sku,
                    },
                    access_policies: Vec::new(),
                    enabled_for_deployment: Some(
                        flag(config, "enabled_for_deployment").unwrap_or(false),
                    ),
                    enabled_for_disk_encryption: Some(
                        flag(config, "enabled_for_disk_encryption").unwrap_or(false),
                    ),
                    enabled_for_template_deployment: Some(
                        flag(config, "enabled_for_template_deployment").unwrap_or(false),
                    ),
                    // Soft delete cannot be turned off any more; azurerm always sends it on.
                    enable_soft_delete: Some(true),
                    soft_delete_retention_in_days: Some(retention as i64),
                    enable_rbac_authorization: Some(rbac),
                    // ARM refuses `false` once purge protection is on, and unset means off.
                    enable_purge_protection: flag(config, "purge_protection_enabled")
                        .filter(|on| *on),
                    public_network_access: Some(
                        enabled(flag(config, "public_network_access_enabled").unwrap_or(true))
                            .to_string(),
                    ),
                    vault_uri: None,
                },
                ..Default::default()
            },
        )
    }

    fn attributes(&self, resource: &Json, prior: &Value) -> Result<Value, ProviderError> {
        let vault: Tracked<Properties> = parse(TYPE, resource)?;
        let p = vault.properties;
        let group = id_part(&vault.id, "resourceGroups").unwrap_or_default();
        let rbac = p.enable_rbac_authorization.unwrap_or(false);
        Ok(Value::Map(BTreeMap::from([
            ("id".to_string(), Value::string(&vault.id)),
            (
                "name".to_string(),
                as_prior(prior, "name", &vault.name, same_ignoring_case),
            ),
            (
                "resource_group_name".to_string(),
                as_prior(prior, "resource_group_name", group, same_ignoring_case),
            ),
            (
                "location".to_string(),
                as_prior(prior, "location", &vault.location, same_location),
            ),
            (
                "tenant_id".to_string(),
                as_prior(prior, "tenant_id", &p.tenant_id, same_ignoring_case),
            ),
            (
                "sku_name".to_string(),
                as_prior(prior, "sku_name", &p.sku.name, same_ignoring_case),
            ),
            (
                "soft_delete_retention_days".to_string(),
                Value::Number(p.soft_delete_retention_in_days.unwrap_or(90) as f64),
            ),
            (
                "purge_protection_enabled".to_string(),
                Value::Bool(p.enable_purge_protection.unwrap_or(false)),
            ),
            ("rbac_authorization_enabled".to_string(), Value::Bool(rbac)),
            ("enable_rbac_authorization".to_string(), Value::Bool(rbac)),
            (
                "public_network_access_enabled".to_string(),
                Value::Bool(is_enabled(p.public_network_access.as_deref())),
            ),
            (
                "enabled_for_deployment".to_string(),
                Value::Bool(p.enabled_for_deployment.unwrap_or(false)),
            ),
            (
                "enabled_for_disk_encryption".to_string(),
                Value::Bool(p.enabled_for_disk_encryption.unwrap_or(false)),
            ),
            (
                "enabled_for_template_deployment".to_string(),
                Value::Bool(p.enabled_for_template_deployment.unwrap_or(false)),
            ),
            ("tags".to_string(), tags_value(&vault.tags)),
            (
                "vault_uri".to_string(),
                Value::string(p.vault_uri.unwrap_or_default()),
            ),
        ])))
    }

    fn preserve(&self) -> &'static [&'static str] {
        &["properties.accessPolicies"]
    }
}
