//! The provider trait every cloud adapter implements, its request and response structs, typed
//! errors, and the catalog that maps provider names to their schemas and constructors.
//!
//! This crate is the stable boundary between the engine and the adapters: adapters (the AWS one
//! with its SDK crates) depend on it alone, so editing the engine never recompiles them.
//!
//! Requests and responses are structs so that adding a field never breaks an adapter. Reads take
//! many instances of one type at once so an adapter can batch them into one API call per page.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::schema::{Schema, SchemaRegistry};
use crate::value::Value;

/// A provider instance's configuration: one `providers:` entry of an environment.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProviderConfig {
    /// `fake`, `aws`, `azurerm`.
    pub name: String,
    /// `dr` for `aws.dr`.
    pub alias: Option<String>,
    /// The block's settings (`region`, `latency_ms`, ...), fully evaluated.
    pub settings: Value,
    /// The project directory the environment was loaded from.
    pub project_dir: PathBuf,
    pub environment: String,
}

impl ProviderConfig {
    /// `fake` or `fake.dr`: how resources and plans name this instance.
    pub fn key(&self) -> String {
        match &self.alias {
            Some(alias) => format!("{}.{alias}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Reads many instances of one type. Instances missing from the response are gone.
#[derive(Clone, Debug)]
pub struct ReadRequest {
    pub resource_type: String,
    pub items: Vec<ReadItem>,
}

#[derive(Clone, Debug)]
pub struct ReadItem {
    pub address: String,
    /// The cloud id, when the create completed.
    pub id: Option<String>,
    /// The idempotency token of a create that may or may not have completed (a crash between
    /// the cloud's answer and the state write). The adapter finds the resource by it.
    pub token: Option<String>,
    /// When that create's intent was recorded (seconds since the Unix epoch). An adapter that
    /// can only find a pending create's object by its name (no token, no tag yet) refuses one
    /// the cloud says was made before it: that object was there already, not made by the create.
    pub since: Option<u64>,
    /// Last known attributes.
    pub prior: Value,
}

#[derive(Clone, Debug, Default)]
pub struct ReadResponse {
    /// By address: the instances that exist.
    pub found: BTreeMap<String, ReadResult>,
}

#[derive(Clone, Debug)]
pub struct ReadResult {
    pub id: String,
    pub attributes: Value,
}

#[derive(Clone, Debug)]
pub struct CreateRequest {
    pub address: String,
    pub resource_type: String,
    /// Every settable attribute, resolved; sensitive ones wrapped in `Value::Sensitive`.
    pub config: Value,
    /// Unique per create attempt of this address; a retried create with the same token must not
    /// create a second resource.
    pub token: String,
    /// How long the create may wait for the resource to become usable (`timeouts.create` in the
    /// spec); `None`: the type's own default.
    pub timeout: Option<Duration>,
}

/// A resource's `timeouts:` block: how long each operation may wait before it fails with
/// [`ErrorKind::Timeout`]. Unset operations use the type's default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Timeouts {
    #[serde(default, skip_serializing_if = "Option::is_none", with = "secs")]
    pub create: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "secs")]
    pub update: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "secs")]
    pub delete: Option<Duration>,
}

impl Timeouts {
    pub fn is_empty(&self) -> bool {
        *self == Timeouts::default()
    }
}

