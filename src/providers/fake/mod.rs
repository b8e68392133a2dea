//! The in-process `fake` provider: a pretend cloud for engine tests, CLI tests and benchmarks.
//!
//! It behaves like a real one where the engine can tell: objects persist across processes (a
//! JSON file, see [`cloud`]), creates fill computed attributes and are idempotent by token, the
//! API validates its input, reads are batched (one counted call per request), deletes of missing
//! objects answer NotFound, and a write-only secret (`fake_database.password`) is never returned
//! by a read: the engine then keeps the sealed value state already has.
//!
//! Settings (all optional) of `providers: { fake: { ... } }`:
//! - `store`: the cloud's file, relative to the project directory
//!   (default `.cairn/fake-cloud.json`), shared by all environments.
//! - `latency_ms`: a number for every call, or a map whose keys are `default`, a type
//!   (`fake_database`), a type and operation (`fake_database.create`) or an address; the most
//!   specific wins.
//! - `jitter`: a fraction in 0..1; each latency is scaled by a random factor in `1 ± jitter`.
//! - `failures`: a list of `{ match: ADDRESS or TYPE, operation: create|read|update|delete,
//!   error: throttled|conflict|invalid|access_denied|timeout|other|not_found, times: N }`.
//!   Without `times` the rule fails every matching call; with it, the first N (counted per
//!   process). A `timeout` on create happens after the object was made, as when a cloud's
//!   waiter gives up on a create that did go through; so does any create failure with
//!   `after: true` (a later step of the create failed, such as a throttled tagging call).
//! - `idempotent_creates`: whether a create repeating a token the cloud has seen returns that
//!   object (default true, as EC2's `ClientToken`); false models the many APIs with no token.
//! - `zones`: the names `fake_zones` returns (default `["zone-a", "zone-b", "zone-c"]`).
//! - `region`: used in ARNs and endpoints (default `fake-1`).

pub mod cloud;
mod types;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value as Json};

use super::{
    Catalog, CreateRequest, CreateResponse, DataRequest, DataResponse, DeleteRequest,
    DeleteResponse, ErrorKind, Provider, ProviderConfig, ProviderError, ReadRequest, ReadResponse,
    ReadResult, UpdateRequest, UpdateResponse,
};
use crate::schema::{Presence, Schema};
use crate::spec::diagnostic::did_you_mean;
use crate::value::Value;

pub use cloud::{CloudData, CloudObject};

/// Registers the fake provider and every type it offers.
pub fn register(catalog: &mut Catalog) {
    catalog.register_provider("fake", new_provider);
    for schema in types::schemas() {
        catalog.register_schema(schema);
    }
}

/// Where the fake cloud of this provider configuration lives.
pub fn store_path(config: &ProviderConfig) -> PathBuf {
    match config.settings.get("store").and_then(Value::as_str) {
        Some(store) => config.project_dir.join(store),
        None => config.project_dir.join(".cairn").join("fake-cloud.json"),
    }
}

fn new_provider(config: &ProviderConfig) -> Result<Arc<dyn Provider>, ProviderError> {
    Ok(Arc::new(FakeProvider::new(config)?))
}

