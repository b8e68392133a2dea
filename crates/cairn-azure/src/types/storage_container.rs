//! `azurerm_storage_container`: a blob container, managed through ARM (azurerm v4's
//! `storage_account_id` form, not the data-plane `storage_account_name` one), so cairn needs no
//! storage keys. Its id is the account's id + `/blobServices/default/containers/NAME`.

use std::collections::BTreeMap;

use cairn_provider::provider::ProviderError;
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{
    ArmBody, Child, Ctx, PROVIDER, as_prior, id_schema, parse, required, same_ignoring_case,
    tags_value, text, to_json,
};
use crate::errors::invalid;

pub struct StorageContainer;

const TYPE: &str = "azurerm_storage_container";
const CONTAINERS: &str = "/blobServices/default/containers/";

/// azurerm's `container_access_type` and ARM's `publicAccess`, pairwise.
const ACCESS: &[(&str, &str)] = &[
    ("private", "None"),
    ("blob", "Blob"),
    ("container", "Container"),
];

/// `ContainerProperties` at api-version 2024-01-01. Blob containers have no
/// `provisioningState`: their PUT is synchronous.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Properties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public_access: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    metadata: BTreeMap<String, String>,
    #[serde(default, skip_serializing)]
    has_immutability_policy: Option<bool>,
    #[serde(default, skip_serializing)]
    has_legal_hold: Option<bool>,
}

impl ArmBody for StorageContainer {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("A blob container of a storage account")
            .attr(super::name_schema())
            .attr(
                AttrSchema::required("storage_account_id", AttrType::String)
                    .force_new()
                    .describe("the ARM id of the storage account"),
            )
            .attr(
                AttrSchema::optional("container_access_type", AttrType::String)
                    .default("private")
                    .describe("private, blob or container"),
            )
            .attr(AttrSchema::optional_computed(
                "metadata",
                AttrType::Map(Box::new(AttrType::String)),
            ))
            .attr(id_schema())
            .attr(AttrSchema::computed("has_immutability_policy", AttrType::Bool))
            .attr(AttrSchema::computed("has_legal_hold", AttrType::Bool))
            .import_id("/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.Storage/storageAccounts/ACCOUNT/blobServices/default/containers/NAME")
            .typical_create_secs(2.0)
    }

    fn arm_type(&self) -> &'static str {
        "Microsoft.Storage/storageAccounts/blobServices/containers"
    }

    fn api_version(&self) -> &'static str {
        "2024-01-01"
    }

    fn id(&self, _ctx: &Ctx<'_>, config: &Value) -> Result<String, ProviderError> {
        let account = required(TYPE, config, "storage_account_id")?.trim_end_matches('/');
        Ok(format!(
            "{account}{CONTAINERS}{}",
            required(TYPE, config, "name")?
        ))
    }

    fn body(&self, _ctx: &Ctx<'_>, config: &Value) -> Result<Json, ProviderError> {
        let wanted = text(config, "container_access_type").unwrap_or("private");
        let public_access = ACCESS
            .iter()
            .find(|(ours, _)| ours.eq_ignore_ascii_case(wanted))
            .map(|(_, arm)| arm.to_string())
            .ok_or_else(|| {
                invalid(
                    TYPE,
                    format!(
                        "`container_access_type` is {wanted:?}; expected private, blob or container"
                    ),
                )
            })?;
        let metadata = config
            .get("metadata")
            .and_then(Value::as_map)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.expose().as_str().map(|v| (k.clone(), v.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        to_json(
            TYPE,
            &Child {
                properties: Properties {
                    public_access: Some(public_access),
                    metadata,
                    ..Default::default()
                },
                ..Default::default()
            },
        )
    }

    fn attributes(&self, resource: &Json, prior: &Value) -> Result<Value, ProviderError> {
        let container: Child<Properties> = parse(TYPE, resource)?;
        let p = container.properties;
        let account = container
            .id
            .find(CONTAINERS)
            .map(|at| &container.id[..at])
            .unwrap_or_default();
        let access = p.public_access.as_deref().unwrap_or("None");
        let access = ACCESS
            .iter()
            .find(|(_, arm)| arm.eq_ignore_ascii_case(access))
            .map(|(ours, _)| *ours)
            .unwrap_or("private");
        Ok(Value::Map(BTreeMap::from([
            ("id".to_string(), Value::string(&container.id)),
            (
                "name".to_string(),
                as_prior(prior, "name", &container.name, same_ignoring_case),
            ),
            (
                "storage_account_id".to_string(),
                as_prior(prior, "storage_account_id", account, same_ignoring_case),
            ),
            ("container_access_type".to_string(), Value::string(access)),
            ("metadata".to_string(), tags_value(&p.metadata)),
            (
                "has_immutability_policy".to_string(),
                Value::Bool(p.has_immutability_policy.unwrap_or(false)),
            ),
            (
                "has_legal_hold".to_string(),
                Value::Bool(p.has_legal_hold.unwrap_or(false)),
            ),
        ])))
    }
}