/// Durations in saved plans as seconds, readable by people and other tools.
mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_f64(d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let secs = Option::<f64>::deserialize(d)?;
        secs.map(|s| Duration::try_from_secs_f64(s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[derive(Clone, Debug)]
pub struct CreateResponse {
    pub id: String,
    /// All attributes, computed ones included.
    pub attributes: Value,
}

#[derive(Clone, Debug)]
pub struct UpdateRequest {
    pub address: String,
    pub resource_type: String,
    pub id: String,
    pub prior: Value,
    /// The desired attributes, except sensitive ones that did not change and whose plaintext
    /// cairn no longer has (state keeps secrets only as digests): leave those as they are.
    pub config: Value,
    /// Names of the top-level attributes that differ.
    pub changed: Vec<String>,
    /// `timeouts.update` of the spec; `None`: the type's default.
    pub timeout: Option<Duration>,
}

#[derive(Clone, Debug)]
pub struct UpdateResponse {
    pub attributes: Value,
}

#[derive(Clone, Debug)]
pub struct DeleteRequest {
    pub address: String,
    pub resource_type: String,
    pub id: String,
    pub prior: Value,
    /// `timeouts.delete` of the spec; `None`: the type's default.
    pub timeout: Option<Duration>,
}

#[derive(Clone, Debug)]
pub struct DeleteResponse {}

/// Reads a data source (`aws_availability_zones`).
#[derive(Clone, Debug)]
pub struct DataRequest {
    pub address: String,
    pub resource_type: String,
    pub config: Value,
}

#[derive(Clone, Debug)]
pub struct DataResponse {
    pub attributes: Value,
}

/// What went wrong, as far as the engine needs to decide what to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// During refresh: the resource is gone.
    NotFound,
    /// Retried with exponential backoff and jitter.
    Throttled,
    AccessDenied,
    /// Already exists, in use, or a concurrent modification.
    Conflict,
    /// The request was rejected as invalid.
    Invalid,
    /// Waiting for the resource to become usable took too long.
    Timeout,
    Other,
}

#[derive(Clone, Debug, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub kind: ErrorKind,
    pub message: String,
    /// The server asked to wait this long before retrying.
    pub retry_after: Option<Duration>,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ProviderError {
        ProviderError {
            kind,
            message: message.into(),
            retry_after: None,
        }
    }
}

/// A cloud adapter. One instance per `providers:` entry (alias), shared by concurrent tasks.
#[async_trait]
pub trait Provider: Send + Sync {
    async fn read(&self, req: ReadRequest) -> Result<ReadResponse, ProviderError>;
    async fn create(&self, req: CreateRequest) -> Result<CreateResponse, ProviderError>;
    async fn update(&self, req: UpdateRequest) -> Result<UpdateResponse, ProviderError>;
    async fn delete(&self, req: DeleteRequest) -> Result<DeleteResponse, ProviderError>;
    async fn read_data(&self, req: DataRequest) -> Result<DataResponse, ProviderError>;
    /// Every object in this provider instance's region (or scope) that carries all of `tags`,
    /// for finding what no state tracks (`cairn drift`). `None` when the provider cannot search
    /// by tag.
    async fn find_tagged(
        &self,
        _tags: &BTreeMap<String, String>,
    ) -> Result<Option<Vec<TaggedObject>>, ProviderError> {
        Ok(None)
    }
}

/// An object found by its tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaggedObject {
    /// Its global id (an AWS ARN, an Azure resource id).
    pub id: String,
    /// The cloud's own name for its kind (`ec2:vpc`, `s3`), for messages.
    pub kind: String,
    pub tags: BTreeMap<String, String>,
}

/// Builds a provider instance from its configuration.
pub type ProviderFactory = fn(&ProviderConfig) -> Result<Arc<dyn Provider>, ProviderError>;

/// Every provider cairn ships: their schemas and constructors.
#[derive(Clone, Default)]
pub struct Catalog {
    pub schemas: SchemaRegistry,
    factories: BTreeMap<&'static str, ProviderFactory>,
}

impl Catalog {
    pub fn register_provider(&mut self, name: &'static str, factory: ProviderFactory) {
        self.factories.insert(name, factory);
    }

    pub fn register_schema(&mut self, schema: Schema) {
        self.schemas.register(schema);
    }

    pub fn provider_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.factories.keys().copied()
    }

    pub fn instantiate(&self, config: &ProviderConfig) -> Result<Arc<dyn Provider>, ProviderError> {
        let factory = self.factories.get(config.name.as_str()).ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Invalid,
                format!("unknown provider `{}`", config.name),
            )
        })?;
        factory(config)
    }
}

/// The provider instances of one run, by key (`fake`, `fake.dr`).
#[derive(Clone, Default)]
pub struct ProviderSet {
    pub instances: BTreeMap<String, Arc<dyn Provider>>,
}

impl ProviderSet {
    pub fn from_configs(
        catalog: &Catalog,
        configs: &[ProviderConfig],
    ) -> Result<ProviderSet, ProviderError> {
        let mut instances = BTreeMap::new();
        for config in configs {
            instances.insert(config.key(), catalog.instantiate(config)?);
        }
        Ok(ProviderSet { instances })
    }

    pub fn get(&self, key: &str) -> Result<&Arc<dyn Provider>, ProviderError> {
        self.instances.get(key).ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Invalid,
                format!("provider `{key}` is not configured in this environment's `providers:`"),
            )
        })
    }
}
