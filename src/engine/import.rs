//! Import: bring an existing cloud resource under management by reading it by id and recording
//! it in state at an address the spec declares, without creating or changing anything.
//!
//! The read goes through the same batched provider read as refresh, with the spec's known
//! configuration standing in for the prior attributes: some ids do not carry everything a read
//! needs (a route's table and destination), and attributes only cairn keeps (`force_destroy`)
//! then take the spec's value instead of drifting on the next plan.

use crate::addr::{ResourceAddr, ResourceMode};
use crate::plan::ResourceChange;
use crate::plan::diff::display_value;
use crate::providers::{ProviderError, ProviderSet, ReadItem, ReadRequest};
use crate::spec::expr::ast::Expr;
use crate::state::{ResourceState, ResourceStatus, State, seal};
use crate::value::Value;

use super::Cancel;
use super::retry::{RetryPolicy, retrying};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(
        "{address} is already managed (id {id}); to import another object there, first remove it from state"
    )]
    AlreadyManaged { address: ResourceAddr, id: String },
    #[error("{address} is a data source; only managed resources can be imported")]
    DataSource { address: ResourceAddr },
    #[error(
        "no {resource_type} with id `{id}` exists for provider `{provider}`; check the id and the provider's region"
    )]
    NotFound {
        resource_type: String,
        id: String,
        provider: String,
    },
    #[error("reading {resource_type} `{id}` through provider `{provider}` failed: {source}")]
    Read {
        resource_type: String,
        id: String,
        provider: String,
        #[source]
        source: ProviderError,
    },
}

/// Reads `id` as the instance `change` plans and records it in `state`. Returns the recorded
/// entry; the caller persists the state.
pub async fn import(
    state: &mut State,
    change: &ResourceChange,
    id: &str,
    providers: &ProviderSet,
) -> Result<ResourceState, ImportError> {
    let address = change.address.clone();
    if change.mode != ResourceMode::Managed {
        return Err(ImportError::DataSource { address });
    }
    if let Some(existing) = state.resources.get(&address) {
        return Err(ImportError::AlreadyManaged {
            address,
            id: existing.id.clone().unwrap_or_else(|| "pending".to_string()),
        });
    }
    let read_error = |source: ProviderError| ImportError::Read {
        resource_type: change.resource_type.clone(),
        id: id.to_string(),
        provider: change.provider.clone(),
        source,
    };
    let provider = providers.get(&change.provider).map_err(read_error)?.clone();
    let request = ReadRequest {
        resource_type: change.resource_type.clone(),
        items: vec![ReadItem {
            address: address.to_string(),
            id: Some(id.to_string()),
            token: None,
            since: None,
            prior: change
                .after
                .as_ref()
                .map(known_config)
                .unwrap_or(Value::Null),
        }],
    };
    let mut response = retrying(
        &RetryPolicy::default(),
        &Cancel::new(),
        || provider.read(request.clone()),
        |_, _, _| {},
    )
    .await
    .map_err(read_error)?;
    let found =
        response
            .found
            .remove(&address.to_string())
            .ok_or_else(|| ImportError::NotFound {
                resource_type: change.resource_type.clone(),
                id: id.to_string(),
                provider: change.provider.clone(),
            })?;
    let entry = ResourceState {
        resource_type: change.resource_type.clone(),
        mode: ResourceMode::Managed,
        provider: change.provider.clone(),
        status: ResourceStatus::Created,
        id: Some(found.id),
        attributes: std::sync::Arc::new(seal(&found.attributes, &state.lineage)),
        dependencies: change.depends_on.clone(),
    };
    state.resources.insert(address, entry.clone());
    Ok(entry)
}

/// The attributes of a planned configuration that are known before apply.
fn known_config(after: &Expr) -> Value {
    match display_value(after) {
        Value::Map(attrs) => Value::Map(
            attrs
                .into_iter()
                .filter(|(_, v)| !matches!(v, Value::Unknown))
                .collect(),
        ),
        _ => Value::Null,
    }
}
