//! What the S3 types share: S3 has no batch read, so each bucket of a refresh is read on its own,
//! concurrently with a bound, and "no such bucket / configuration" means gone.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use cairn_provider::provider::{ErrorKind, ProviderError, ReadItem, ReadResult};
use cairn_provider::value::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::attrs::text;

/// Bucket reads in flight at once for one refresh.
const CONCURRENCY: usize = 8;

/// The bucket an item is about: its id, or for a create that may have happened unrecorded, the
/// name its configuration asked for.
fn bucket_of(item: &ReadItem) -> Option<String> {
    item.id
        .clone()
        .or_else(|| text(&item.prior, "bucket").map(String::from))
}

/// Reads every item with `read(client, bucket, item)`, at most [`CONCURRENCY`] at a time.
/// `Ok(None)` and NotFound errors mean the object is gone; the result's id is the bucket name.
pub async fn read_each<F, Fut>(
    client: &aws_sdk_s3::Client,
    items: &[ReadItem],
    read: F,
) -> Result<BTreeMap<String, ReadResult>, ProviderError>
where
    F: Fn(aws_sdk_s3::Client, String, ReadItem) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<Option<Value>, ProviderError>> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = JoinSet::new();
    for item in items {
        let Some(bucket) = bucket_of(item) else {
            continue;
        };
        let (client, item, read, permits) =
            (client.clone(), item.clone(), read.clone(), permits.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let address = item.address.clone();
            let result = read(client, bucket.clone(), item).await;
            (address, bucket, result)
        });
    }
    let mut found = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (address, bucket, result) = joined
            .map_err(|e| ProviderError::new(ErrorKind::Other, format!("an S3 read failed: {e}")))?;
        match result {
            Ok(Some(attributes)) => {
                found.insert(
                    address,
                    ReadResult {
                        id: bucket,
                        attributes,
                    },
                );
            }
            Ok(None) => {}
            Err(e) if e.kind == ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}
