//! The built-in functions users know from Terraform: `cidrsubnet`, `join`, `lookup`, `merge`,
//! `length`, `format`, ...
//!
//! Every function takes fully known values (the evaluator keeps calls with unknown arguments as
//! residuals) and checks its arguments itself, so an error names the function, the argument by
//! position and name, and what was expected. Values in messages go through `Display`, which
//! masks secrets.

use std::borrow::Cow;
use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::spec::diagnostic::Diagnostic;
use crate::spec::span::Span;
use crate::value::{Value, format_number};

use super::cidr::{self, Net};

/// Names of every built-in function, for "did you mean" help.
pub const FUNCTION_NAMES: &[&str] = &[
    "abs",
    "alltrue",
    "anytrue",
    "base64decode",
    "base64encode",
    "ceil",
    "cidrhost",
    "cidrnetmask",
    "cidrsubnet",
    "cidrsubnets",
    "coalesce",
    "compact",
    "concat",
    "contains",
    "distinct",
    "element",
    "endswith",
    "flatten",
    "floor",
    "format",
    "formatlist",
    "index",
    "join",
    "jsondecode",
    "jsonencode",
    "keys",
    "length",
    "lookup",
    "lower",
    "max",
    "merge",
    "min",
    "one",
    "range",
    "replace",
    "reverse",
    "sha256",
    "slice",
    "sort",
    "split",
    "startswith",
    "substr",
    "sum",
    "title",
    "tobool",
    "tolist",
    "tonumber",
    "toset",
    "tostring",
    "trim",
    "trimprefix",
    "trimspace",
    "trimsuffix",
    "upper",
    "values",
    "zipmap",
];

use crate::limits::{
    MAX_COLLECTION_LEN as MAX_LIST, MAX_RANGE, MAX_STRING_BYTES as MAX_STRING, MAX_VALUE_DEPTH,
    MAX_VALUE_SIZE, value_measure,
};

/// Whether a value is within [`MAX_VALUE_SIZE`] and [`MAX_VALUE_DEPTH`].
pub(crate) fn within_value_limits(value: &Value) -> bool {
    let (size, depth) = value_measure(value);
    size <= MAX_VALUE_SIZE && depth <= MAX_VALUE_DEPTH
}

fn too_large_error(name: &str, call_span: &Span) -> Diagnostic {
    Diagnostic::error_at(format!("{name}: result too large"), call_span).with_help(format!(
        "an expression may build at most {} MiB of text in one string, {MAX_LIST} elements in one list or map, {} Mi units (elements plus bytes of text) and {MAX_VALUE_DEPTH} levels of nesting in one value; split the data over several locals or resources",
        MAX_STRING >> 20,
        MAX_VALUE_SIZE >> 20
    ))
}

/// Calls the built-in `name` on known arguments. `arg_spans` has one span per argument, for
/// pointing at the wrong one. A sensitive argument makes the whole result sensitive.
pub(crate) fn call(
    name: &str,
    args: Vec<Value>,
    arg_spans: &[Span],
    call_span: &Span,
) -> Result<Value, Diagnostic> {
    let sensitive = args.iter().any(Value::contains_sensitive);
    let mut a = Args {
        name,
        values: args,
        spans: arg_spans,
        call_span,
    };
    let result = dispatch(&mut a)?;
    let too_large = match &result {
        Value::String(s) => s.len() > MAX_STRING,
        Value::List(items) => items.len() > MAX_LIST,
        Value::Map(map) => map.len() > MAX_LIST,
        _ => false,
    };
    if too_large || !within_value_limits(&result) {
        return Err(too_large_error(name, call_span));
    }
    Ok(if sensitive {
        Value::Sensitive(Box::new(strip_sensitive(result)))
    } else {
        result
    })
}

/// The value with every sensitive marker removed, for wrapping it whole in one.
pub(crate) fn strip_sensitive(value: Value) -> Value {
    match value {
        Value::Sensitive(inner) => strip_sensitive(*inner),
        Value::List(items) => Value::List(items.into_iter().map(strip_sensitive).collect()),
        Value::Map(map) => Value::Map(
            map.into_iter()
                .map(|(k, v)| (k, strip_sensitive(v)))
                .collect(),
        ),
        other => other,
    }
}

/// A value for an error message: masked when secret, cut short when long.
fn show(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 {
        let cut: String = text.chars().take(77).collect();
        format!("{cut}...")
    } else {
        text
    }
}

struct Args<'a> {
    name: &'a str,
    values: Vec<Value>,
    spans: &'a [Span],
    call_span: &'a Span,
}

impl Args<'_> {
    fn len(&self) -> usize {
        self.values.len()
    }

    fn span(&self, i: usize) -> &Span {
        self.spans.get(i).unwrap_or(self.call_span)
    }

    /// An error about argument `i` (0-based) named `param`.
    fn bad(&self, i: usize, param: &str, what: impl std::fmt::Display) -> Diagnostic {
        Diagnostic::error_at(
            format!("{}: argument {} ({param}) {what}", self.name, i + 1),
            self.span(i),
        )
    }

    /// The error for a result that would pass a limit in `crate::limits`.
    fn too_large(&self) -> Diagnostic {
        too_large_error(self.name, self.call_span)
    }

    /// An error about the call as a whole.
    fn fail(&self, what: impl std::fmt::Display) -> Diagnostic {
        Diagnostic::error_at(format!("{}: {what}", self.name), self.call_span)
    }

    /// Checks the argument count; `params` is the signature shown in the message.
    fn arity(&self, min: usize, max: Option<usize>, params: &str) -> Result<(), Diagnostic> {
        let n = self.len();
        if n >= min && max.is_none_or(|m| n <= m) {
            return Ok(());
        }
        let expected = match max {
            Some(m) if m == min => format!("{min} argument{}", if min == 1 { "" } else { "s" }),
            Some(m) => format!("{min} to {m} arguments"),
            None => format!("at least {min} argument{}", if min == 1 { "" } else { "s" }),
        };
        Err(self
            .fail(format!("expected {expected}, got {n}"))
            .with_help(format!("call it as {}({params})", self.name)))
    }

    fn value(&self, i: usize) -> &Value {
        &self.values[i]
    }

    fn take(&mut self, i: usize) -> Value {
        std::mem::take(&mut self.values[i])
    }

    fn string(&self, i: usize, param: &str) -> Result<Cow<'_, str>, Diagnostic> {
        to_text(self.value(i)).ok_or_else(|| {
            self.bad(
                i,
                param,
                format!("must be a string, got {}", describe(self.value(i))),
            )
        })
    }

    fn number(&self, i: usize, param: &str) -> Result<f64, Diagnostic> {
        self.value(i).as_f64().ok_or_else(|| {
            self.bad(
                i,
                param,
                format!("must be a number, got {}", describe(self.value(i))),
            )
        })
    }

    fn whole(&self, i: usize, param: &str) -> Result<i64, Diagnostic> {
        match self.value(i).as_f64() {
            Some(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Ok(n as i64),
            _ => Err(self.bad(
                i,
                param,
                format!("must be a whole number, got {}", show(self.value(i))),
            )),
        }
    }

    fn list(&self, i: usize, param: &str) -> Result<&[Value], Diagnostic> {
        self.value(i).as_list().ok_or_else(|| {
            self.bad(
                i,
                param,
                format!("must be a list, got {}", describe(self.value(i))),
            )
        })
    }

    fn take_list(&mut self, i: usize, param: &str) -> Result<Vec<Value>, Diagnostic> {
        self.list(i, param)?;
        match strip_outer(self.take(i)) {
            Value::List(items) => Ok(items),
            _ => Ok(Vec::new()),
        }
    }

    fn map(&self, i: usize, param: &str) -> Result<&BTreeMap<String, Value>, Diagnostic> {
        self.value(i).as_map().ok_or_else(|| {
            self.bad(
                i,
                param,
                format!("must be a map, got {}", describe(self.value(i))),
            )
        })
    }

    fn cidr(&self, i: usize) -> Result<Net, Diagnostic> {
        let text = self.string(i, "prefix")?;
        Net::parse(&text).ok_or_else(|| {
            self.bad(
                i,
                "prefix",
                format!(
                    "must be an IP prefix in CIDR notation like \"10.0.0.0/16\", got {}",
                    show(self.value(i))
                ),
            )
        })
    }
}

