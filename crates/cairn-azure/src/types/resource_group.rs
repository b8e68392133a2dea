//! `azurerm_resource_group`: the container every other Azure resource lives in.

use std::collections::BTreeMap;

use cairn_provider::provider::ProviderError;
use cairn_provider::schema::Schema;
use cairn_provider::value::Value;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{
    ArmBody, Ctx, PROVIDER, as_prior, id_schema, location, location_schema, name_schema, parse,
    required, resource_group_id, same_location, tags, tags_schema, tags_value, to_json,
};

pub struct ResourceGroup;

const TYPE: &str = "azurerm_resource_group";

/// The body at api-version 2025-04-01: the tracked-resource envelope and nothing else.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Body {
    #[serde(default, skip_serializing)]
    name: String,
    location: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    tags: BTreeMap<String, String>,
}

impl ArmBody for ResourceGroup {
    fn schema(&self) -> Schema {
        Schema::resource(PROVIDER, TYPE)
            .describe("A resource group")
            .attr(name_schema())
            .attr(location_schema())
            .attr(tags_schema())
            .attr(id_schema())
            .import_id("/subscriptions/SUBSCRIPTION/resourceGroups/NAME")
    }

    fn arm_type(&self) -> &'static str {
        "Microsoft.Resources/resourceGroups"
    }

    fn api_version(&self) -> &'static str {
        "2025-04-01"
    }

    fn id(&self, ctx: &Ctx<'_>, config: &Value) -> Result<String, ProviderError> {
        Ok(resource_group_id(
            ctx.subscription,
            required(TYPE, config, "name")?,
        ))
    }

    fn body(&self, ctx: &Ctx<'_>, config: &Value) -> Result<Json, ProviderError> {
        to_json(
            TYPE,
            &Body {
                name: String::new(),
                location: location(ctx, TYPE, config)?,
                tags: tags(config),
            },
        )
    }

    fn attributes(&self, resource: &Json, prior: &Value) -> Result<Value, ProviderError> {
        let body: Body = parse(TYPE, resource)?;
        Ok(Value::Map(BTreeMap::from([
            (
                "id".to_string(),
                Value::string(super::resource_id(resource).unwrap_or_default()),
            ),
            (
                "name".to_string(),
                as_prior(prior, "name", &body.name, super::same_ignoring_case),
            ),
            (
                "location".to_string(),
                as_prior(prior, "location", &body.location, same_location),
            ),
            ("tags".to_string(), tags_value(&body.tags)),
        ])))
    }
}
