//! `azurerm_postgresql_flexible_server_database`: a database of a flexible server. Everything
//! about it is fixed at creation: a change of charset or collation means a new database.

use std::collections::BTreeMap;

use cairn_provider::provider::ProviderError;
use cairn_provider::schema::{AttrSchema, AttrType, Schema};
use cairn_provider::value::Value;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{
    ArmBody, Child, Ctx, PROVIDER, as_prior, collection, id_schema, name_schema, parse, required,
    same_ignoring_case, text, to_json,
};

pub struct PostgresqlFlexibleServerDatabase;

const TYPE: &str = "azurerm_postgresql_flexible_server_database";
/// azurerm's defaults, which are also PostgreSQL's on Azure.
const CHARSET: &str = "UTF8";
const COLLATION: &str = "en_US.utf8";

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Properties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    charset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    collation: Option<String>,
}

impl ArmBody for PostgresqlFlexibleServerDatabase {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("A database of a PostgreSQL flexible server")
            .attr(name_schema())
            .attr(AttrSchema::required("server_id", AttrType::String).force_new())
            .attr(
                AttrSchema::optional("charset", AttrType::String)
                    .default(CHARSET)
                    .force_new(),
            )
            .attr(
                AttrSchema::optional("collation", AttrType::String)
                    .default(COLLATION)
                    .force_new(),
            )
            .attr(id_schema())
            .import_id("/subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.DBforPostgreSQL/flexibleServers/SERVER/databases/NAME")
            .typical_create_secs(20.0)
    }

    fn arm_type(&self) -> &'static str {
        "Microsoft.DBforPostgreSQL/flexibleServers/databases"
    }

    fn api_version(&self) -> &'static str {
        super::postgresql_flexible_server::API_VERSION
    }

    fn id(&self, _ctx: &Ctx<'_>, config: &Value) -> Result<String, ProviderError> {
        Ok(format!(
            "{}/databases/{}",
            required(TYPE, config, "server_id")?,
            required(TYPE, config, "name")?
        ))
    }

    fn body(&self, _ctx: &Ctx<'_>, config: &Value) -> Result<Json, ProviderError> {
        to_json(
            TYPE,
            &Child {
                properties: Properties {
                    charset: Some(text(config, "charset").unwrap_or(CHARSET).to_string()),
                    collation: Some(text(config, "collation").unwrap_or(COLLATION).to_string()),
                },
                ..Default::default()
            },
        )
    }

    fn attributes(&self, resource: &Json, prior: &Value) -> Result<Value, ProviderError> {
        let db: Child<Properties> = parse(TYPE, resource)?;
        let server = collection(collection(&db.id));
        Ok(Value::Map(BTreeMap::from([
            ("id".to_string(), Value::string(&db.id)),
            (
                "name".to_string(),
                as_prior(prior, "name", &db.name, same_ignoring_case),
            ),
            (
                "server_id".to_string(),
                as_prior(prior, "server_id", server, same_ignoring_case),
            ),
            (
                "charset".to_string(),
                Value::string(db.properties.charset.as_deref().unwrap_or(CHARSET)),
            ),
            (
                "collation".to_string(),
                Value::string(db.properties.collation.as_deref().unwrap_or(COLLATION)),
            ),
        ])))
    }
}