/// The sensitive wrapper removed from the outside only (the result is re-wrapped by `call`).
fn strip_outer(value: Value) -> Value {
    match value {
        Value::Sensitive(inner) => strip_outer(*inner),
        other => other,
    }
}

/// "a string (\"x\")": the type, and the value when it is short and not secret.
fn describe(value: &Value) -> String {
    match value.expose() {
        Value::List(_) | Value::Map(_) => format!("a {}", value.type_name()),
        Value::Null => "null".to_string(),
        _ => format!("a {} ({})", value.type_name(), show(value)),
    }
}

/// A primitive as text, the way Terraform converts it to a string.
fn to_text(value: &Value) -> Option<Cow<'_, str>> {
    match value.expose() {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(format_number(*n))),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

fn string_list(items: impl IntoIterator<Item = String>) -> Value {
    Value::List(items.into_iter().map(Value::String).collect())
}

fn dispatch(a: &mut Args<'_>) -> Result<Value, Diagnostic> {
    match a.name {
        "cidrsubnet" => {
            a.arity(3, Some(3), "prefix, newbits, netnum")?;
            let net = a.cidr(0)?;
            let newbits = a.whole(1, "newbits")?;
            let netnum = a.whole(2, "netnum")?;
            cidr::subnet(net, newbits, netnum)
                .map(|n| Value::String(n.to_string()))
                .map_err(|e| a.fail(e))
        }
        "cidrsubnets" => {
            a.arity(1, None, "prefix, newbits...")?;
            let net = a.cidr(0)?;
            let newbits = (1..a.len())
                .map(|i| a.whole(i, "newbits"))
                .collect::<Result<Vec<_>, _>>()?;
            match cidr::subnets(net, &newbits) {
                Ok(nets) => Ok(string_list(nets.iter().map(Net::to_string))),
                Err((i, e)) => Err(a.bad(i + 1, "newbits", e)),
            }
        }
        "cidrhost" => {
            a.arity(2, Some(2), "prefix, hostnum")?;
            let net = a.cidr(0)?;
            let hostnum = a.whole(1, "hostnum")?;
            cidr::host(net, hostnum)
                .map(Value::String)
                .map_err(|e| a.fail(e))
        }
        "cidrnetmask" => {
            a.arity(1, Some(1), "prefix")?;
            let net = a.cidr(0)?;
            cidr::netmask(net).map(Value::String).map_err(|e| a.fail(e))
        }
        "join" => {
            a.arity(2, None, "separator, list")?;
            let sep = a.string(0, "separator")?.into_owned();
            let mut out = String::new();
            let mut first = true;
            for i in 1..a.len() {
                for (j, item) in a.list(i, "list")?.iter().enumerate() {
                    let text = to_text(item).ok_or_else(|| {
                        a.bad(
                            i,
                            "list",
                            format!("element {j} must be a string, got {}", describe(item)),
                        )
                    })?;
                    if !first {
                        out.push_str(&sep);
                    }
                    first = false;
                    out.push_str(&text);
                    if out.len() > MAX_STRING {
                        return Err(a.too_large());
                    }
                }
            }
            Ok(Value::String(out))
        }
        "split" => {
            a.arity(2, Some(2), "separator, string")?;
            let sep = a.string(0, "separator")?;
            let text = a.string(1, "string")?;
            if sep.is_empty() {
                return Ok(string_list(text.chars().map(String::from)));
            }
            Ok(string_list(text.split(sep.as_ref()).map(String::from)))
        }
        "lookup" => {
            a.arity(2, Some(3), "map, key, default")?;
            let key = a.string(1, "key")?.into_owned();
            a.map(0, "map")?;
            if let Value::Map(mut map) = strip_outer(a.take(0)) {
                if let Some(found) = map.remove(&key) {
                    return Ok(found);
                }
                if a.len() == 3 {
                    return Ok(a.take(2));
                }
                let mut err = a.bad(
                    1,
                    "key",
                    format!("names no entry of the map: there is no key {key:?}"),
                );
                err = err.with_help(
                    match crate::spec::diagnostic::did_you_mean(
                        &key,
                        map.keys().map(String::as_str),
                    ) {
                        Some(close) => {
                            format!("did you mean {close:?}? or pass a default as argument 3")
                        }
                        None => {
                            "pass a default as argument 3: lookup(map, key, default)".to_string()
                        }
                    },
                );
                return Err(err);
            }
            Ok(Value::Null)
        }
        "merge" => {
            let mut out = BTreeMap::new();
            for i in 0..a.len() {
                match strip_outer(a.take(i)) {
                    Value::Null => {}
                    Value::Map(map) => out.extend(map),
                    other => {
                        return Err(a.bad(
                            i,
                            "map",
                            format!("must be a map, got {}", describe(&other)),
                        ));
                    }
                }
            }
            Ok(Value::Map(out))
        }
        "length" => {
            a.arity(1, Some(1), "value")?;
            let n = match a.value(0).expose() {
                Value::List(items) => items.len(),
                Value::Map(map) => map.len(),
                Value::String(s) => s.chars().count(),
                other => {
                    return Err(a.bad(
                        0,
                        "value",
                        format!("must be a list, a map or a string, got {}", describe(other)),
                    ));
                }
            };
            Ok(Value::Number(n as f64))
        }
        "format" => {
            a.arity(1, None, "format, args...")?;
            let spec = a.string(0, "format")?.into_owned();
            format_values(a, &spec, &a.values[1..], 1).map(Value::String)
        }
        "formatlist" => {
            a.arity(1, None, "format, args...")?;
            let spec = a.string(0, "format")?.into_owned();
            let mut rows: Option<(usize, usize)> = None;
            for i in 1..a.len() {
                if let Some(items) = a.value(i).as_list() {
                    match rows {
                        Some((n, first)) if n != items.len() => {
                            return Err(a.bad(
                                i,
                                "args",
                                format!(
                                    "has {} elements but argument {} has {n}; every list argument must have the same length",
                                    items.len(),
                                    first + 1
                                ),
                            ));
                        }
                        None => rows = Some((items.len(), i)),
                        _ => {}
                    }
                }
            }
            let Some((n, _)) = rows else {
                return Ok(Value::List(vec![Value::String(format_values(
                    a,
                    &spec,
                    &a.values[1..],
                    1,
                )?)]));
            };
            let mut out = Vec::with_capacity(n);
            let mut total = 0usize;
            for row in 0..n {
                let row_args: Vec<Value> = a.values[1..]
                    .iter()
                    .map(|v| match v.as_list() {
                        Some(items) => items[row].clone(),
                        None => v.clone(),
                    })
                    .collect();
                let text = format_values(a, &spec, &row_args, 1)?;
                total += text.len() + 1;
                if total > MAX_VALUE_SIZE {
                    return Err(a.too_large());
                }
                out.push(Value::String(text));
            }
            Ok(Value::List(out))
        }
        "concat" => {
            let mut out = Vec::new();
            for i in 0..a.len() {
                out.extend(a.take_list(i, "list")?);
                if out.len() > MAX_LIST {
                    return Err(a.too_large());
                }
            }
            Ok(Value::List(out))
        }
        "contains" => {
            a.arity(2, Some(2), "list, value")?;
            let found = a
                .list(0, "list")?
                .iter()
                .any(|item| item.same_ignoring_sensitivity(a.value(1)));
            Ok(Value::Bool(found))
        }
        "keys" => {
            a.arity(1, Some(1), "map")?;
            Ok(string_list(a.map(0, "map")?.keys().cloned()))
        }
        "values" => {
            a.arity(1, Some(1), "map")?;
            a.map(0, "map")?;
            match strip_outer(a.take(0)) {
                Value::Map(map) => Ok(Value::List(map.into_values().collect())),
                _ => Ok(Value::List(Vec::new())),
            }
        }
        "element" => {
            a.arity(2, Some(2), "list, index")?;
            let index = a.whole(1, "index")?;
            let items = a.list(0, "list")?;
            if items.is_empty() {
                return Err(a.bad(
                    0,
                    "list",
                    "must not be empty: element() of an empty list has no value",
                ));
            }
            if index < 0 {
                return Err(a.bad(1, "index", format!("must not be negative, got {index}")));
            }
            Ok(items[index as usize % items.len()].clone())
        }
        "index" => {
            a.arity(2, Some(2), "list, value")?;
            let wanted = a.value(1);
            match a
                .list(0, "list")?
                .iter()
                .position(|item| item.same_ignoring_sensitivity(wanted))
            {
                Some(i) => Ok(Value::Number(i as f64)),
                None => Err(a.fail(format!("the list does not contain {}", show(wanted)))),
            }
        }
        "flatten" => {
            a.arity(1, Some(1), "list")?;
            let items = a.take_list(0, "list")?;
            let mut out = Vec::new();
            flatten_into(items, &mut out);
            Ok(Value::List(out))
        }
        "distinct" => {
            a.arity(1, Some(1), "list")?;
            let items = a.take_list(0, "list")?;
            let mut out: Vec<Value> = Vec::with_capacity(items.len());
            for item in items {
                if !out.iter().any(|seen| seen.same_ignoring_sensitivity(&item)) {
                    out.push(item);
                }
            }
            Ok(Value::List(out))
        }
        "upper" | "lower" | "title" | "trimspace" => {
            a.arity(1, Some(1), "string")?;
            let text = a.string(0, "string")?;
            Ok(Value::String(match a.name {
                "upper" => text.to_uppercase(),
                "lower" => text.to_lowercase(),
                "title" => title_case(&text),
                _ => text.trim().to_string(),
            }))
        }
        "replace" => {
            a.arity(3, Some(3), "string, substring, replacement")?;
            let text = a.string(0, "string")?;
            let from = a.string(1, "substring")?;
            let to = a.string(2, "replacement")?;
            if from.is_empty() {
                return Err(a.bad(1, "substring", "must not be empty"));
            }
            let count = text.matches(from.as_ref()).count();
            if text.len() + count.saturating_mul(to.len()) > MAX_STRING + from.len() * count {
                return Err(a.too_large());
            }
            Ok(Value::String(text.replace(from.as_ref(), &to)))
        }
        "substr" => {
            a.arity(3, Some(3), "string, offset, length")?;
            let text = a.string(0, "string")?;
            let offset = a.whole(1, "offset")?;
            let length = a.whole(2, "length")?;
            let chars: Vec<char> = text.chars().collect();
            let n = chars.len() as i64;
            let start = if offset < 0 {
                (n + offset).max(0)
            } else {
                offset.min(n)
            };
            let end = if length < 0 {
                n
            } else {
                (start + length).min(n)
            };
            if length < -1 {
                return Err(a.bad(
                    2,
                    "length",
                    format!("must be -1 (to the end) or more, got {length}"),
                ));
            }
            Ok(Value::String(
                chars[start as usize..end.max(start) as usize]
                    .iter()
                    .collect(),
            ))
        }
        "trim" => {
            a.arity(2, Some(2), "string, cutset")?;
            let text = a.string(0, "string")?;
            let cutset = a.string(1, "cutset")?;
            Ok(Value::String(
                text.trim_matches(|c| cutset.contains(c)).to_string(),
            ))
        }
        "trimprefix" | "trimsuffix" => {
            a.arity(2, Some(2), "string, affix")?;
            let text = a.string(0, "string")?;
            let affix = a.string(
                1,
                if a.name == "trimprefix" {
                    "prefix"
                } else {
                    "suffix"
                },
            )?;
            let trimmed = if a.name == "trimprefix" {
                text.strip_prefix(affix.as_ref())
            } else {
                text.strip_suffix(affix.as_ref())
            };
            Ok(Value::String(trimmed.unwrap_or(&text).to_string()))
        }
        "startswith" | "endswith" => {
            a.arity(2, Some(2), "string, affix")?;
            let text = a.string(0, "string")?;
            let affix = a.string(
                1,
                if a.name == "startswith" {
                    "prefix"
                } else {
                    "suffix"
                },
            )?;
            Ok(Value::Bool(if a.name == "startswith" {
                text.starts_with(affix.as_ref())
            } else {
                text.ends_with(affix.as_ref())
            }))
        }
        "min" | "max" => {
            a.arity(1, None, "numbers...")?;
            let mut best = a.number(0, "number")?;
            for i in 1..a.len() {
                let n = a.number(i, "number")?;
                best = if a.name == "min" {
                    best.min(n)
                } else {
                    best.max(n)
                };
            }
            Ok(Value::Number(best))
        }
        "abs" | "ceil" | "floor" => {
            a.arity(1, Some(1), "number")?;
            let n = a.number(0, "number")?;
            Ok(Value::Number(match a.name {
                "abs" => n.abs(),
                "ceil" => n.ceil(),
                _ => n.floor(),
            }))
        }
        "sum" => {
            a.arity(1, Some(1), "list")?;
            let items = a.list(0, "list")?;
            if items.is_empty() {
                return Err(a.bad(0, "list", "must not be empty: there is nothing to sum"));
            }
            let mut total = 0.0;
            for (j, item) in items.iter().enumerate() {
                total += item.as_f64().ok_or_else(|| {
                    a.bad(
                        0,
                        "list",
                        format!("element {j} must be a number, got {}", describe(item)),
                    )
                })?;
            }
            Ok(Value::Number(total))
        }
        "coalesce" => {
            a.arity(1, None, "values...")?;
            for i in 0..a.len() {
                match a.value(i).expose() {
                    Value::Null => {}
                    Value::String(s) if s.is_empty() => {}
                    _ => return Ok(a.take(i)),
                }
            }
            Err(a.fail("no non-null, non-empty-string arguments"))
        }
        "compact" => {
            a.arity(1, Some(1), "list")?;
            let items = a.take_list(0, "list")?;
            Ok(Value::List(
                items
                    .into_iter()
                    .filter(|v| match v.expose() {
                        Value::Null => false,
                        Value::String(s) => !s.is_empty(),
                        _ => true,
                    })
                    .collect(),
            ))
        }
        "alltrue" | "anytrue" => {
            a.arity(1, Some(1), "list")?;
            let items = a.list(0, "list")?;
            let mut bools = Vec::with_capacity(items.len());
            for (j, item) in items.iter().enumerate() {
                bools.push(item.as_bool().ok_or_else(|| {
                    a.bad(
                        0,
                        "list",
                        format!("element {j} must be a bool, got {}", describe(item)),
                    )
                })?);
            }
            Ok(Value::Bool(if a.name == "alltrue" {
                bools.iter().all(|b| *b)
            } else {
                bools.iter().any(|b| *b)
            }))
        }
        "one" => {
            a.arity(1, Some(1), "list")?;
            let mut items = a.take_list(0, "list")?;
            match items.len() {
                0 => Ok(Value::Null),
                1 => Ok(items.remove(0)),
                n => Err(a.bad(
                    0,
                    "list",
                    format!("must have zero or one elements, got {n}"),
                )),
            }
        }
        "tostring" => {
            a.arity(1, Some(1), "value")?;
            if matches!(a.value(0).expose(), Value::Null) {
                return Ok(Value::Null);
            }
            Ok(Value::String(a.string(0, "value")?.into_owned()))
        }
        "tonumber" => {
            a.arity(1, Some(1), "value")?;
            match a.value(0).expose() {
                Value::Null => Ok(Value::Null),
                Value::Number(n) => Ok(Value::Number(*n)),
                Value::String(s) => match s.trim().parse::<f64>() {
                    Ok(n) if n.is_finite() => Ok(Value::Number(n)),
                    _ => Err(a.bad(0, "value", format!("is not a number: {}", show(a.value(0))))),
                },
                other => Err(a.bad(
                    0,
                    "value",
                    format!("cannot become a number: got {}", describe(other)),
                )),
            }
        }
        "tobool" => {
            a.arity(1, Some(1), "value")?;
            match a.value(0).expose() {
                Value::Null => Ok(Value::Null),
                Value::Bool(b) => Ok(Value::Bool(*b)),
                Value::String(s) if s == "true" => Ok(Value::Bool(true)),
                Value::String(s) if s == "false" => Ok(Value::Bool(false)),
                _ => Err(a.bad(
                    0,
                    "value",
                    format!(
                        "must be a bool or \"true\"/\"false\", got {}",
                        show(a.value(0))
                    ),
                )),
            }
        }
        "tolist" => {
            a.arity(1, Some(1), "value")?;
            Ok(Value::List(a.take_list(0, "value")?))
        }
        "toset" => {
            a.arity(1, Some(1), "value")?;
            let items = a.take_list(0, "value")?;
            let mut out: Vec<Value> = Vec::with_capacity(items.len());
            for item in items {
                if !out.iter().any(|seen| seen.same_ignoring_sensitivity(&item)) {
                    out.push(item);
                }
            }
            // Sets of primitives have a stable order in Terraform: lexical for strings,
            // numeric for numbers.
            if out.iter().all(|v| v.as_str().is_some()) {
                out.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
            } else if out.iter().all(|v| v.as_f64().is_some()) {
                out.sort_by(|x, y| {
                    x.as_f64()
                        .unwrap_or(0.0)
                        .total_cmp(&y.as_f64().unwrap_or(0.0))
                });
            }
            Ok(Value::List(out))
        }
        "zipmap" => {
            a.arity(2, Some(2), "keys, values")?;
            let keys = a.list(0, "keys")?;
            let values_len = a.list(1, "values")?.len();
            if keys.len() != values_len {
                return Err(a.fail(format!(
                    "there are {} keys but {values_len} values; both lists must have the same length",
                    keys.len()
                )));
            }
            let mut names = Vec::with_capacity(keys.len());
            for (j, key) in keys.iter().enumerate() {
                names.push(
                    to_text(key)
                        .ok_or_else(|| {
                            a.bad(
                                0,
                                "keys",
                                format!("element {j} must be a string, got {}", describe(key)),
                            )
                        })?
                        .into_owned(),
                );
            }
            let values = a.take_list(1, "values")?;
            Ok(Value::Map(names.into_iter().zip(values).collect()))
        }
        "range" => {
            a.arity(1, Some(3), "start, limit, step")?;
            let (start, limit) = if a.len() == 1 {
                (0.0, a.number(0, "limit")?)
            } else {
                (a.number(0, "start")?, a.number(1, "limit")?)
            };
            let step = if a.len() == 3 {
                a.number(2, "step")?
            } else if start > limit {
                -1.0
            } else {
                1.0
            };
            if step == 0.0 {
                return Err(a.bad(2, "step", "must not be zero"));
            }
            let mut out = Vec::new();
            let mut n = start;
            while (step > 0.0 && n < limit) || (step < 0.0 && n > limit) {
                if out.len() >= MAX_RANGE {
                    return Err(a.fail(format!(
                        "more than {MAX_RANGE} values were generated; either decrease the difference between start and limit or use a larger step"
                    )));
                }
                out.push(Value::Number(n));
                n += step;
            }
            Ok(Value::List(out))
        }
        "slice" => {
            a.arity(3, Some(3), "list, start, end")?;
            let start = a.whole(1, "start")?;
            let end = a.whole(2, "end")?;
            let n = a.list(0, "list")?.len() as i64;
            if start < 0 || start > n {
                return Err(a.bad(
                    1,
                    "start",
                    format!("must be from 0 to the list's length {n}, got {start}"),
                ));
            }
            if end < start || end > n {
                return Err(a.bad(
                    2,
                    "end",
                    format!("must be from start ({start}) to the list's length {n}, got {end}"),
                ));
            }
            let mut items = a.take_list(0, "list")?;
            items.truncate(end as usize);
            Ok(Value::List(items.split_off(start as usize)))
        }
        "reverse" => {
            a.arity(1, Some(1), "list")?;
            let mut items = a.take_list(0, "list")?;
            items.reverse();
            Ok(Value::List(items))
        }
        "sort" => {
            a.arity(1, Some(1), "list")?;
            let items = a.list(0, "list")?;
            let mut texts = Vec::with_capacity(items.len());
            for (j, item) in items.iter().enumerate() {
                texts.push(
                    to_text(item)
                        .ok_or_else(|| {
                            a.bad(
                                0,
                                "list",
                                format!("element {j} must be a string, got {}", describe(item)),
                            )
                        })?
                        .into_owned(),
                );
            }
            texts.sort();
            Ok(string_list(texts))
        }
        "jsonencode" => {
            a.arity(1, Some(1), "value")?;
            let json = a.value(0).to_json_exposed();
            serde_json::to_string(&json)
                .map(Value::String)
                .map_err(|e| a.fail(format!("cannot encode the value: {e}")))
        }
        "jsondecode" => {
            a.arity(1, Some(1), "string")?;
            let text = a.string(0, "string")?;
            serde_json::from_str::<serde_json::Value>(&text)
                .map(|json| Value::from_json(&json))
                .map_err(|e| a.bad(0, "string", format!("is not valid JSON: {e}")))
        }
        "base64encode" => {
            a.arity(1, Some(1), "string")?;
            Ok(Value::String(base64_encode(
                a.string(0, "string")?.as_bytes(),
            )))
        }
        "base64decode" => {
            a.arity(1, Some(1), "string")?;
            let text = a.string(0, "string")?;
            let bytes = base64_decode(&text).ok_or_else(|| {
                a.bad(
                    0,
                    "string",
                    "is not valid base64 (standard alphabet, with `=` padding)",
                )
            })?;
            String::from_utf8(bytes)
                .map(Value::String)
                .map_err(|_| a.bad(0, "string", "decodes to bytes that are not UTF-8 text"))
        }
        "sha256" => {
            a.arity(1, Some(1), "string")?;
            let digest = Sha256::digest(a.string(0, "string")?.as_bytes());
            Ok(Value::String(hex::encode(digest)))
        }
        other => Err(Diagnostic::error_at(
            format!("unknown function `{other}`"),
            a.call_span,
        )),
    }
}

