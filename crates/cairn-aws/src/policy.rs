//! IAM and KMS policy documents: JSON strings that AWS stores in its own form. IAM returns them
//! URL-encoded, and both services may reorder keys, drop whitespace, or turn a one-element list
//! into a string. Reads keep the configuration's text whenever the document AWS holds means the
//! same, so only real edits show in a plan.

use serde_json::Value as Json;

/// Keys whose value AWS accepts as a single item or a list of them, with the same meaning.
const ONE_OR_MANY: [&str; 9] = [
    "Statement",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "AWS",
    "Service",
    "Federated",
    "CanonicalUser",
];

/// Undoes the percent-encoding IAM applies to the documents it returns (RFC 3986: `+` is a
/// literal plus, not a space).
pub fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The document in a canonical form: one-or-many values as lists, every list (statements,
/// actions, resources: all sets in IAM's grammar) sorted. Key order needs no work, JSON objects
/// compare without it.
fn canonical(value: &Json) -> Json {
    match value {
        Json::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = canonical(v);
                    let v = match v {
                        Json::Array(_) => v,
                        single if ONE_OR_MANY.contains(&k.as_str()) => {
                            canonical(&Json::Array(vec![single]))
                        }
                        other => other,
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Json::Array(items) => {
            let mut items: Vec<Json> = items.iter().map(canonical).collect();
            items.sort_by_key(|v| v.to_string());
            items.dedup();
            Json::Array(items)
        }
        other => other.clone(),
    }
}

/// Whether two policy documents mean the same. Text that is not JSON compares as text.
pub fn equivalent(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<Json>(a),
        serde_json::from_str::<Json>(b),
    ) {
        (Ok(a), Ok(b)) => canonical(&a) == canonical(&b),
        _ => a.trim() == b.trim(),
    }
}

/// The document to report for what AWS holds (`cloud`, already decoded): the configuration's
/// text (`prior`) when it means the same, else AWS's.
pub fn reconcile(cloud: &str, prior: Option<&str>) -> String {
    match prior {
        Some(prior) if equivalent(cloud, prior) => prior.to_string(),
        _ => cloud.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ECS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

    #[test]
    fn iam_url_encoding_is_undone() {
        assert_eq!(
            url_decode("%7B%22Action%22%3A%20%22s3%3AGet%2A%22%7D+x%"),
            r#"{"Action": "s3:Get*"}+x%"#
        );
    }

    #[test]
    fn key_order_whitespace_and_one_element_lists_do_not_matter() {
        let aws = r#"{
          "Statement": {"Action": ["sts:AssumeRole"], "Effect": "Allow",
                        "Principal": {"Service": ["ecs-tasks.amazonaws.com"]}},
          "Version": "2012-10-17"
        }"#;
        assert!(equivalent(ECS, aws));
        assert_eq!(reconcile(aws, Some(ECS)), ECS);
    }

    #[test]
    fn list_order_does_not_matter_but_content_does() {
        let a = r#"{"Statement":[{"Action":["s3:GetObject","s3:PutObject"],"Resource":"*"}]}"#;
        let b = r#"{"Statement":[{"Action":["s3:PutObject","s3:GetObject"],"Resource":["*"]}]}"#;
        let c = r#"{"Statement":[{"Action":["s3:GetObject"],"Resource":"*"}]}"#;
        assert!(equivalent(a, b));
        assert!(!equivalent(a, c));
        assert_eq!(reconcile(c, Some(a)), c);
        assert_eq!(reconcile(c, None), c);
    }
}
