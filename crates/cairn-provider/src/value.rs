//! The dynamic value model shared by the spec, schemas, plans, state and providers.
//!
//! Resource properties differ per type, so they are values checked against a schema rather than
//! Rust structs. Two markers travel inside values: `Unknown` (known only after apply) and
//! `Sensitive` (a secret, masked everywhere it is shown and hashed in state).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A property, input, output or attribute value.
///
/// Serialized as plain JSON, with `{"$sensitive": v}` and `{"$unknown": true}` marking the two
/// markers, so state and saved-plan files stay readable.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    /// A secret. Operations on it yield sensitive results; renderers print `(sensitive value)`.
    Sensitive(Box<Value>),
    /// Known only after apply (a computed attribute of a resource not yet created).
    Unknown,
}

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Sensitive(inner) => inner.type_name(),
            Value::Unknown => "unknown",
        }
    }

    /// The value with any sensitive wrapper removed (for code that must use the secret, such as a
    /// provider request). Never use the result for display.
    pub fn expose(&self) -> &Value {
        match self {
            Value::Sensitive(inner) => inner.expose(),
            other => other,
        }
    }

    pub fn is_sensitive(&self) -> bool {
        matches!(self, Value::Sensitive(_))
    }

    /// True when the value or anything inside it is unknown.
    pub fn contains_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::List(items) => items.iter().any(Value::contains_unknown),
            Value::Map(map) => map.values().any(Value::contains_unknown),
            Value::Sensitive(inner) => inner.contains_unknown(),
            _ => false,
        }
    }

    /// True when the value or anything inside it is sensitive.
    pub fn contains_sensitive(&self) -> bool {
        match self {
            Value::Sensitive(_) => true,
            Value::List(items) => items.iter().any(Value::contains_sensitive),
            Value::Map(map) => map.values().any(Value::contains_sensitive),
            _ => false,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self.expose() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self.expose() {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.expose() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self.expose() {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self.expose() {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The attribute `name` of a map value.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(name))
    }

    /// Equality that looks through sensitive markers at every level (`contains`, `==`).
    pub fn same_ignoring_sensitivity(&self, other: &Value) -> bool {
        match (self.expose(), other.expose()) {
            (Value::List(x), Value::List(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.same_ignoring_sensitivity(q))
            }
            (Value::Map(x), Value::Map(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|((k1, v1), (k2, v2))| k1 == k2 && v1.same_ignoring_sensitivity(v2))
            }
            (x, y) => x == y,
        }
    }

    /// Plain JSON, with sensitive values shown as-is and unknowns as null. Only for code paths
    /// that already decided the secret may be written (provider requests, saved plans).
    pub fn to_json_exposed(&self) -> serde_json::Value {
        match self {
            Value::Null | Value::Unknown => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => number_to_json(*n),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::List(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json_exposed).collect())
            }
            Value::Map(map) => serde_json::Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), v.to_json_exposed()))
                    .collect(),
            ),
            Value::Sensitive(inner) => inner.to_json_exposed(),
        }
    }

    /// Plain JSON with sensitive values replaced by null: safe to print or store.
    pub fn to_json_redacted(&self) -> serde_json::Value {
        match self {
            Value::Sensitive(_) => serde_json::Value::Null,
            Value::List(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json_redacted).collect())
            }
            Value::Map(map) => serde_json::Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), v.to_json_redacted()))
                    .collect(),
            ),
            other => other.to_json_exposed(),
        }
    }

    /// A value from plain JSON (as a provider returns it).
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(items) => {
                Value::List(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(map) => Value::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// Whole numbers are written without a fraction, as users wrote them.
pub fn number_to_json(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        serde_json::Value::Number(serde_json::Number::from(n as i64))
    } else {
        serde_json::Number::from_f64(n)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)
    }
}

/// Formats a number the way users wrote it: `3`, not `3.0`.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Display is for messages and human plans: strings quoted, secrets masked.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => write!(f, "{}", format_number(*n)),
            Value::String(s) => write!(f, "{s:?}"),
            Value::List(items) => {
                write!(f, "[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{item}")?;
                }
                write!(f, "]")
            }
            Value::Map(map) => {
                write!(f, "{{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{k} = {v}")?;
                }
                write!(f, "}}")
            }
            Value::Sensitive(_) => write!(f, "(sensitive value)"),
            Value::Unknown => write!(f, "(known after apply)"),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<f64> for Value {
    fn from(n: f64) -> Value {
        Value::Number(n)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Number(n as f64)
    }
}

const SENSITIVE_KEY: &str = "$sensitive";
const UNKNOWN_KEY: &str = "$unknown";

/// Written straight to the serializer (no intermediate JSON tree): a state of ten thousand
/// resources is read and written in a fraction of the time. The markers are one-entry maps,
/// `{"$sensitive": …}` and `{"$unknown": true}`; whole numbers are written as integers.
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => s.serialize_i64(*n as i64),
            Value::Number(n) if n.is_finite() => s.serialize_f64(*n),
            Value::Number(_) => s.serialize_unit(),
            Value::String(text) => s.serialize_str(text),
            Value::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Value::Sensitive(inner) => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry(SENSITIVE_KEY, inner)?;
                map.end()
            }
            Value::Unknown => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry(UNKNOWN_KEY, &true)?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> serde::de::Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n as f64))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n as f64))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Number(n))
    }
    fn visit_str<E>(self, text: &str) -> Result<Value, E> {
        Ok(Value::String(text.to_string()))
    }
    fn visit_string<E>(self, text: String) -> Result<Value, E> {
        Ok(Value::String(text))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = BTreeMap::new();
        while let Some((k, v)) = access.next_entry::<String, Value>()? {
            map.insert(k, v);
        }
        // A one-entry map may be a marker.
        if map.len() == 1 {
            if let Some(inner) = map.remove(SENSITIVE_KEY) {
                return Ok(Value::Sensitive(Box::new(inner)));
            }
            if map.contains_key(UNKNOWN_KEY) {
                return Ok(Value::Unknown);
            }
        }
        Ok(Value::Map(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_survive_a_round_trip() {
        let value = Value::Map(BTreeMap::from([
            (
                "password".to_string(),
                Value::Sensitive(Box::new(Value::string("s3cret"))),
            ),
            ("id".to_string(), Value::Unknown),
            ("count".to_string(), Value::Number(3.0)),
        ]));
        let text = serde_json::to_string(&value).unwrap();
        assert_eq!(
            text,
            r#"{"count":3,"id":{"$unknown":true},"password":{"$sensitive":"s3cret"}}"#
        );
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), value);
    }

    #[test]
    fn display_masks_secrets() {
        let secret = Value::Sensitive(Box::new(Value::string("s3cret")));
        assert_eq!(secret.to_string(), "(sensitive value)");
        assert_eq!(secret.to_json_redacted(), serde_json::Value::Null);
    }
}