/// One `fake` provider instance.
pub struct FakeProvider {
    cloud: Arc<cloud::CloudFile>,
    schemas: BTreeMap<&'static str, Schema>,
    settings: Settings,
    environment: String,
    /// How many times each failure rule has fired in this process.
    fired: Mutex<Vec<u32>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operation {
    Create,
    Read,
    Update,
    Delete,
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Read => "read",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

struct FailureRule {
    target: String,
    operation: Operation,
    kind: ErrorKind,
    times: Option<u32>,
    /// A create that fails after making the object.
    after: bool,
}

/// A failure a rule injects into one call.
struct Injected {
    error: ProviderError,
    after: bool,
}

struct Settings {
    default_latency_ms: f64,
    latency_ms: BTreeMap<String, f64>,
    jitter: f64,
    failures: Vec<FailureRule>,
    zones: Vec<String>,
    region: String,
    idempotent_creates: bool,
}

const SETTINGS: [&str; 7] = [
    "idempotent_creates",
    "store",
    "latency_ms",
    "jitter",
    "failures",
    "zones",
    "region",
];

fn bad_setting(message: String) -> ProviderError {
    ProviderError::new(ErrorKind::Invalid, message)
}

fn parse_settings(settings: &Value) -> Result<Settings, ProviderError> {
    let empty = BTreeMap::new();
    let map = match settings {
        Value::Null => &empty,
        other => other.as_map().ok_or_else(|| {
            bad_setting(format!(
                "provider `fake`: settings must be a map such as {{ latency_ms: 5 }}, not a {}",
                other.type_name()
            ))
        })?,
    };
    for key in map.keys() {
        if !SETTINGS.contains(&key.as_str()) {
            let hint = match did_you_mean(key, SETTINGS) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("expected one of: {}", SETTINGS.join(", ")),
            };
            return Err(bad_setting(format!(
                "provider `fake`: unknown setting `{key}`; {hint}"
            )));
        }
    }
    let mut parsed = Settings {
        default_latency_ms: 0.0,
        latency_ms: BTreeMap::new(),
        jitter: 0.0,
        failures: Vec::new(),
        zones: vec!["zone-a".into(), "zone-b".into(), "zone-c".into()],
        region: "fake-1".into(),
        idempotent_creates: true,
    };
    match map.get("latency_ms") {
        None => {}
        Some(v) if v.as_f64().is_some() => parsed.default_latency_ms = latency(v, "latency_ms")?,
        Some(v) => {
            let entries = v.as_map().ok_or_else(|| {
                bad_setting(
                    "provider `fake`: latency_ms must be a number of milliseconds or a map such as { default: 5, fake_database: 200 }"
                        .into(),
                )
            })?;
            for (key, value) in entries {
                let ms = latency(value, &format!("latency_ms.{key}"))?;
                if key == "default" {
                    parsed.default_latency_ms = ms;
                } else {
                    parsed.latency_ms.insert(key.clone(), ms);
                }
            }
        }
    }
    if let Some(v) = map.get("jitter") {
        parsed.jitter = v
            .as_f64()
            .filter(|j| (0.0..=1.0).contains(j))
            .ok_or_else(|| {
                bad_setting(format!(
                    "provider `fake`: jitter must be a fraction between 0 and 1, not {v}"
                ))
            })?;
    }
    if let Some(v) = map.get("zones") {
        parsed.zones = v
            .as_list()
            .and_then(|items| items.iter().map(|z| z.as_str().map(String::from)).collect())
            .ok_or_else(|| {
                bad_setting(format!(
                    "provider `fake`: zones must be a list of strings, not {v}"
                ))
            })?;
    }
    if let Some(v) = map.get("region") {
        parsed.region = v
            .as_str()
            .ok_or_else(|| {
                bad_setting(format!("provider `fake`: region must be a string, not {v}"))
            })?
            .to_string();
    }
    if let Some(v) = map.get("idempotent_creates") {
        parsed.idempotent_creates = v.as_bool().ok_or_else(|| {
            bad_setting(format!(
                "provider `fake`: idempotent_creates must be true or false, not {v}"
            ))
        })?;
    }
    if let Some(v) = map.get("failures") {
        let rules = v.as_list().ok_or_else(|| {
            bad_setting(format!(
                "provider `fake`: failures must be a list of {{ match, operation, error, times }}, not {v}"
            ))
        })?;
        for (i, rule) in rules.iter().enumerate() {
            parsed.failures.push(parse_failure(i, rule)?);
        }
    }
    Ok(parsed)
}

fn latency(value: &Value, name: &str) -> Result<f64, ProviderError> {
    value.as_f64().filter(|ms| *ms >= 0.0).ok_or_else(|| {
        bad_setting(format!(
            "provider `fake`: {name} must be a number of milliseconds (0 or more), not {value}"
        ))
    })
}

fn parse_failure(index: usize, rule: &Value) -> Result<FailureRule, ProviderError> {
    let what = format!("provider `fake`: failures[{index}]");
    let field = |name: &str| {
        rule.get(name).and_then(Value::as_str).ok_or_else(|| {
            bad_setting(format!("{what}: `{name}` is required and must be a string"))
        })
    };
    let target = field("match")?.to_string();
    let operation = match field("operation")? {
        "create" => Operation::Create,
        "read" => Operation::Read,
        "update" => Operation::Update,
        "delete" => Operation::Delete,
        other => {
            return Err(bad_setting(format!(
                "{what}: operation `{other}` is not one of create, read, update, delete"
            )));
        }
    };
    let kind = match field("error")? {
        "throttled" => ErrorKind::Throttled,
        "conflict" => ErrorKind::Conflict,
        "invalid" => ErrorKind::Invalid,
        "access_denied" => ErrorKind::AccessDenied,
        "timeout" => ErrorKind::Timeout,
        "other" => ErrorKind::Other,
        "not_found" => ErrorKind::NotFound,
        other => {
            return Err(bad_setting(format!(
                "{what}: error `{other}` is not one of throttled, conflict, invalid, access_denied, timeout, other, not_found"
            )));
        }
    };
    let times = match rule.get("times") {
        None => None,
        Some(v) => Some(
            v.as_f64()
                .filter(|n| *n >= 0.0 && n.fract() == 0.0)
                .map(|n| n as u32)
                .ok_or_else(|| {
                    bad_setting(format!("{what}: times must be a whole number, not {v}"))
                })?,
        ),
    };
    let after = match rule.get("after") {
        None => false,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| bad_setting(format!("{what}: after must be true or false, not {v}")))?,
    };
    Ok(FailureRule {
        target,
        operation,
        kind,
        times,
        after,
    })
}

