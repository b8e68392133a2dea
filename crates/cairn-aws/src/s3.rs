//! What the S3 types share: S3 has no batch read, so each bucket of a refresh is read on its own,
//! concurrently with a bound, and "no such bucket / configuration" means gone.

use std::collections::BTreeMap;
use std::future::Future;

use cairn_provider::provider::{ErrorKind, ProviderError, ReadItem, ReadResult};
use cairn_provider::value::Value;

use crate::attrs::{Attrs, text};
use crate::each;

/// The bucket an item is about: its id, or for a create that may have happened unrecorded, the
/// name its configuration asked for.
fn bucket_of(item: &ReadItem) -> Option<String> {
    item.id
        .clone()
        .or_else(|| text(&item.prior, "bucket").map(String::from))
}

/// Reads every item with `read(client, bucket, item)`, a bounded number at a time
/// ([`crate::each::read_each`]). `Ok(None)` and NotFound errors mean the object is gone; the
/// result's id is the bucket name.
pub async fn read_each<F, Fut>(
    client: &aws_sdk_s3::Client,
    items: &[ReadItem],
    read: F,
) -> Result<BTreeMap<String, ReadResult>, ProviderError>
where
    F: Fn(aws_sdk_s3::Client, String, ReadItem) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<Value>, ProviderError>> + Send + 'static,
{
    let inputs = items.iter().filter_map(|item| {
        let bucket = bucket_of(item)?;
        Some((item.address.clone(), (client.clone(), bucket, item.clone())))
    });
    let found = each::read_each(inputs, move |(client, bucket, item)| {
        let read = read.clone();
        async move {
            let attributes = read(client, bucket.clone(), item).await?;
            Ok(attributes.map(|attributes| ReadResult {
                id: bucket,
                attributes,
            }))
        }
    })
    .await?;
    Ok(found)
}

/// The attributes of a bucket setting whose one setting is its `rule` list (encryption,
/// lifecycle): the rules AWS reports, in the shape of the prior's.
pub fn rule_settings(bucket: &str, rules: Value, prior: &Value) -> Value {
    let prior_rules = prior.get("rule").cloned().unwrap_or(Value::Null);
    Attrs::new()
        .set("id", bucket)
        .set("bucket", bucket)
        .set("rule", shaped_like(rules, &prior_rules))
        .build()
}

/// Deleting a bucket setting that is already gone (or whose bucket is) succeeded.
pub fn already_gone_is_deleted(deleted: Result<(), ProviderError>) -> Result<(), ProviderError> {
    match deleted {
        Err(e) if e.kind != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// `read` in the shape of `prior` (the configuration or the last state): values AWS reports
/// for settings the prior leaves out are dropped when they are what leaving them out means
/// (an empty prefix, `false`, an empty block), so an omitted optional setting reads back as
/// omitted and a re-plan is empty. Everything else is kept, so real drift still shows.
pub fn shaped_like(read: Value, prior: &Value) -> Value {
    let prior = prior.expose();
    match read {
        Value::Map(fields) => {
            let empty = BTreeMap::new();
            let before = prior.as_map().unwrap_or(&empty);
            let mut out = BTreeMap::new();
            for (k, v) in fields {
                let p = before.get(&k).map(Value::expose).unwrap_or(&Value::Null);
                let v = shaped_like(v, p);
                if *p == Value::Null && means_unset(&v) {
                    continue;
                }
                out.insert(k, v);
            }
            Value::Map(out)
        }
        Value::List(items) => {
            let before = prior.as_list().unwrap_or_default();
            Value::List(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| shaped_like(v, before.get(i).unwrap_or(&Value::Null)))
                    .collect(),
            )
        }
        other => other,
    }
}

fn means_unset(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn omitted_settings_read_back_omitted_and_written_ones_as_written() {
        let read = Value::List(vec![map(&[
            ("id", Value::string("logs")),
            ("filter", map(&[("prefix", Value::string(""))])),
            ("transition", Value::List(Vec::new())),
            ("bucket_key_enabled", Value::Bool(false)),
        ])]);
        let omitted = Value::List(vec![map(&[("id", Value::string("logs"))])]);
        assert_eq!(
            shaped_like(read.clone(), &omitted),
            Value::List(vec![map(&[("id", Value::string("logs"))])])
        );
        let written = Value::List(vec![map(&[
            ("id", Value::string("logs")),
            ("filter", map(&[("prefix", Value::string(""))])),
            ("bucket_key_enabled", Value::Bool(false)),
        ])]);
        assert_eq!(shaped_like(read, &written), written);
    }

    #[test]
    fn drift_is_kept_even_where_the_prior_is_silent() {
        let read = map(&[
            ("expiration", map(&[("days", Value::Number(30.0))])),
            ("bucket_key_enabled", Value::Bool(true)),
        ]);
        assert_eq!(shaped_like(read.clone(), &Value::Null), read);
    }
}
