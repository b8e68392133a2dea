//! The one `$filter` the server understands: a single tag pair, as ARM's "Resources - List"
//! and "Resource Groups - List" take it (`tagName eq 'K' and tagValue eq 'V'`, or `tagName eq
//! 'K'` alone). ARM allows one tag pair per filter; a filter naming two is refused, as ARM
//! refuses it. Keywords are matched in any case (the Azure CLI writes `tagname`), quoted strings
//! follow OData (`''` is a quote). Tag names compare without case, values exactly, as ARM's tag
//! operations do.

use serde_json::Value;

/// A parsed tag filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFilter {
    pub name: String,
    /// `None`: any value of the tag.
    pub value: Option<String>,
}

impl TagFilter {
    /// Whether a resource's `tags` member carries the pair.
    pub fn matches(&self, resource: &Value) -> bool {
        let Some(tags) = resource.get("tags").and_then(Value::as_object) else {
            return false;
        };
        tags.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case(&self.name)
                && self
                    .value
                    .as_deref()
                    .is_none_or(|want| v.as_str() == Some(want))
        })
    }
}

/// Reads `$filter`; `Err` carries the reason, for ARM's `InvalidFilterInQueryString`.
pub fn parse(filter: &str) -> Result<TagFilter, String> {
    let mut rest = filter.trim();
    let name = clause(&mut rest, "tagName")?;
    if rest.is_empty() {
        return Ok(TagFilter { name, value: None });
    }
    keyword(&mut rest, "and")?;
    let value = clause(&mut rest, "tagValue")?;
    if !rest.is_empty() {
        return Err(format!(
            "only one tag name and value may be filtered on; `{rest}` follows it"
        ));
    }
    Ok(TagFilter {
        name,
        value: Some(value),
    })
}

/// `PROPERTY eq 'TEXT'`: the text.
fn clause(rest: &mut &str, property: &str) -> Result<String, String> {
    keyword(rest, property)?;
    keyword(rest, "eq")?;
    quoted(rest)
}

fn keyword(rest: &mut &str, word: &str) -> Result<(), String> {
    let (head, tail) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    if !head.eq_ignore_ascii_case(word) {
        return Err(format!("expected `{word}`, found `{head}`"));
    }
    *rest = tail.trim_start();
    Ok(())
}

fn quoted(rest: &mut &str) -> Result<String, String> {
    let Some(body) = rest.strip_prefix('\'') else {
        return Err(format!("expected a quoted string, found `{rest}`"));
    };
    let mut out = String::new();
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\'' {
            out.push(c);
            continue;
        }
        // OData doubles a quote inside a string.
        if chars.peek().is_some_and(|(_, n)| *n == '\'') {
            chars.next();
            out.push('\'');
            continue;
        }
        *rest = body[i + 1..].trim_start();
        return Ok(out);
    }
    Err("an unterminated quoted string".to_string())
}

/// Percent-encodes a query value for a nextLink.
pub fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_name_and_value_pair_is_read_in_any_keyword_case() {
        assert_eq!(
            parse("tagname eq 'env' AND tagValue eq 'O''Brien'"),
            Ok(TagFilter {
                name: "env".into(),
                value: Some("O'Brien".into())
            })
        );
        assert_eq!(
            parse("tagName eq 'env'"),
            Ok(TagFilter {
                name: "env".into(),
                value: None
            })
        );
    }

    #[test]
    fn two_pairs_or_other_properties_are_refused() {
        assert!(
            parse("tagName eq 'a' and tagValue eq 'b' and tagName eq 'c' and tagValue eq 'd'")
                .is_err()
        );
        assert!(parse("resourceType eq 'Microsoft.Network/virtualNetworks'").is_err());
        assert!(parse("tagName eq 'a").is_err());
    }

    #[test]
    fn names_match_without_case_and_values_exactly() {
        let f = parse("tagName eq 'ENV' and tagValue eq 'dev'").expect("filter");
        assert!(f.matches(&json!({"tags": {"env": "dev"}})));
        assert!(!f.matches(&json!({"tags": {"env": "Dev"}})));
        assert!(!f.matches(&json!({"name": "untagged"})));
    }
}
