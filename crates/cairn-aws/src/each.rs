//! Reading many objects one call each, for the APIs with no batch read (KMS DescribeKey, IAM
//! GetRole, ...): concurrently, with a bound so a large refresh does not trip AWS's throttling.
//! Keyed by whatever identifies the object; `s3::read_each` is this with the bucket as input.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use cairn_provider::provider::{ErrorKind, ProviderError};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Reads in flight at once for one refresh.
const CONCURRENCY: usize = 8;

/// Calls `read(input)` for every `(key, input)`, at most [`CONCURRENCY`] at a time, and returns
/// what was found by key (an address, a role name). `Ok(None)` and NotFound errors mean the
/// object is gone; any other error fails the whole read.
pub async fn read_each<K, I, T, F, Fut>(
    inputs: impl IntoIterator<Item = (K, I)>,
    read: F,
) -> Result<BTreeMap<K, T>, ProviderError>
where
    K: Ord + Send + 'static,
    I: Send + 'static,
    T: Send + 'static,
    F: Fn(I) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<Option<T>, ProviderError>> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = JoinSet::new();
    for (key, input) in inputs {
        let (read, permits) = (read.clone(), permits.clone());
        tasks.spawn(crate::calls::carried(async move {
            let _permit = permits.acquire_owned().await;
            let result = read(input).await;
            (key, result)
        }));
    }
    let mut found = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (key, result) = joined
            .map_err(|e| ProviderError::new(ErrorKind::Other, format!("a read failed: {e}")))?;
        match result {
            Ok(Some(object)) => {
                found.insert(key, object);
            }
            Ok(None) => {}
            Err(e) if e.kind == ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn found_objects_are_kept_and_gone_ones_left_out() {
        let found = read_each((1..=4).map(|n| (n, n)), |n: u32| async move {
            match n {
                1 => Ok(Some("one")),
                2 => Ok(None),
                3 => Err(ProviderError::new(ErrorKind::NotFound, "gone")),
                _ => Ok(Some("four")),
            }
        })
        .await
        .unwrap();
        assert_eq!(found, BTreeMap::from([(1, "one"), (4, "four")]));
    }

    #[tokio::test]
    async fn any_other_error_fails_the_read() {
        let err = read_each([("a", "a"), ("b", "b")], |k: &'static str| async move {
            match k {
                "a" => Ok(Some(1)),
                _ => Err(ProviderError::new(ErrorKind::Throttled, "Throttling")),
            }
        })
        .await
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Throttled);
    }

    #[tokio::test]
    async fn no_more_than_the_bound_run_at_once() {
        let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (r, p) = (running.clone(), peak.clone());
        read_each((0..40).map(|n| (n, n)), move |_: u32| {
            let (running, peak) = (r.clone(), p.clone());
            async move {
                use std::sync::atomic::Ordering::SeqCst;
                let now = running.fetch_add(1, SeqCst) + 1;
                peak.fetch_max(now, SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                running.fetch_sub(1, SeqCst);
                Ok(Some(()))
            }
        })
        .await
        .unwrap();
        assert!(peak.load(std::sync::atomic::Ordering::SeqCst) <= CONCURRENCY);
    }
}
