//! Reading request configurations and building attribute maps: the small conversions every type
//! needs between cairn's [`Value`]s and SDK fields.

use std::collections::BTreeMap;

use cairn_provider::provider::ProviderError;
use cairn_provider::schema::{AttrSchema, AttrType};
use cairn_provider::value::Value;

use crate::errors::invalid;

/// The ownership tag every created resource carries: the cairn address that created it.
pub const ADDRESS_TAG: &str = "cairn:address";

pub fn text<'a>(config: &'a Value, name: &str) -> Option<&'a str> {
    config.get(name).map(Value::expose).and_then(Value::as_str)
}

pub fn required<'a>(
    resource_type: &str,
    config: &'a Value,
    name: &str,
) -> Result<&'a str, ProviderError> {
    text(config, name).ok_or_else(|| invalid(resource_type, format!("`{name}` is required")))
}

pub fn flag(config: &Value, name: &str, default: bool) -> bool {
    config
        .get(name)
        .map(Value::expose)
        .and_then(Value::as_bool)
        .unwrap_or(default)
}

pub fn number(config: &Value, name: &str) -> Option<i32> {
    config
        .get(name)
        .map(Value::expose)
        .and_then(Value::as_f64)
        .map(|n| n as i32)
}

/// The `tags` map of a configuration (the environment's tags already merged in).
pub fn tags(config: &Value) -> BTreeMap<String, String> {
    config
        .get("tags")
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.expose().as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The `tags` attribute as users see it: without cairn's ownership tag, so plans stay empty.
pub fn tags_value<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
    Value::Map(
        pairs
            .into_iter()
            .filter(|(k, _)| *k != ADDRESS_TAG)
            .map(|(k, v)| (k.to_string(), Value::string(v)))
            .collect(),
    )
}

/// An attribute map under construction.
#[derive(Default)]
pub struct Attrs(BTreeMap<String, Value>);

impl Attrs {
    pub fn new() -> Attrs {
        Attrs::default()
    }
    pub fn set(mut self, name: &str, value: impl Into<Value>) -> Attrs {
        self.0.insert(name.to_string(), value.into());
        self
    }
    pub fn opt(mut self, name: &str, value: Option<impl Into<Value>>) -> Attrs {
        self.0.insert(
            name.to_string(),
            value.map(Into::into).unwrap_or(Value::Null),
        );
        self
    }
    pub fn build(self) -> Value {
        Value::Map(self.0)
    }
}

/// What a set-like list reads as when its items are not the prior's.
#[derive(Clone, Copy, Debug)]
pub enum Unmatched {
    /// Sorted: stable whatever order AWS answers in.
    Sorted,
    /// As AWS lists it (subnets by availability zone, the order specs write them in), which an
    /// import whose references are not imported yet relies on.
    AsRead,
}

/// A set-like list as read (AWS returns sets in its own order): in the order `prior` lists the
/// same items, so a reordering is no change; otherwise as `unmatched` says.
pub fn in_prior_order(read: Vec<String>, prior: &[String], unmatched: Unmatched) -> Vec<String> {
    let mut sorted = read.clone();
    sorted.sort();
    let mut before = prior.to_vec();
    before.sort();
    if sorted == before {
        return prior.to_vec();
    }
    match unmatched {
        Unmatched::Sorted => sorted,
        Unmatched::AsRead => read,
    }
}

pub fn string_list(items: impl IntoIterator<Item = String>) -> Value {
    Value::List(items.into_iter().map(Value::String).collect())
}

/// Schema helpers shared by the types.
pub fn tags_schema() -> AttrSchema {
    AttrSchema::optional("tags", AttrType::Map(Box::new(AttrType::String)))
        .describe("Tags to assign; the environment's `tags` are merged in")
}
pub fn id_schema() -> AttrSchema {
    AttrSchema::computed("id", AttrType::String).describe("The AWS id")
}
pub fn arn_schema() -> AttrSchema {
    AttrSchema::computed("arn", AttrType::String).describe("The ARN")
}
