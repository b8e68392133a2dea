//! Refresh: what really exists, for every instance state knows, in one batched read per
//! (provider, type), the groups read concurrently.
//!
//! Pending create intents are looked up by their idempotency token and adopted when the cloud
//! did create them, or forgotten when it did not. Deposed instances are read too.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::{debug, info};

use crate::addr::{ResourceAddr, ResourceMode};
use crate::providers::{ProviderError, ProviderSet, ReadItem, ReadRequest, ReadResponse};
use crate::state::{ResourceStatus, State, seal};
use crate::value::Value;

use super::retry::retrying;
use super::{Cancel, EngineError, RefreshOptions, Refreshed};

/// Which state entry a read item stands for.
#[derive(Clone, Debug)]
enum Target {
    Current(ResourceAddr),
    /// An index into `state.deposed`.
    Deposed(usize),
}

/// Reads every managed instance of `state` and returns what the cloud has.
pub async fn refresh(
    state: &State,
    providers: &ProviderSet,
    opts: &RefreshOptions,
) -> Result<Refreshed, EngineError> {
    let mut groups: BTreeMap<(String, String), Vec<(Target, ReadItem)>> = BTreeMap::new();
    for (addr, resource) in &state.resources {
        // Data sources are re-read by the planner, not refreshed.
        if resource.mode != ResourceMode::Managed {
            continue;
        }
        let token = match &resource.status {
            ResourceStatus::Pending { token } => Some(token.clone()),
            ResourceStatus::Created => None,
        };
        let item = ReadItem {
            address: addr.to_string(),
            id: resource.id.clone(),
            token,
            prior: resource.attributes.clone(),
        };
        groups
            .entry((resource.provider.clone(), resource.resource_type.clone()))
            .or_default()
            .push((Target::Current(addr.clone()), item));
    }
    for (index, deposed) in state.deposed.iter().enumerate() {
        let item = ReadItem {
            // Unique within the request even when the address also has a current instance.
            address: format!("{} (deposed {})", deposed.address, deposed.id),
            id: Some(deposed.id.clone()),
            token: None,
            prior: deposed.attributes.clone(),
        };
        groups
            .entry((deposed.provider.clone(), deposed.resource_type.clone()))
            .or_default()
            .push((Target::Deposed(index), item));
    }

    let permits = Arc::new(Semaphore::new(
        opts.parallelism.clamp(1, Semaphore::MAX_PERMITS),
    ));
    let mut reads = JoinSet::new();
    for ((provider_key, resource_type), entries) in groups {
        let provider = providers.get(&provider_key)?.clone();
        let permits = permits.clone();
        let policy = opts.retry.clone();
        reads.spawn(async move {
            let (targets, items): (Vec<Target>, Vec<ReadItem>) = entries.into_iter().unzip();
            let count = items.len();
            let request = ReadRequest {
                resource_type: resource_type.clone(),
                items,
            };
            let result: Result<ReadResponse, ProviderError> = async {
                // Closed only if the semaphore is dropped, which this function never does.
                let _permit = permits.acquire().await.map_err(|e| {
                    ProviderError::new(crate::providers::ErrorKind::Other, e.to_string())
                })?;
                debug!(provider = %provider_key, %resource_type, count, "reading");
                retrying(
                    &policy,
                    &Cancel::new(),
                    || provider.read(request.clone()),
                    |retry, delay, error| {
                        info!(provider = %provider_key, %resource_type, retry, ?delay, %error, "read throttled, retrying");
                    },
                )
                .await
            }
            .await;
            match result {
                Ok(response) => Ok((targets, request.items, response)),
                Err(source) => Err(EngineError::Read {
                    provider: provider_key,
                    resource_type,
                    count,
                    source,
                }),
            }
        });
    }

    let mut refreshed = Refreshed {
        state: state.clone(),
        live: BTreeMap::new(),
        gone: Vec::new(),
        adopted: Vec::new(),
    };
    let mut deposed_found = vec![false; state.deposed.len()];
    while let Some(joined) = reads.join_next().await {
        let (targets, items, mut response) = joined.map_err(|e| {
            EngineError::Provider(ProviderError::new(
                crate::providers::ErrorKind::Other,
                format!("a refresh task failed: {e}"),
            ))
        })??;
        for (target, item) in targets.into_iter().zip(items) {
            let found = response.found.remove(&item.address);
            match target {
                Target::Current(addr) => {
                    let Some(resource) = refreshed.state.resources.get_mut(&addr) else {
                        continue;
                    };
                    match found {
                        Some(found) => {
                            let live = keep_omitted_secrets(&resource.attributes, found.attributes);
                            if matches!(resource.status, ResourceStatus::Pending { .. }) {
                                refreshed.adopted.push(addr.clone());
                            }
                            resource.status = ResourceStatus::Created;
                            resource.id = Some(found.id);
                            resource.attributes = seal(&live, &state.lineage);
                            refreshed.live.insert(addr, live);
                        }
                        None => {
                            let was_created = resource.status == ResourceStatus::Created;
                            refreshed.state.resources.remove(&addr);
                            // A pending intent the cloud never acted on was not "gone": it never was.
                            if was_created {
                                refreshed.gone.push(addr);
                            }
                        }
                    }
                }
                Target::Deposed(index) => {
                    if let Some(found) = found {
                        deposed_found[index] = true;
                        let deposed = &mut refreshed.state.deposed[index];
                        let live = keep_omitted_secrets(&deposed.attributes, found.attributes);
                        deposed.attributes = seal(&live, &state.lineage);
                    }
                }
            }
        }
    }
    let mut index = 0;
    refreshed.state.deposed.retain(|_| {
        index += 1;
        deposed_found[index - 1]
    });
    refreshed.gone.sort();
    refreshed.adopted.sort();
    Ok(refreshed)
}

/// The attributes as read, plus the sealed value of each secret state had that the read left
/// out: clouds never return write-only secrets such as passwords, and that is not drift.
pub(super) fn keep_omitted_secrets(prior: &Value, read: Value) -> Value {
    match (prior, read) {
        (Value::Map(prior), Value::Map(mut read)) => {
            for (key, value) in prior {
                if value.is_sensitive() && !read.contains_key(key) {
                    read.insert(key.clone(), value.clone());
                }
            }
            Value::Map(read)
        }
        (_, read) => read,
    }
}