fn flatten_into(items: Vec<Value>, out: &mut Vec<Value>) {
    for item in items {
        match item {
            Value::List(inner) => flatten_into(inner, out),
            Value::Sensitive(inner) if matches!(*inner, Value::List(_)) => {
                flatten_into(vec![*inner], out)
            }
            other => out.push(other),
        }
    }
}

/// Upper-cases the first letter of each word (a run of letters and digits).
fn title_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_word = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if in_word {
                out.push(c);
            } else {
                out.extend(c.to_uppercase());
            }
            in_word = true;
        } else {
            out.push(c);
            in_word = false;
        }
    }
    out
}

/// Renders a `format()` string. `first_arg` is the argument number of `values[0]`, for messages.
fn format_values(
    a: &Args<'_>,
    spec: &str,
    values: &[Value],
    first_arg: usize,
) -> Result<String, Diagnostic> {
    let mut out = String::new();
    let mut chars = spec.chars().peekable();
    let mut next = 0usize;
    while let Some(c) = chars.next() {
        // Checked as the text grows: a spec of many `%s` over a large argument must stop at the
        // limit, not after building the whole string.
        if out.len() > MAX_STRING {
            return Err(a.too_large());
        }
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut left = false;
        let mut zero = false;
        let mut plus = false;
        let mut space = false;
        while let Some(&flag) = chars.peek() {
            match flag {
                '-' => left = true,
                '0' => zero = true,
                '+' => plus = true,
                ' ' => space = true,
                _ => break,
            }
            chars.next();
        }
        let mut width = 0usize;
        while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
            width = width.saturating_mul(10).saturating_add(d as usize);
            chars.next();
        }
        let mut precision: Option<usize> = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = 0usize;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                p = p.saturating_mul(10).saturating_add(d as usize);
                chars.next();
            }
            precision = Some(p);
        }
        if width > 1024 || precision.is_some_and(|p| p > 1024) {
            return Err(a.bad(0, "format", "uses a width or precision over 1024"));
        }
        let Some(verb) = chars.next() else {
            return Err(a.bad(
                0,
                "format",
                "ends with an incomplete `%` verb; write `%%` for a literal percent sign",
            ));
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(value) = values.get(next) else {
            return Err(a.fail(format!(
                "not enough arguments for the verbs in the format string: `%{verb}` needs argument {} but there are {}",
                next + first_arg + 1,
                values.len() + first_arg
            )));
        };
        let arg_no = next + first_arg;
        next += 1;
        let wrong = |what: &str| {
            a.bad(
                arg_no.min(a.len().saturating_sub(1)),
                "value",
                format!("must be {what} for `%{verb}`, got {}", describe(value)),
            )
        };
        let (body, numeric) = match verb {
            'v' => (
                match value.expose() {
                    Value::List(_) | Value::Map(_) => value.to_json_exposed().to_string(),
                    Value::Null => "null".to_string(),
                    _ => to_text(value).map(Cow::into_owned).unwrap_or_default(),
                },
                false,
            ),
            's' => (
                to_text(value)
                    .ok_or_else(|| wrong("a string"))?
                    .into_owned(),
                false,
            ),
            'q' => {
                let text = to_text(value).ok_or_else(|| wrong("a string"))?;
                (
                    serde_json::Value::String(text.into_owned()).to_string(),
                    false,
                )
            }
            't' => (
                value.as_bool().ok_or_else(|| wrong("a bool"))?.to_string(),
                false,
            ),
            'd' | 'x' | 'X' | 'o' | 'b' => {
                let n = value
                    .as_f64()
                    .filter(|n| n.fract() == 0.0 && n.abs() < 9.0e15)
                    .ok_or_else(|| wrong("a whole number"))? as i64;
                let digits = match verb {
                    'd' => n.unsigned_abs().to_string(),
                    'x' => format!("{:x}", n.unsigned_abs()),
                    'X' => format!("{:X}", n.unsigned_abs()),
                    'o' => format!("{:o}", n.unsigned_abs()),
                    _ => format!("{:b}", n.unsigned_abs()),
                };
                (sign(n < 0, plus, space) + &digits, true)
            }
            'f' | 'e' => {
                let n = value.as_f64().ok_or_else(|| wrong("a number"))?;
                let p = precision.unwrap_or(6);
                let digits = if verb == 'f' {
                    format!("{:.p$}", n.abs())
                } else {
                    format!("{:.p$e}", n.abs())
                };
                (sign(n < 0.0, plus, space) + &digits, true)
            }
            other => {
                return Err(a.bad(
                    0,
                    "format",
                    format!("uses the unknown verb `%{other}`; use %s, %d, %f, %v, %q, %t or %%"),
                ));
            }
        };
        let body = match (verb, precision) {
            ('s' | 'v', Some(p)) => body.chars().take(p).collect(),
            _ => body,
        };
        pad(&mut out, &body, width, left, zero && numeric && !left);
    }
    if next < values.len() {
        return Err(a.fail(format!(
            "too many arguments: the format string uses {next} but {} were given",
            values.len()
        )));
    }
    Ok(out)
}

