//! What the S3 types share: S3 has no batch read, so each bucket of a refresh is read on its own,
//! concurrently with a bound, and "no such bucket / configuration" means gone.

use std::collections::BTreeMap;
use std::future::Future;

use cairn_provider::provider::{ProviderError, ReadItem, ReadResult};
use cairn_provider::value::Value;

use crate::attrs::text;
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
