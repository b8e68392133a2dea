//! `azurerm_postgresql_flexible_server`: an Azure Database for PostgreSQL flexible server. The
//! administrator password is write-only: ARM never returns it, so its attribute is carried over
//! from the configuration or state and never appears in a message.

use std::collections::BTreeMap;

use cairn_provider::provider::ProviderError;
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::block::{block, configured, id_value, int, opt_int, opt_string};
use super::{
    ArmBody, Ctx, PROVIDER, Tracked, as_prior, flag, id_part, id_schema, location, location_schema,
    name_schema, parse, required, resource_group_name_schema, same_ignoring_case, same_location,
    tags, tags_schema, tags_value, text, to_json,
};
use crate::errors::invalid;

pub struct PostgresqlFlexibleServer;

const TYPE: &str = "azurerm_postgresql_flexible_server";
const ARM_TYPE: &str = "Microsoft.DBforPostgreSQL/flexibleServers";
pub(super) const API_VERSION: &str = "2024-08-01";

/// azurerm's `sku_name` prefixes and ARM's tiers.
const TIERS: &[(&str, &str)] = &[
    ("B", "Burstable"),
    ("GP", "GeneralPurpose"),
    ("MO", "MemoryOptimized"),
];

/// The tracked envelope plus the SKU, which a flexible server has beside its properties.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Server {
    #[serde(flatten)]
    tracked: Tracked<Properties>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sku: Option<Sku>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Sku {
    #[serde(default)]
    name: String,
    #[serde(default)]
    tier: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Properties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    administrator_login: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    administrator_login_password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    availability_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    storage: Option<Storage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    backup: Option<Backup>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    network: Option<Network>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    high_availability: Option<HighAvailability>,
    #[serde(default, skip_serializing)]
    fully_qualified_domain_name: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Storage {
    #[serde(
        rename = "storageSizeGB",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    storage_size_gb: Option<i64>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Backup {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    backup_retention_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    geo_redundant_backup: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Network {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public_network_access: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delegated_subnet_resource_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    private_dns_zone_arm_resource_id: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HighAvailability {
    #[serde(default)]
    mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    standby_availability_zone: Option<String>,
}

fn enabled(on: bool) -> String {
    if on { "Enabled" } else { "Disabled" }.to_string()
}

/// `GP_Standard_D2s_v3` → (`Standard_D2s_v3`, `GeneralPurpose`).
fn split_sku(sku_name: &str) -> Result<Sku, ProviderError> {
    let (prefix, name) = sku_name.split_once('_').unwrap_or(("", sku_name));
    let tier = TIERS
        .iter()
        .find(|(p, _)| *p == prefix)
        .map(|(_, t)| *t)
        .filter(|_| !name.is_empty())
        .ok_or_else(|| {
            invalid(
                TYPE,
                format!(
                    "`sku_name` {sku_name:?} must start with B_, GP_ or MO_ (e.g. GP_Standard_D2s_v3)"
                ),
            )
        })?;
    Ok(Sku {
        name: name.to_string(),
        tier: tier.to_string(),
    })
}

/// ARM's SKU as azurerm's `sku_name`; `None` for a tier azurerm does not name.
fn join_sku(sku: &Sku) -> Option<String> {
    TIERS
        .iter()
        .find(|(_, t)| t.eq_ignore_ascii_case(&sku.tier))
        .map(|(p, _)| format!("{p}_{}", sku.name))
}

impl ArmBody for PostgresqlFlexibleServer {
    fn schema(&self) -> Schema {
        let s = || AttrType::String;
        Schema::resource(PROVIDER, TYPE)
            .describe("An Azure Database for PostgreSQL flexible server")
            .attr(name_schema())
            .attr(resource_group_name_schema())
            .attr(location_schema())
            .attr(
                AttrSchema::optional_computed("version", s())
                    .force_new()
                    .describe("the PostgreSQL major version: 12 to 17"),
            )
            .attr(
                AttrSchema::optional_computed("sku_name", s())
                    .describe("tier prefix and VM size: B_Standard_B1ms, GP_Standard_D2s_v3, MO_Standard_E4s_v3"),
            )
            .attr(
                AttrSchema::optional_computed("storage_mb", AttrType::Number)
                    .describe("32768, 65536, ... 33554432"),
            )
            .attr(AttrSchema::optional_computed("backup_retention_days", AttrType::Number).describe("7 to 35"))
            .attr(
                AttrSchema::optional("geo_redundant_backup_enabled", AttrType::Bool)
                    .default(false)
                    .force_new(),
            )
            .attr(AttrSchema::optional_computed("zone", s()))
            .attr(
                AttrSchema::optional(
                    "high_availability",
                    AttrType::Object(BTreeMap::from([
                        ("mode".to_string(), s()),
                        ("standby_availability_zone".to_string(), s()),
                    ])),
                )
                .describe("{ mode: ZoneRedundant | SameZone, standby_availability_zone }"),
            )
            .attr(AttrSchema::optional("delegated_subnet_id", s()).force_new())
            .attr(AttrSchema::optional_computed("private_dns_zone_id", s()).force_new())
            .attr(
                AttrSchema::optional_computed("public_network_access_enabled", AttrType::Bool)
                    .describe("default: false with `delegated_subnet_id`, else true"),
            )
            .attr(AttrSchema::optional_computed("administrator_login", s()).force_new())
            .attr(AttrSchema::optional("administrator_password", s()).sensitive())
            .attr(tags_schema())
            .attr(id_schema())
            .attr(AttrSchema::computed("fqdn", s()))
            .import_id("/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.DBforPostgreSQL/flexibleServers/NAME")
            .typical_create_secs(300.0)
    }

    fn arm_type(&self) -> &'static str {
        ARM_TYPE
    }

    fn api_version(&self) -> &'static str {
        API_VERSION
    }

    fn body(&self, ctx: &Ctx<'_>, config: &Value) -> Result<Json, ProviderError> {
        let subnet = text(config, "delegated_subnet_id").map(String::from);
        // A server in a delegated subnet cannot be public: ARM refuses the combination.
        let public = flag(config, "public_network_access_enabled").unwrap_or(subnet.is_none());
        let high_availability = match block(config, "high_availability") {
            Some(ha) => HighAvailability {
                mode: required(TYPE, ha, "mode")?.to_string(),
                standby_availability_zone: text(ha, "standby_availability_zone").map(String::from),
            },
            // A removed block turns high availability off, as azurerm does.
            None => HighAvailability {
                mode: "Disabled".to_string(),
                standby_availability_zone: None,
            },
        };
        let storage_gb = int(config, "storage_mb").map(|mb| mb / 1024);
        let server = Server {
            tracked: Tracked {
                location: location(ctx, TYPE, config)?,
                tags: tags(config),
                properties: Properties {
                    administrator_login: text(config, "administrator_login").map(String::from),
                    administrator_login_password: text(config, "administrator_password")
                        .map(String::from),
                    version: text(config, "version").map(String::from),
                    availability_zone: text(config, "zone").map(String::from),
                    storage: storage_gb.map(|gb| Storage {
                        storage_size_gb: Some(gb),
                    }),
                    backup: Some(Backup {
                        backup_retention_days: int(config, "backup_retention_days"),
                        geo_redundant_backup: Some(enabled(
                            flag(config, "geo_redundant_backup_enabled").unwrap_or(false),
                        )),
                    }),
                    network: Some(Network {
                        public_network_access: Some(enabled(public)),
                        delegated_subnet_resource_id: subnet,
                        private_dns_zone_arm_resource_id: text(config, "private_dns_zone_id")
                            .map(String::from),
                    }),
                    high_availability: Some(high_availability),
                    fully_qualified_domain_name: None,
                },
                ..Default::default()
            },
            sku: text(config, "sku_name").map(split_sku).transpose()?,
        };
        to_json(TYPE, &server)
    }

    fn attributes(&self, resource: &Json, prior: &Value) -> Result<Value, ProviderError> {
        let server: Server = parse(TYPE, resource)?;
        let t = server.tracked;
        let p = t.properties;
        let group = id_part(&t.id, "resourceGroups").unwrap_or_default();
        let network = p.network.unwrap_or_default();
        let backup = p.backup.unwrap_or_default();
        let high_availability = match p.high_availability {
            Some(ha) if !ha.mode.is_empty() && ha.mode != "Disabled" => configured(
                BTreeMap::from([
                    ("mode".to_string(), Value::string(&ha.mode)),
                    (
                        "standby_availability_zone".to_string(),
                        opt_string(ha.standby_availability_zone.as_deref()),
                    ),
                ]),
                prior.get("high_availability"),
            ),
            _ => Value::Null,
        };
        // Never returned by ARM: the configured (or stored) value, unchanged.
        let password = prior
            .get("administrator_password")
            .cloned()
            .unwrap_or(Value::Null);
        Ok(Value::Map(BTreeMap::from([
            ("id".to_string(), Value::string(&t.id)),
            (
                "name".to_string(),
                as_prior(prior, "name", &t.name, same_ignoring_case),
            ),
            (
                "resource_group_name".to_string(),
                as_prior(prior, "resource_group_name", group, same_ignoring_case),
            ),
            (
                "location".to_string(),
                as_prior(prior, "location", &t.location, same_location),
            ),
            ("version".to_string(), opt_string(p.version.as_deref())),
            (
                "sku_name".to_string(),
                opt_string(server.sku.as_ref().and_then(join_sku).as_deref()),
            ),
            (
                "storage_mb".to_string(),
                opt_int(
                    p.storage
                        .and_then(|s| s.storage_size_gb)
                        .map(|gb| gb * 1024),
                ),
            ),
            (
                "backup_retention_days".to_string(),
                opt_int(backup.backup_retention_days),
            ),
            (
                "geo_redundant_backup_enabled".to_string(),
                Value::Bool(backup.geo_redundant_backup.as_deref() == Some("Enabled")),
            ),
            (
                "zone".to_string(),
                opt_string(p.availability_zone.as_deref()),
            ),
            ("high_availability".to_string(), high_availability),
            (
                "delegated_subnet_id".to_string(),
                id_value(
                    Some(prior),
                    "delegated_subnet_id",
                    network.delegated_subnet_resource_id.as_deref(),
                ),
            ),
            (
                "private_dns_zone_id".to_string(),
                id_value(
                    Some(prior),
                    "private_dns_zone_id",
                    network.private_dns_zone_arm_resource_id.as_deref(),
                ),
            ),
            (
                "public_network_access_enabled".to_string(),
                Value::Bool(network.public_network_access.as_deref() == Some("Enabled")),
            ),
            (
                "administrator_login".to_string(),
                opt_string(p.administrator_login.as_deref()),
            ),
            ("administrator_password".to_string(), password),
            ("tags".to_string(), tags_value(&t.tags)),
            (
                "fqdn".to_string(),
                opt_string(p.fully_qualified_domain_name.as_deref()),
            ),
        ])))
    }

    fn default_timeout(&self) -> std::time::Duration {
        // azurerm waits an hour for a flexible server.
        std::time::Duration::from_secs(60 * 60)
    }
}
