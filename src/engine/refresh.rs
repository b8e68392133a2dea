//! Refresh: what really exists, for every instance state knows, in one batched read per
//! (provider, type), the groups read concurrently.
//!
//! Pending create intents are looked up by their idempotency token and adopted when the cloud
//! did create them, or forgotten when it did not. Deposed instances are read too.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

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

/// The read items of one (provider, type), each with the state entry it stands for.
type Groups = BTreeMap<(String, String), Vec<(Target, ReadItem)>>;

/// Reads every managed instance of `state` and returns what the cloud has.
pub async fn refresh(
    state: &State,
    providers: &ProviderSet,
    opts: &RefreshOptions,
) -> Result<Refreshed, EngineError> {
    let mut groups: Groups = BTreeMap::new();
    for (addr, resource) in &state.resources {
        // Data sources are re-read by the planner, not refreshed.
        if resource.mode != ResourceMode::Managed {
            continue;
        }
        let (token, since) = match &resource.status {
            ResourceStatus::Pending { token, since } => (Some(token.clone()), *since),
            ResourceStatus::Created => (None, None),
        };
        let item = ReadItem {
            address: addr.to_string(),
            id: resource.id.clone(),
            token,
            since,
            prior: (*resource.attributes).clone(),
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
            since: None,
            prior: deposed.attributes.clone(),
        };
        groups
            .entry((deposed.provider.clone(), deposed.resource_type.clone()))
            .or_default()
            .push((Target::Deposed(index), item));
    }

    let mut refreshed = Refreshed {
        state: state.clone(),
        live: BTreeMap::new(),
        gone: Vec::new(),
        adopted: Vec::new(),
    };
    let mut deposed_found = vec![false; state.deposed.len()];
    // Intents recorded moments ago whose object is not there (yet): see below.
    let mut unsettled: Groups = BTreeMap::new();
    let mut settle_until = SystemTime::UNIX_EPOCH;
    for (key, targets, items, mut response) in read_groups(groups, providers, opts).await? {
        for (target, item) in targets.into_iter().zip(items) {
            let found = response.found.remove(&item.address);
            match target {
                Target::Current(addr) => {
                    let Some(resource) = refreshed.state.resources.get_mut(&addr) else {
                        continue;
                    };
                    match found {
                        Some(found) => adopt(&mut refreshed, state, addr, found),
                        None => {
                            if let ResourceStatus::Pending {
                                since: Some(since), ..
                            } = resource.status
                            {
                                let until = SystemTime::UNIX_EPOCH
                                    + Duration::from_secs(since)
                                    + opts.settle;
                                if until > SystemTime::now() {
                                    settle_until = settle_until.max(until);
                                    unsettled
                                        .entry(key.clone())
                                        .or_default()
                                        .push((Target::Current(addr.clone()), item));
                                }
                            }
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
    // A create request already sent when the last run died can reach the cloud after this
    // lookup. Named objects would then answer "already exists" and be adopted; unnamed ones (a
    // KMS key) would be made twice. So intents younger than `settle` that found nothing are
    // looked up once more when that time is up: the wait is paid only right after a crash.
    if !unsettled.is_empty() {
        let wait = settle_until
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        let count: usize = unsettled.values().map(Vec::len).sum();
        info!(
            count,
            ?wait,
            "creates of an interrupted run not found yet; waiting for requests that may still be in flight"
        );
        tokio::time::sleep(wait).await;
        for (_, targets, items, mut response) in read_groups(unsettled, providers, opts).await? {
            for (target, item) in targets.into_iter().zip(items) {
                if let (Target::Current(addr), Some(found)) =
                    (target, response.found.remove(&item.address))
                    && let Some(recorded) = state.resources.get(&addr)
                {
                    refreshed
                        .state
                        .resources
                        .insert(addr.clone(), recorded.clone());
                    adopt(&mut refreshed, state, addr, found);
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

/// Records what a read found for an address state knows: created (adopted, if it was an
/// intent), with the cloud's id and attributes.
fn adopt(
    refreshed: &mut Refreshed,
    state: &State,
    addr: ResourceAddr,
    found: crate::providers::ReadResult,
) {
    let Some(resource) = refreshed.state.resources.get_mut(&addr) else {
        return;
    };
    let live = keep_omitted_secrets(&resource.attributes, found.attributes);
    if matches!(resource.status, ResourceStatus::Pending { .. }) {
        refreshed.adopted.push(addr.clone());
    }
    resource.status = ResourceStatus::Created;
    resource.id = Some(found.id);
    resource.attributes = std::sync::Arc::new(seal(&live, &state.lineage));
    refreshed.live.insert(addr, live);
}

/// One batched read per group, the groups read concurrently (bounded), throttling retried.
async fn read_groups(
    groups: Groups,
    providers: &ProviderSet,
    opts: &RefreshOptions,
) -> Result<Vec<((String, String), Vec<Target>, Vec<ReadItem>, ReadResponse)>, EngineError> {
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
                Ok(response) => Ok(((provider_key, resource_type), targets, request.items, response)),
                Err(source) => Err(EngineError::Read {
                    provider: provider_key,
                    resource_type,
                    count,
                    source,
                }),
            }
        });
    }
    let mut all = Vec::new();
    while let Some(joined) = reads.join_next().await {
        all.push(joined.map_err(|e| {
            EngineError::Provider(ProviderError::new(
                crate::providers::ErrorKind::Other,
                format!("a refresh task failed: {e}"),
            ))
        })??);
    }
    Ok(all)
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