fn sign(negative: bool, plus: bool, space: bool) -> String {
    match (negative, plus, space) {
        (true, _, _) => "-".to_string(),
        (false, true, _) => "+".to_string(),
        (false, false, true) => " ".to_string(),
        _ => String::new(),
    }
}

fn pad(out: &mut String, body: &str, width: usize, left: bool, zero: bool) {
    let len = body.chars().count();
    if len >= width {
        out.push_str(body);
        return;
    }
    let fill = width - len;
    if left {
        out.push_str(body);
        out.extend(std::iter::repeat_n(' ', fill));
    } else if zero {
        // Zeros go between the sign and the digits: `-007`.
        let (sign, digits) = match body.chars().next() {
            Some(c @ ('-' | '+' | ' ')) => (Some(c), &body[1..]),
            _ => (None, body),
        };
        if let Some(s) = sign {
            out.push(s);
        }
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(digits);
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(body);
    }
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (ci, chunk) in bytes.chunks(4).enumerate() {
        let last = ci == bytes.len() / 4 - 1;
        let mut n = 0u32;
        let mut pads = 0;
        for (i, &c) in chunk.iter().enumerate() {
            let v = if c == b'=' && last && i >= 2 {
                pads += 1;
                0
            } else if pads > 0 {
                return None;
            } else {
                BASE64.iter().position(|&b| b == c)? as u32
            };
            n = (n << 6) | v;
        }
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&decoded[..3 - pads]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn s(text: &str) -> Value {
        Value::string(text)
    }

    fn n(x: f64) -> Value {
        Value::Number(x)
    }

    fn list(items: &[Value]) -> Value {
        Value::List(items.to_vec())
    }

    fn strs(items: &[&str]) -> Value {
        Value::List(items.iter().map(|t| s(t)).collect())
    }

    fn map(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn try_call(name: &str, args: &[Value]) -> Result<Value, Diagnostic> {
        let span = Span::new(Arc::from("main.yaml"), 1, 1, 0);
        let spans: Vec<Span> = (0..args.len())
            .map(|i| span.sub(i as u32 * 10, 5))
            .collect();
        call(name, args.to_vec(), &spans, &span)
    }

    fn ok(name: &str, args: &[Value]) -> Value {
        try_call(name, args).unwrap_or_else(|e| panic!("{name} failed: {}", e.message))
    }

    fn err(name: &str, args: &[Value]) -> String {
        match try_call(name, args) {
            Ok(v) => panic!("{name} should fail, gave {v}"),
            Err(e) => e.message,
        }
    }

    #[test]
    fn every_listed_function_is_implemented() {
        for name in FUNCTION_NAMES {
            let message = try_call(name, &[])
                .err()
                .map(|e| e.message)
                .unwrap_or_default();
            assert!(
                !message.starts_with("unknown function"),
                "{name} is listed but missing"
            );
        }
        assert!(
            FUNCTION_NAMES.windows(2).all(|w| w[0] < w[1]),
            "keep the list sorted"
        );
    }

    #[test]
    fn cidr_functions_match_terraform() {
        assert_eq!(
            ok("cidrsubnet", &[s("172.16.0.0/12"), n(4.0), n(2.0)]),
            s("172.18.0.0/16")
        );
        assert_eq!(
            ok("cidrsubnet", &[s("10.1.2.0/24"), n(4.0), n(15.0)]),
            s("10.1.2.240/28")
        );
        assert_eq!(
            ok(
                "cidrsubnet",
                &[s("fd00:fd12:3456:7890::/56"), n(16.0), n(162.0)]
            ),
            s("fd00:fd12:3456:7800:a200::/72")
        );
        assert_eq!(
            err("cidrsubnet", &[s("10.1.2.0/24"), n(10.0), n(0.0)]),
            "cidrsubnet: insufficient address space to extend prefix of 24 by 10"
        );
        assert_eq!(
            err("cidrsubnet", &[s("10.1.2.0/24"), n(4.0), n(16.0)]),
            "cidrsubnet: prefix extension of 4 does not accommodate a subnet numbered 16"
        );
        assert_eq!(
            err("cidrsubnet", &[s("10.0.0.0/16"), s("8"), n(1.0)]),
            "cidrsubnet: argument 2 (newbits) must be a whole number, got \"8\""
        );
        assert_eq!(
            err("cidrsubnet", &[s("10.0.0.0"), n(8.0), n(1.0)]),
            "cidrsubnet: argument 1 (prefix) must be an IP prefix in CIDR notation like \"10.0.0.0/16\", got \"10.0.0.0\""
        );
        assert_eq!(
            err("cidrsubnet", &[s("10.0.0.0/16"), n(8.0)]),
            "cidrsubnet: expected 3 arguments, got 2"
        );
        assert_eq!(
            ok(
                "cidrsubnets",
                &[s("10.1.0.0/16"), n(4.0), n(4.0), n(8.0), n(4.0)]
            ),
            strs(&[
                "10.1.0.0/20",
                "10.1.16.0/20",
                "10.1.32.0/24",
                "10.1.48.0/20"
            ])
        );
        assert_eq!(
            err("cidrsubnets", &[s("10.1.0.0/16"), n(4.0), n(0.0)]),
            "cidrsubnets: argument 3 (newbits) must extend prefix by at least one bit"
        );
        assert_eq!(
            ok("cidrhost", &[s("10.12.112.0/20"), n(16.0)]),
            s("10.12.112.16")
        );
        assert_eq!(ok("cidrnetmask", &[s("172.16.0.0/12")]), s("255.240.0.0"));
    }

    #[test]
    fn string_functions() {
        assert_eq!(
            ok("join", &[s(", "), strs(&["a", "b"]), list(&[n(1.0)])]),
            s("a, b, 1")
        );
        assert_eq!(
            ok("split", &[s(","), s("a,b,,c")]),
            strs(&["a", "b", "", "c"])
        );
        assert_eq!(ok("upper", &[s("héllo")]), s("HÉLLO"));
        assert_eq!(ok("lower", &[s("ABC")]), s("abc"));
        assert_eq!(ok("title", &[s("hello big-world")]), s("Hello Big-World"));
        assert_eq!(ok("replace", &[s("a.b.c"), s("."), s("-")]), s("a-b-c"));
        assert_eq!(ok("substr", &[s("hello world"), n(1.0), n(4.0)]), s("ello"));
        assert_eq!(
            ok("substr", &[s("hello world"), n(-5.0), n(-1.0)]),
            s("world")
        );
        assert_eq!(ok("trimspace", &[s("  x \n")]), s("x"));
        assert_eq!(ok("trim", &[s("?!hello?!"), s("!?")]), s("hello"));
        assert_eq!(ok("trimprefix", &[s("helloworld"), s("hello")]), s("world"));
        assert_eq!(ok("trimsuffix", &[s("helloworld"), s("world")]), s("hello"));
        assert_eq!(ok("startswith", &[s("hello"), s("he")]), Value::Bool(true));
        assert_eq!(ok("endswith", &[s("hello"), s("he")]), Value::Bool(false));
        assert_eq!(
            err("join", &[s(","), list(&[map(&[])])]),
            "join: argument 2 (list) element 0 must be a string, got a map"
        );
    }

    #[test]
    fn format_follows_terraform_verbs() {
        assert_eq!(
            ok("format", &[s("Hello, %s!"), s("Ander")]),
            s("Hello, Ander!")
        );
        assert_eq!(ok("format", &[s("web-%03d"), n(7.0)]), s("web-007"));
        assert_eq!(ok("format", &[s("%d items"), n(-12.0)]), s("-12 items"));
        assert_eq!(
            ok(
                "format",
                &[s("%.2f|%6.1f|%-4d|"), n(1.23456), n(2.5), n(9.0)]
            ),
            s("1.23|   2.5|9   |")
        );
        assert_eq!(
            ok(
                "format",
                &[s("%v %v %q 100%%"), n(1.5), list(&[n(1.0)]), s("a\"b")]
            ),
            s("1.5 [1] \"a\\\"b\" 100%")
        );
        assert_eq!(
            ok("format", &[s("%t/%x"), Value::Bool(true), n(255.0)]),
            s("true/ff")
        );
        assert_eq!(
            err("format", &[s("%d"), n(1.5)]),
            "format: argument 2 (value) must be a whole number for `%d`, got a number (1.5)"
        );
        assert_eq!(
            err("format", &[s("%s and %s"), s("a")]),
            "format: not enough arguments for the verbs in the format string: `%s` needs argument 3 but there are 2"
        );
        assert_eq!(
            err("format", &[s("%s"), s("a"), s("b")]),
            "format: too many arguments: the format string uses 1 but 2 were given"
        );
        assert_eq!(
            ok(
                "formatlist",
                &[s("%s-%d"), strs(&["a", "b"]), list(&[n(1.0), n(2.0)])]
            ),
            strs(&["a-1", "b-2"])
        );
        assert_eq!(
            ok("formatlist", &[s("%s.%s"), strs(&["a", "b"]), s("x")]),
            strs(&["a.x", "b.x"])
        );
    }

    #[test]
    fn collection_functions() {
        let tags = map(&[("env", s("prod")), ("team", s("web"))]);
        assert_eq!(ok("lookup", &[tags.clone(), s("env")]), s("prod"));
        assert_eq!(
            ok("lookup", &[tags.clone(), s("nope"), s("dflt")]),
            s("dflt")
        );
        assert_eq!(
            err("lookup", &[tags.clone(), s("envv")]),
            "lookup: argument 2 (key) names no entry of the map: there is no key \"envv\""
        );
        assert_eq!(
            ok(
                "merge",
                &[tags.clone(), Value::Null, map(&[("env", s("dev"))])]
            ),
            map(&[("env", s("dev")), ("team", s("web"))])
        );
        assert_eq!(ok("length", std::slice::from_ref(&tags)), n(2.0));
        assert_eq!(ok("length", &[s("héllo")]), n(5.0));
        assert_eq!(
            ok("keys", std::slice::from_ref(&tags)),
            strs(&["env", "team"])
        );
        assert_eq!(
            ok("values", std::slice::from_ref(&tags)),
            strs(&["prod", "web"])
        );
        assert_eq!(
            ok("concat", &[strs(&["a"]), strs(&["b", "c"])]),
            strs(&["a", "b", "c"])
        );
        assert_eq!(
            ok("contains", &[strs(&["a", "b"]), s("b")]),
            Value::Bool(true)
        );
        assert_eq!(ok("element", &[strs(&["a", "b", "c"]), n(4.0)]), s("b"));
        assert_eq!(ok("index", &[strs(&["a", "b"]), s("b")]), n(1.0));
        assert_eq!(
            err("index", &[strs(&["a"]), s("z")]),
            "index: the list does not contain \"z\""
        );
        assert_eq!(
            ok(
                "flatten",
                &[list(&[
                    strs(&["a"]),
                    list(&[strs(&["b"]), s("c")]),
                    list(&[])
                ])]
            ),
            strs(&["a", "b", "c"])
        );
        assert_eq!(ok("distinct", &[strs(&["b", "a", "b"])]), strs(&["b", "a"]));
        assert_eq!(ok("toset", &[strs(&["b", "a", "b"])]), strs(&["a", "b"]));
        assert_eq!(ok("tolist", &[strs(&["b"])]), strs(&["b"]));
        assert_eq!(
            ok("zipmap", &[strs(&["a", "b"]), list(&[n(1.0), n(2.0)])]),
            map(&[("a", n(1.0)), ("b", n(2.0))])
        );
        assert_eq!(ok("range", &[n(3.0)]), list(&[n(0.0), n(1.0), n(2.0)]));
        assert_eq!(
            ok("range", &[n(1.0), n(0.0), n(-0.25)]),
            list(&[n(1.0), n(0.75), n(0.5), n(0.25)])
        );
        assert!(
            err("range", &[n(5000.0)]).starts_with("range: more than 1024 values were generated")
        );
        assert_eq!(
            ok("slice", &[strs(&["a", "b", "c", "d"]), n(1.0), n(3.0)]),
            strs(&["b", "c"])
        );
        assert_eq!(
            err("slice", &[strs(&["a"]), n(0.0), n(2.0)]),
            "slice: argument 3 (end) must be from start (0) to the list's length 1, got 2"
        );
        assert_eq!(ok("reverse", &[strs(&["a", "b"])]), strs(&["b", "a"]));
        assert_eq!(
            ok("sort", &[list(&[s("b"), n(10.0), n(9.0)])]),
            strs(&["10", "9", "b"])
        );
        assert_eq!(
            ok("compact", &[list(&[s("a"), s(""), Value::Null])]),
            strs(&["a"])
        );
        assert_eq!(ok("one", &[strs(&["x"])]), s("x"));
        assert_eq!(
            ok("alltrue", &[list(&[Value::Bool(true), Value::Bool(false)])]),
            Value::Bool(false)
        );
        assert_eq!(
            ok("anytrue", &[list(&[Value::Bool(true), Value::Bool(false)])]),
            Value::Bool(true)
        );
    }

    #[test]
    fn number_and_conversion_functions() {
        assert_eq!(ok("min", &[n(3.0), n(-1.0), n(2.0)]), n(-1.0));
        assert_eq!(ok("max", &[n(3.0), n(-1.0)]), n(3.0));
        assert_eq!(ok("abs", &[n(-2.5)]), n(2.5));
        assert_eq!(ok("ceil", &[n(1.2)]), n(2.0));
        assert_eq!(ok("floor", &[n(1.8)]), n(1.0));
        assert_eq!(ok("sum", &[list(&[n(1.0), n(2.5)])]), n(3.5));
        assert_eq!(
            err("sum", &[list(&[])]),
            "sum: argument 1 (list) must not be empty: there is nothing to sum"
        );
        assert_eq!(ok("coalesce", &[Value::Null, s(""), s("x")]), s("x"));
        assert_eq!(ok("tostring", &[n(5.0)]), s("5"));
        assert_eq!(ok("tonumber", &[s("42")]), n(42.0));
        assert_eq!(
            err("tonumber", &[s("4x")]),
            "tonumber: argument 1 (value) is not a number: \"4x\""
        );
        assert_eq!(ok("tobool", &[s("true")]), Value::Bool(true));
    }

    #[test]
    fn encoding_functions() {
        assert_eq!(
            ok("jsonencode", &[map(&[("b", n(1.0)), ("a", strs(&["x"]))])]),
            s(r#"{"a":["x"],"b":1}"#)
        );
        assert_eq!(
            ok("jsondecode", &[s(r#"{"a":[1,true]}"#)]),
            map(&[("a", list(&[n(1.0), Value::Bool(true)]))])
        );
        for text in ["", "f", "fo", "foo", "foob", "fooba", "foobar", "héllo"] {
            let encoded = ok("base64encode", &[s(text)]);
            assert_eq!(ok("base64decode", &[encoded]), s(text));
        }
        assert_eq!(ok("base64encode", &[s("foobar")]), s("Zm9vYmFy"));
        assert_eq!(ok("base64encode", &[s("fo")]), s("Zm8="));
        assert!(err("base64decode", &[s("Zm9=v")]).contains("is not valid base64"));
        assert_eq!(
            ok("sha256", &[s("hello")]),
            s("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        );
    }

    #[test]
    fn sensitive_arguments_make_sensitive_results() {
        let password = Value::Sensitive(Box::new(s("hunter2")));
        let joined = ok("join", &[s("-"), list(&[s("a"), password.clone()])]);
        assert_eq!(joined, Value::Sensitive(Box::new(s("a-hunter2"))));
        let message = err("cidrsubnet", &[password, n(1.0), n(1.0)]);
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn huge_results_are_refused() {
        let big = s(&"x".repeat(600_000));
        assert_eq!(
            err("join", &[s(""), list(&[big.clone(), big])]),
            "join: result too large"
        );
        let many = Value::List(vec![n(1.0); 60_000]);
        assert_eq!(
            err("concat", &[many.clone(), many]),
            "concat: result too large"
        );
    }

    proptest::proptest! {
        #[test]
        fn cidrsubnet_results_lie_inside_the_prefix(
            a in 0u32.., prefix in 0u32..=32, newbits in 0i64..=8, netnum in 0i64..256,
        ) {
            let base = format!("{}/{prefix}", std::net::Ipv4Addr::from(a));
            if let Ok(Value::String(sub)) = try_call("cidrsubnet", &[s(&base), n(newbits as f64), n(netnum as f64)]) {
                let parent = Net::parse(&base).unwrap();
                let child = Net::parse(&sub).unwrap();
                proptest::prop_assert_eq!(child.prefix, prefix + newbits as u32);
                // Inside the parent: the parent's network bits are unchanged.
                proptest::prop_assert!(prefix == 0 || child.addr >> (32 - prefix) == parent.addr >> (32 - prefix));
            }
        }

        #[test]
        fn cidrsubnet_v6_results_lie_inside_the_prefix(
            a in proptest::num::u128::ANY, prefix in 1u32..=120, newbits in 0i64..=8, netnum in 0i64..256,
        ) {
            let base = format!("{}/{prefix}", std::net::Ipv6Addr::from(a));
            if let Ok(Value::String(sub)) = try_call("cidrsubnet", &[s(&base), n(newbits as f64), n(netnum as f64)]) {
                let parent = Net::parse(&base).unwrap();
                let child = Net::parse(&sub).unwrap();
                proptest::prop_assert_eq!(child.addr >> (128 - prefix), parent.addr >> (128 - prefix));
                proptest::prop_assert_eq!(child.prefix, prefix + newbits as u32);
            }
        }
    }
}
