//! Nested blocks (`default_node_pool`, `network_profile`, `high_availability`): reading them from
//! the configuration and writing them back as attributes that compare equal to what the user
//! wrote, so a re-plan after create is empty.

use std::collections::BTreeMap;

use cairn_provider::value::Value;

use super::same_ignoring_case;

/// The block `name` of a configuration, when it is set (a mapping).
pub fn block<'a>(config: &'a Value, name: &str) -> Option<&'a Value> {
    config
        .get(name)
        .map(Value::expose)
        .filter(|v| v.as_map().is_some_and(|m| !m.is_empty()))
}

/// A whole number of a configuration or block.
pub fn int(config: &Value, name: &str) -> Option<i64> {
    super::number(config, name).map(|n| n.round() as i64)
}

/// `full` (everything ARM shows for a block) narrowed to the fields the prior block sets. The
/// differ compares blocks field by field, so a field the user left to Azure (a node count under
/// autoscaling, a service CIDR) must not appear once it is known. Without a prior block (an
/// import) every field is kept: that is what a spec would write.
pub fn configured(full: BTreeMap<String, Value>, prior: Option<&Value>) -> Value {
    let Some(prior) = prior.map(Value::expose).and_then(Value::as_map) else {
        return Value::Map(full);
    };
    let set: Vec<&String> = prior
        .iter()
        .filter(|(_, v)| !matches!(v, Value::Null))
        .map(|(k, _)| k)
        .collect();
    if set.is_empty() {
        return Value::Map(full);
    }
    Value::Map(full.into_iter().filter(|(k, _)| set.contains(&k)).collect())
}

/// An ARM id as the prior block spells it when the two differ only in case (ARM lower-cases
/// `resourcegroups` in some answers); `Null` when ARM has none.
pub fn id_value(prior: Option<&Value>, name: &str, live: Option<&str>) -> Value {
    let Some(live) = live.filter(|l| !l.is_empty()) else {
        return Value::Null;
    };
    match prior.and_then(|p| super::text(p, name)) {
        Some(p) if same_ignoring_case(p, live) => Value::string(p),
        _ => Value::string(live),
    }
}

pub fn opt_string(value: Option<&str>) -> Value {
    value
        .filter(|v| !v.is_empty())
        .map(Value::string)
        .unwrap_or(Value::Null)
}

pub fn opt_int(value: Option<i64>) -> Value {
    value
        .map(|n| Value::Number(n as f64))
        .unwrap_or(Value::Null)
}
