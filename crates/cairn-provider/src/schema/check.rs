//! Checking values against attribute and input types, with the conversions Terraform users
//! expect (a number or bool where a string is wanted) and clear mismatches for the rest.

use std::collections::BTreeMap;

use super::AttrType;
use crate::value::{Value, format_number};

/// A value of the wrong type, at `path` inside the checked value (empty for the value itself).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}expected {expected}, found {found}", if path.is_empty() { String::new() } else { format!("at `{path}`: ") })]
pub struct TypeMismatch {
    pub path: String,
    pub expected: String,
    pub found: String,
}

impl TypeMismatch {
    /// What the user could write instead.
    pub fn help(&self) -> Option<String> {
        match (self.expected.as_str(), self.found.as_str()) {
            ("number", "a string") => {
                Some("write the number without quotes, e.g. `port: 5432`".into())
            }
            ("bool", "a string") => Some("write `true` or `false` without quotes".into()),
            (e, "a list") if e.starts_with("map") || e.starts_with("object") => {
                Some("write a mapping of `key: value` pairs, not a `- item` list".into())
            }
            (e, "a mapping") if e.starts_with("list") => {
                Some("write a `- item` list or `[a, b]`, not a mapping".into())
            }
            (e, "a string" | "a number" | "a bool") if e.starts_with("list") => {
                Some("write a list, even of one element: `[a]`".into())
            }
            _ => None,
        }
    }
}

fn describe(value: &Value) -> String {
    match value.expose() {
        Value::Null => "null".into(),
        Value::Bool(_) => "a bool".into(),
        Value::Number(_) => "a number".into(),
        Value::String(_) => "a string".into(),
        Value::List(_) => "a list".into(),
        Value::Map(_) => "a mapping".into(),
        Value::Unknown => "an unknown value".into(),
        Value::Sensitive(_) => "a sensitive value".into(),
    }
}

/// `value` converted to `ty`, or why it cannot be. Null and unknown pass through; sensitivity is
/// kept.
pub fn coerce(value: &Value, ty: &AttrType) -> Result<Value, TypeMismatch> {
    coerce_at(value, ty, "")
}

fn coerce_at(value: &Value, ty: &AttrType, path: &str) -> Result<Value, TypeMismatch> {
    let mismatch = || TypeMismatch {
        path: path.to_string(),
        expected: ty.to_string(),
        found: describe(value),
    };
    match (value, ty) {
        (Value::Null | Value::Unknown, _) | (_, AttrType::Any) => Ok(value.clone()),
        (Value::Sensitive(inner), _) => Ok(Value::Sensitive(Box::new(coerce_at(inner, ty, path)?))),
        (Value::String(_), AttrType::String)
        | (Value::Number(_), AttrType::Number)
        | (Value::Bool(_), AttrType::Bool) => Ok(value.clone()),
        (Value::Number(n), AttrType::String) => Ok(Value::String(format_number(*n))),
        (Value::Bool(b), AttrType::String) => Ok(Value::String(b.to_string())),
        (Value::List(items), AttrType::List(elem)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| coerce_at(item, elem, &format!("{path}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::List),
        (Value::Map(map), AttrType::Map(elem)) => map
            .iter()
            .map(|(k, v)| Ok((k.clone(), coerce_at(v, elem, &join(path, k))?)))
            .collect::<Result<BTreeMap<_, _>, _>>()
            .map(Value::Map),
        (Value::Map(map), AttrType::Object(fields)) => {
            let mut out = BTreeMap::new();
            for (k, v) in map {
                let field = fields.get(k).ok_or_else(|| TypeMismatch {
                    path: join(path, k),
                    expected: format!(
                        "one of the fields {}",
                        fields
                            .keys()
                            .map(|f| format!("`{f}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    found: format!("unknown field `{k}`"),
                })?;
                out.insert(k.clone(), coerce_at(v, field, &join(path, k))?);
            }
            Ok(Value::Map(out))
        }
        _ => Err(mismatch()),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Parses a type constraint as written in a module's `inputs:` (`string`, `list(string)`,
/// `map(number)`, `bool`, `any`).
pub fn parse_type(text: &str) -> Option<AttrType> {
    let text = text.trim();
    match text {
        "string" => return Some(AttrType::String),
        "number" => return Some(AttrType::Number),
        "bool" => return Some(AttrType::Bool),
        "any" => return Some(AttrType::Any),
        _ => {}
    }
    let (outer, inner) = text.split_once('(')?;
    let inner = inner.strip_suffix(')')?;
    let elem = parse_type(inner)?;
    match outer.trim() {
        "list" | "set" => Some(AttrType::List(Box::new(elem))),
        "map" => Some(AttrType::Map(Box::new(elem))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_strings_but_not_the_reverse() {
        assert_eq!(
            coerce(&Value::Number(14.0), &AttrType::String),
            Ok(Value::string("14"))
        );
        let err = coerce(&Value::string("20"), &AttrType::Number).unwrap_err();
        assert_eq!(err.to_string(), "expected number, found a string");
        assert!(err.help().unwrap().contains("without quotes"));
    }

    #[test]
    fn nested_mismatches_name_their_path() {
        let value = Value::Map(BTreeMap::from([(
            "ports".to_string(),
            Value::List(vec![Value::Number(80.0), Value::string("x")]),
        )]));
        let ty = AttrType::Map(Box::new(AttrType::List(Box::new(AttrType::Number))));
        let err = coerce(&value, &ty).unwrap_err();
        assert_eq!(
            err.to_string(),
            "at `ports[1]`: expected number, found a string"
        );
    }

    #[test]
    fn parses_type_constraints() {
        assert_eq!(
            parse_type("list(string)"),
            Some(AttrType::List(Box::new(AttrType::String)))
        );
        assert_eq!(
            parse_type("map(any)"),
            Some(AttrType::Map(Box::new(AttrType::Any)))
        );
        assert_eq!(parse_type("lst(string)"), None);
    }
}