fn injected(kind: ErrorKind, operation: Operation, target: &str) -> ProviderError {
    let message = match kind {
        ErrorKind::Throttled => format!(
            "Throttling: rate exceeded for {} of {target}",
            operation.name()
        ),
        ErrorKind::Conflict => format!("Conflict: {target} is being modified by another operation"),
        ErrorKind::Invalid => format!(
            "InvalidParameter: the cloud rejected the {} of {target}",
            operation.name()
        ),
        ErrorKind::AccessDenied => format!(
            "AccessDenied: not authorized to {} {target}",
            operation.name()
        ),
        ErrorKind::Timeout => format!("timed out waiting for {target} to become available"),
        ErrorKind::NotFound => format!("NotFound: {target} does not exist"),
        ErrorKind::Other => format!("InternalError: the {} of {target} failed", operation.name()),
    };
    ProviderError::new(kind, message)
}

impl FakeProvider {
    pub fn new(config: &ProviderConfig) -> Result<FakeProvider, ProviderError> {
        let settings = parse_settings(&config.settings)?;
        let fired = Mutex::new(vec![0; settings.failures.len()]);
        Ok(FakeProvider {
            cloud: Arc::new(cloud::CloudFile::new(store_path(config))),
            schemas: types::schemas()
                .into_iter()
                .map(|s| (s.type_name, s))
                .collect(),
            settings,
            environment: config.environment.clone(),
            fired,
        })
    }

    /// The fake cloud as it is now.
    pub fn snapshot(&self) -> Result<CloudData, ProviderError> {
        cloud::load(self.cloud.path())
    }

