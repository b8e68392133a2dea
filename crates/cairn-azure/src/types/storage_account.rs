//! `azurerm_storage_account`: a storage account (blobs, files, queues, tables). azurerm's
//! `account_tier` + `account_replication_type` are one ARM SKU (`Standard_LRS`); the account's
//! kind and SKU sit beside `properties` in the envelope, so this type has its own envelope
//! rather than [`super::Tracked`].

use std::collections::BTreeMap;

use cairn_provider::provider::ProviderError;
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::choices::{enabled, is_enabled, one_of};
use super::{
    ArmBody, Ctx, PROVIDER, as_prior, flag, id_part, id_schema, location, location_schema,
    name_schema, parse, resource_group_name_schema, same_ignoring_case, same_location, tags,
    tags_schema, tags_value, text, to_json,
};

pub struct StorageAccount;

const TYPE: &str = "azurerm_storage_account";
const ARM_TYPE: &str = "Microsoft.Storage/storageAccounts";

const TIERS: &[&str] = &["Standard", "Premium"];
const REPLICATIONS: &[&str] = &["LRS", "GRS", "RAGRS", "ZRS", "GZRS", "RAGZRS"];

/// The account at api-version 2024-01-01 (`StorageAccountCreateParameters` on the way in,
/// `StorageAccount` on the way out).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Account {
    #[serde(default, skip_serializing)]
    id: String,
    #[serde(default, skip_serializing)]
    name: String,
    location: String,
    kind: String,
    sku: Sku,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    properties: Properties,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Sku {
    name: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Properties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_tier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    supports_https_traffic_only: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    minimum_tls_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    allow_blob_public_access: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    allow_shared_key_access: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public_network_access: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    is_hns_enabled: Option<bool>,
    // What ARM computes; never sent.
    #[serde(default, skip_serializing)]
    primary_endpoints: Option<Endpoints>,
    #[serde(default, skip_serializing)]
    primary_location: Option<String>,
    #[serde(default, skip_serializing)]
    secondary_location: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Endpoints {
    #[serde(default)]
    blob: Option<String>,
    #[serde(default)]
    web: Option<String>,
}

impl ArmBody for StorageAccount {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("A storage account")
            .attr(name_schema())
            .attr(resource_group_name_schema())
            .attr(location_schema())
            .attr(
                AttrSchema::required("account_tier", AttrType::String)
                    .force_new()
                    .describe("Standard or Premium"),
            )
            .attr(
                AttrSchema::required("account_replication_type", AttrType::String)
                    .describe("LRS, GRS, RAGRS, ZRS, GZRS or RAGZRS"),
            )
            // azurerm allows Storage → StorageV2 in place and replaces for every other change;
            // a schema cannot say that, and replacing is the safe reading.
            .attr(
                AttrSchema::optional("account_kind", AttrType::String)
                    .default("StorageV2")
                    .force_new()
                    .describe("BlobStorage, BlockBlobStorage, FileStorage, Storage or StorageV2"),
            )
            .attr(
                AttrSchema::optional_computed("access_tier", AttrType::String)
                    .describe("Hot, Cool or Cold; ARM chooses Hot when unset"),
            )
            .attr(AttrSchema::optional("https_traffic_only_enabled", AttrType::Bool).default(true))
            .attr(AttrSchema::optional("min_tls_version", AttrType::String).default("TLS1_2"))
            .attr(
                AttrSchema::optional("allow_nested_items_to_be_public", AttrType::Bool)
                    .default(true),
            )
            .attr(AttrSchema::optional("shared_access_key_enabled", AttrType::Bool).default(true))
            .attr(
                AttrSchema::optional("public_network_access_enabled", AttrType::Bool)
                    .default(true),
            )
            .attr(
                AttrSchema::optional("is_hns_enabled", AttrType::Bool)
                    .default(false)
                    .force_new(),
            )
            .attr(tags_schema())
            .attr(id_schema())
            .attr(AttrSchema::computed("primary_location", AttrType::String))
            .attr(AttrSchema::computed("secondary_location", AttrType::String))
            .attr(AttrSchema::computed("primary_blob_endpoint", AttrType::String))
            .attr(AttrSchema::computed("primary_web_endpoint", AttrType::String))
            .import_id("/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.Storage/storageAccounts/NAME")
            .typical_create_secs(25.0)
    }

    fn arm_type(&self) -> &'static str {
        ARM_TYPE
    }

    fn api_version(&self) -> &'static str {
        "2024-01-01"
    }

    fn body(&self, ctx: &Ctx<'_>, config: &Value) -> Result<Json, ProviderError> {
        let tier = one_of(TYPE, config, "account_tier", TIERS)?;
        let replication = one_of(TYPE, config, "account_replication_type", REPLICATIONS)?;
        // Every setting is sent, defaults included: ARM's own defaults differ between api
        // versions and kinds, and an unsent one would show up as drift on the next plan.
        to_json(
            TYPE,
            &Account {
                location: location(ctx, TYPE, config)?,
                kind: text(config, "account_kind")
                    .unwrap_or("StorageV2")
                    .to_string(),
                sku: Sku {
                    name: format!("{tier}_{replication}"),
                },
                tags: tags(config),
                properties: Properties {
                    access_tier: text(config, "access_tier").map(String::from),
                    supports_https_traffic_only: Some(
                        flag(config, "https_traffic_only_enabled").unwrap_or(true),
                    ),
                    minimum_tls_version: Some(
                        text(config, "min_tls_version")
                            .unwrap_or("TLS1_2")
                            .to_string(),
                    ),
                    allow_blob_public_access: Some(
                        flag(config, "allow_nested_items_to_be_public").unwrap_or(true),
                    ),
                    allow_shared_key_access: Some(
                        flag(config, "shared_access_key_enabled").unwrap_or(true),
                    ),
                    public_network_access: Some(
                        enabled(flag(config, "public_network_access_enabled").unwrap_or(true))
                            .to_string(),
                    ),
                    is_hns_enabled: Some(flag(config, "is_hns_enabled").unwrap_or(false)),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
    }

    fn attributes(&self, resource: &Json, prior: &Value) -> Result<Value, ProviderError> {
        let account: Account = parse(TYPE, resource)?;
        let p = account.properties;
        let group = id_part(&account.id, "resourceGroups").unwrap_or_default();
        // `Standard_RAGRS` → `Standard` + `RAGRS`.
        let (tier, replication) = account
            .sku
            .name
            .split_once('_')
            .unwrap_or((account.sku.name.as_str(), ""));
        let endpoints = p.primary_endpoints.unwrap_or_default();
        let optional = |v: Option<String>| v.map(Value::string).unwrap_or(Value::Null);
        Ok(Value::Map(BTreeMap::from([
            ("id".to_string(), Value::string(&account.id)),
            (
                "name".to_string(),
                as_prior(prior, "name", &account.name, same_ignoring_case),
            ),
            (
                "resource_group_name".to_string(),
                as_prior(prior, "resource_group_name", group, same_ignoring_case),
            ),
            (
                "location".to_string(),
                as_prior(prior, "location", &account.location, same_location),
            ),
            (
                "account_tier".to_string(),
                as_prior(prior, "account_tier", tier, same_ignoring_case),
            ),
            (
                "account_replication_type".to_string(),
                as_prior(
                    prior,
                    "account_replication_type",
                    replication,
                    same_ignoring_case,
                ),
            ),
            ("account_kind".to_string(), Value::string(&account.kind)),
            ("access_tier".to_string(), optional(p.access_tier)),
            (
                "https_traffic_only_enabled".to_string(),
                Value::Bool(p.supports_https_traffic_only.unwrap_or(true)),
            ),
            (
                "min_tls_version".to_string(),
                Value::string(
                    p.minimum_tls_version
                        .unwrap_or_else(|| "TLS1_0".to_string()),
                ),
            ),
            (
                "allow_nested_items_to_be_public".to_string(),
                Value::Bool(p.allow_blob_public_access.unwrap_or(true)),
            ),
            (
                "shared_access_key_enabled".to_string(),
                Value::Bool(p.allow_shared_key_access.unwrap_or(true)),
            ),
            (
                "public_network_access_enabled".to_string(),
                Value::Bool(is_enabled(p.public_network_access.as_deref())),
            ),
            (
                "is_hns_enabled".to_string(),
                Value::Bool(p.is_hns_enabled.unwrap_or(false)),
            ),
            ("tags".to_string(), tags_value(&account.tags)),
            ("primary_location".to_string(), optional(p.primary_location)),
            (
                "secondary_location".to_string(),
                optional(p.secondary_location),
            ),
            (
                "primary_blob_endpoint".to_string(),
                optional(endpoints.blob),
            ),
            ("primary_web_endpoint".to_string(), optional(endpoints.web)),
        ])))
    }
}