    fn schema(&self, resource_type: &str) -> Result<&Schema, ProviderError> {
        self.schemas.get(resource_type).ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Invalid,
                format!("provider `fake` has no type `{resource_type}`"),
            )
        })
    }

    /// Waits as long as the configured latency says this call takes, or until `limit` when that
    /// is shorter (the resource's `timeouts:`), and then says it timed out.
    async fn wait_limited(
        &self,
        address: Option<&str>,
        resource_type: &str,
        op: Operation,
        limit: Option<Duration>,
    ) -> Option<ProviderError> {
        let takes = self.latency(address, resource_type, op);
        match limit {
            Some(limit) if limit < takes => {
                tokio::time::sleep(limit).await;
                Some(ProviderError::new(
                    ErrorKind::Timeout,
                    format!(
                        "{} was not ready within {:?}, its `timeouts.{}` (it takes {:?} here)",
                        address.unwrap_or(resource_type),
                        limit,
                        op.name(),
                        takes
                    ),
                ))
            }
            _ => {
                if !takes.is_zero() {
                    tokio::time::sleep(takes).await;
                }
                None
            }
        }
    }

    /// Waits as long as the configured latency says this call takes.
    async fn wait(&self, address: Option<&str>, resource_type: &str, op: Operation) {
        let takes = self.latency(address, resource_type, op);
        if !takes.is_zero() {
            tokio::time::sleep(takes).await;
        }
    }

    /// How long the configured latency says this call takes.
    fn latency(&self, address: Option<&str>, resource_type: &str, op: Operation) -> Duration {
        let s = &self.settings;
        let keyed = format!("{resource_type}.{}", op.name());
        let ms = address
            .and_then(|a| s.latency_ms.get(a))
            .or_else(|| s.latency_ms.get(&keyed))
            .or_else(|| s.latency_ms.get(resource_type))
            .copied()
            .unwrap_or(s.default_latency_ms);
        let factor = if s.jitter > 0.0 {
            1.0 + s.jitter * (rand::random::<f64>() * 2.0 - 1.0)
        } else {
            1.0
        };
        Duration::from_secs_f64((ms * factor).max(0.0) / 1000.0)
    }

    /// The injected failure for this call, if a rule fires.
    fn injected_failure(
        &self,
        addresses: &[&str],
        resource_type: &str,
        op: Operation,
    ) -> Option<ProviderError> {
        self.injected(addresses, resource_type, op).map(|i| i.error)
    }

    /// [`Self::injected_failure`], saying whether the failure comes after the object was made.
    fn injected(&self, addresses: &[&str], resource_type: &str, op: Operation) -> Option<Injected> {
        let mut fired = self.fired.lock().unwrap_or_else(|p| p.into_inner());
        for (i, rule) in self.settings.failures.iter().enumerate() {
            let matches = rule.operation == op
                && (rule.target == resource_type || addresses.contains(&rule.target.as_str()));
            if !matches || rule.times.is_some_and(|n| fired[i] >= n) {
                continue;
            }
            fired[i] += 1;
            let target = addresses.first().copied().unwrap_or(resource_type);
            return Some(Injected {
                error: injected(rule.kind, op, target),
                after: rule.after || rule.kind == ErrorKind::Timeout,
            });
        }
        None
    }

    /// Runs one API call against the store, off the async threads: file locks block.
    async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut CloudData) -> Result<T, ProviderError> + Send + 'static,
    ) -> Result<T, ProviderError> {
        let cloud = self.cloud.clone();
        tokio::task::spawn_blocking(move || cloud.transact(f))
            .await
            .map_err(|e| {
                ProviderError::new(ErrorKind::Other, format!("fake cloud call failed: {e}"))
            })?
    }
}

/// The attributes a read or a response shows: everything except write-only secrets, which real
/// clouds never return.
fn visible(schema: &Schema, attributes: &Map<String, Json>) -> Value {
    let shown: Map<String, Json> = attributes
        .iter()
        .filter(|(k, _)| !schema.attribute(k).is_some_and(|a| a.sensitive))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::from_json(&Json::Object(shown))
}

/// The request's configuration as the cloud stores it: plain JSON, unset attributes dropped.
fn config_map(resource_type: &str, config: &Value) -> Result<Map<String, Json>, ProviderError> {
    match config.to_json_exposed() {
        Json::Object(map) => Ok(map.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        Json::Null => Ok(Map::new()),
        _ => Err(ProviderError::new(
            ErrorKind::Invalid,
            format!("{resource_type}: the configuration must be a map of attributes"),
        )),
    }
}

/// Whether `attributes` refers to `id` through a `*_id` or `*_ids` attribute.
fn refers_to(attributes: &Map<String, Json>, id: &str) -> bool {
    attributes.iter().any(|(k, v)| {
        (k.ends_with("_id") || k.ends_with("_ids"))
            && match v {
                Json::String(s) => s == id,
                Json::Array(items) => items.iter().any(|i| i.as_str() == Some(id)),
                _ => false,
            }
    })
}

#[async_trait]
impl Provider for FakeProvider {
    async fn read(&self, req: ReadRequest) -> Result<ReadResponse, ProviderError> {
        let schema = self.schema(&req.resource_type)?.clone();
        self.wait(None, &req.resource_type, Operation::Read).await;
        let addresses: Vec<&str> = req.items.iter().map(|i| i.address.as_str()).collect();
        let failure = self.injected_failure(&addresses, &req.resource_type, Operation::Read);
        self.call(move |cloud| {
            cloud.count_call("read", &req.resource_type);
            if let Some(err) = failure {
                return Err(err);
            }
            let mut found = BTreeMap::new();
            for item in &req.items {
                let object = match (&item.id, &item.token) {
                    (Some(id), _) => cloud.object_of_type(id, &req.resource_type),
                    (None, Some(token)) => cloud
                        .by_token(token)
                        .filter(|o| o.resource_type == req.resource_type),
                    (None, None) => None,
                };
                if let Some(object) = object {
                    found.insert(
                        item.address.clone(),
                        ReadResult {
                            id: object.id.clone(),
                            attributes: visible(&schema, &object.attributes),
                        },
                    );
                }
            }
            Ok(ReadResponse { found })
        })
        .await
    }

    async fn create(&self, req: CreateRequest) -> Result<CreateResponse, ProviderError> {
        let schema = self.schema(&req.resource_type)?.clone();
        // Like a real resource that outlives its create timeout: it exists, but the call failed.
        let timed_out = self
            .wait_limited(
                Some(&req.address),
                &req.resource_type,
                Operation::Create,
                req.timeout,
            )
            .await;
        let failure = timed_out
            .map(|error| Injected { error, after: true })
            .or_else(|| {
                self.injected(
                    &[req.address.as_str()],
                    &req.resource_type,
                    Operation::Create,
                )
            });
        let idempotent = self.settings.idempotent_creates;
        let region = self.settings.region.clone();
        let environment = self.environment.clone();
        self.call(move |cloud| {
            cloud.count_call("create", schema.type_name);
            let fails_after = match failure {
                Some(Injected { error, after: true }) => Some(error),
                Some(Injected { error, .. }) => return Err(error),
                None => None,
            };
            if idempotent && let Some(existing) = cloud.by_token(&req.token) {
                return Ok(CreateResponse {
                    id: existing.id.clone(),
                    attributes: visible(&schema, &existing.attributes),
                });
            }
            let mut attrs = config_map(&req.resource_type, &req.config)?;
            types::apply_defaults(&schema, &mut attrs);
            types::validate(&schema, &attrs, cloud)?;
            let id = if req.resource_type == "fake_bucket" {
                // Like S3: the name is the id, and names are unique.
                let name = attrs
                    .get("bucket")
                    .and_then(Json::as_str)
                    .unwrap_or_default();
                if cloud.objects.contains_key(name) {
                    return Err(ProviderError::new(
                        ErrorKind::Conflict,
                        format!("BucketAlreadyExists: a bucket named {name:?} already exists"),
                    ));
                }
                name.to_string()
            } else {
                format!(
                    "{}-{:08x}",
                    types::id_prefix(&req.resource_type),
                    rand::random::<u32>()
                )
            };
            types::fill_computed(&req.resource_type, &id, &region, &mut attrs);
            let response = CreateResponse {
                id: id.clone(),
                attributes: visible(&schema, &attrs),
            };
            cloud.insert_object(CloudObject {
                resource_type: req.resource_type.clone(),
                id,
                attributes: attrs,
                token: Some(req.token.clone()),
                owner: Some(req.address.clone()),
                environment: Some(environment),
            });
            match fails_after {
                Some(err) => Err(err),
                None => Ok(response),
            }
        })
        .await
    }

    async fn update(&self, req: UpdateRequest) -> Result<UpdateResponse, ProviderError> {
        let schema = self.schema(&req.resource_type)?.clone();
        self.wait(Some(&req.address), &req.resource_type, Operation::Update)
            .await;
        let failure = self.injected_failure(
            &[req.address.as_str()],
            &req.resource_type,
            Operation::Update,
        );
        let region = self.settings.region.clone();
        self.call(move |cloud| {
            cloud.count_call("update", &req.resource_type);
            if let Some(err) = failure {
                return Err(err);
            }
            let Some(existing) = cloud.object_of_type(&req.id, &req.resource_type) else {
                return Err(ProviderError::new(
                    ErrorKind::NotFound,
                    format!("{} {} does not exist", req.resource_type, req.id),
                ));
            };
            let mut attrs = config_map(&req.resource_type, &req.config)?;
            types::apply_defaults(&schema, &mut attrs);
            for attr in &schema.attributes {
                let stored = existing.attributes.get(attr.name);
                match attr.presence {
                    Presence::Computed => {
                        if let Some(v) = stored {
                            attrs.insert(attr.name.to_string(), v.clone());
                        }
                        continue;
                    }
                    Presence::OptionalComputed if !attrs.contains_key(attr.name) => {
                        if let Some(v) = stored {
                            attrs.insert(attr.name.to_string(), v.clone());
                        }
                    }
                    // An unchanged secret is not sent again (cairn may hold only its digest).
                    _ if attr.sensitive && !attrs.contains_key(attr.name) => {
                        if let Some(v) = stored {
                            attrs.insert(attr.name.to_string(), v.clone());
                        }
                    }
                    _ => {}
                }
                if attr.force_new && attrs.get(attr.name) != stored {
                    return Err(ProviderError::new(
                        ErrorKind::Invalid,
                        format!(
                            "{}: `{}` cannot be changed in place; changing it replaces the object",
                            req.resource_type, attr.name
                        ),
                    ));
                }
            }
            types::validate(&schema, &attrs, cloud)?;
            types::fill_computed(&req.resource_type, &req.id, &region, &mut attrs);
            let response = UpdateResponse {
                attributes: visible(&schema, &attrs),
            };
            cloud.set_attributes(&req.id, attrs);
            Ok(response)
        })
        .await
    }

    async fn delete(&self, req: DeleteRequest) -> Result<DeleteResponse, ProviderError> {
        self.schema(&req.resource_type)?;
        // A delete slower than `timeouts.delete` gives up with the object still there.
        if let Some(timed_out) = self
            .wait_limited(
                Some(&req.address),
                &req.resource_type,
                Operation::Delete,
                req.timeout,
            )
            .await
        {
            return Err(timed_out);
        }
        let failure = self.injected_failure(
            &[req.address.as_str()],
            &req.resource_type,
            Operation::Delete,
        );
        self.call(move |cloud| {
            cloud.count_call("delete", &req.resource_type);
            if let Some(err) = failure {
                return Err(err);
            }
            if cloud.object_of_type(&req.id, &req.resource_type).is_none() {
                return Err(ProviderError::new(
                    ErrorKind::NotFound,
                    format!("{} {} does not exist", req.resource_type, req.id),
                ));
            }
            // Like a real cloud: a network with subnets in it cannot go (DependencyViolation).
            if let Some(user) = cloud
                .objects
                .values()
                .find(|o| o.id != req.id && refers_to(&o.attributes, &req.id))
            {
                return Err(ProviderError::new(
                    ErrorKind::Conflict,
                    format!(
                        "DependencyViolation: {} {} is still used by {} {}",
                        req.resource_type, req.id, user.resource_type, user.id
                    ),
                ));
            }
            cloud.remove_object(&req.id);
            Ok(DeleteResponse {})
        })
        .await
    }

    async fn read_data(&self, req: DataRequest) -> Result<DataResponse, ProviderError> {
        self.schema(&req.resource_type)?;
        self.wait(Some(&req.address), &req.resource_type, Operation::Read)
            .await;
        let failure =
            self.injected_failure(&[req.address.as_str()], &req.resource_type, Operation::Read);
        let zones = self.settings.zones.clone();
        let region = self.settings.region.clone();
        self.call(move |cloud| {
            cloud.count_call("read_data", &req.resource_type);
            if let Some(err) = failure {
                return Err(err);
            }
            let names = Value::List(zones.into_iter().map(Value::String).collect());
            Ok(DataResponse {
                attributes: Value::Map(BTreeMap::from([
                    ("id".to_string(), Value::string(region)),
                    ("names".to_string(), names),
                ])),
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests;
