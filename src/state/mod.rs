//! State: what cairn knows exists. The model (`State`, per-address `ResourceState`), the
//! `StateStore` trait every backend implements, and locks.
//!
//! Secrets never reach a state file in plaintext: [`seal`] replaces every sensitive value with
//! its SHA-256 digest, and the differ compares digests.

pub mod journal;
pub mod local;
pub mod lock;
pub mod s3;
pub mod surgery;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::addr::{ResourceAddr, ResourceMode};
use crate::value::Value;

pub use journal::StateChanges;
pub use lock::LockInfo;

pub const STATE_FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub format_version: u32,
    /// Fixed for the life of one environment's state; a plan made against another lineage is
    /// refused.
    pub lineage: String,
    /// +1 on every write.
    pub serial: u64,
    pub environment: String,
    pub cairn_version: String,
    #[serde(deserialize_with = "sorted_map")]
    pub resources: BTreeMap<ResourceAddr, ResourceState>,
    /// Root outputs after the last apply, sealed.
    pub outputs: BTreeMap<String, Value>,
    /// Old instances replaced with `create_before_destroy` whose delete has not completed yet.
    /// The next plan deletes them.
    #[serde(default)]
    pub deposed: Vec<DeposedResource>,
}

/// An instance that a `create_before_destroy` replacement superseded but has not deleted yet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeposedResource {
    pub address: ResourceAddr,
    pub resource_type: String,
    pub provider: String,
    pub id: String,
    pub attributes: Value,
    pub dependencies: Vec<ResourceAddr>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    pub resource_type: String,
    pub mode: ResourceMode,
    /// Provider instance key (`fake`, `fake.dr`).
    pub provider: String,
    pub status: ResourceStatus,
    /// The cloud id; absent while a create is pending.
    pub id: Option<String>,
    /// Last known attributes, sealed. Shared with the plan's `before` of the instance, which
    /// is the same value: a large plan would otherwise copy the whole state once more.
    pub attributes: Arc<Value>,
    /// What this instance depended on when it was last applied: deletes run in the reverse order.
    pub dependencies: Vec<ResourceAddr>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum ResourceStatus {
    /// The cloud confirmed the resource exists.
    Created,
    /// A create was sent with this idempotency token and its answer was never recorded. The next
    /// refresh looks the resource up by the token and adopts it, or forgets the intent.
    Pending {
        token: String,
        /// When the intent was recorded (seconds since the Unix epoch): the next refresh waits
        /// a moment for a request that may still be in flight before it gives up on finding it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<u64>,
    },
}

impl State {
    pub fn new(environment: &str) -> State {
        State {
            format_version: STATE_FORMAT_VERSION,
            lineage: new_lineage(),
            serial: 0,
            environment: environment.to_string(),
            cairn_version: env!("CARGO_PKG_VERSION").to_string(),
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
            deposed: Vec::new(),
        }
    }
}

/// Where the local backend keeps an environment's state: `<project>/.cairn/state/<env>.json`.
pub fn default_state_path(project_dir: &Path, env: &str) -> PathBuf {
    project_dir
        .join(".cairn")
        .join("state")
        .join(format!("{env}.json"))
}

/// A random identifier for a new environment's state.
pub fn new_lineage() -> String {
    let bytes: [u8; 16] = rand::random();
    let h = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// How a sealed secret's text starts: a SHA-256 digest of the salt and the secret.
const DIGEST_PREFIX: &str = "salted-sha256:";

/// The value with every sensitive part replaced by `Sensitive("salted-sha256:…")`: what state
/// stores. The salt is the state's lineage, so the same password in two environments seals to
/// two unrelated digests and a leaked state file is no dictionary for guessing it; the digest
/// still tells whether the secret changed.
pub fn seal(value: &Value, salt: &str) -> Value {
    match value {
        Value::Sensitive(inner) => {
            if let Some(s) = inner.as_str().filter(|s| is_digest(s)) {
                return Value::Sensitive(Box::new(Value::string(s)));
            }
            let plain = serde_json::to_string(&inner.to_json_exposed()).unwrap_or_default();
            let mut hasher = Sha256::new();
            hasher.update(salt.as_bytes());
            hasher.update([0]);
            hasher.update(plain.as_bytes());
            Value::Sensitive(Box::new(Value::String(format!(
                "{DIGEST_PREFIX}{}",
                hex::encode(hasher.finalize())
            ))))
        }
        Value::List(items) => Value::List(items.iter().map(|v| seal(v, salt)).collect()),
        Value::Map(map) => Value::Map(
            map.iter()
                .map(|(k, v)| (k.clone(), seal(v, salt)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn is_digest(text: &str) -> bool {
    text.starts_with(DIGEST_PREFIX)
}

/// Whether `value` holds a secret as [`seal`] left it: a digest whose plaintext is gone. Such a
/// value can still be compared, never sent.
pub fn holds_digest(value: &Value) -> bool {
    match value {
        Value::Sensitive(inner) => inner.as_str().is_some_and(is_digest),
        Value::List(items) => items.iter().any(holds_digest),
        Value::Map(map) => map.values().any(holds_digest),
        _ => false,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(
        "state file {path} is corrupt: {reason}; it was left untouched (restore it from {path}.backup or version control)"
    )]
    Corrupt { path: String, reason: String },
    #[error(
        "state file {path} was written by a newer cairn (format {found}, this cairn reads {supported})"
    )]
    TooNew {
        path: String,
        found: u32,
        supported: u32,
    },
    #[error("state of environment `{environment}` is locked by {holder}")]
    Locked {
        environment: String,
        holder: LockInfo,
    },
    #[error("state at {path} belongs to environment `{found}`, not `{expected}`")]
    WrongEnvironment {
        path: String,
        found: String,
        expected: String,
    },
    #[error(
        "the state at {location} changed underneath this run (another cairn wrote it since it was read); nothing was overwritten: run the command again"
    )]
    Changed { location: String },
    #[error("the state of environment `{environment}` is not locked ({location})")]
    NotLocked {
        environment: String,
        location: String,
    },
    #[error(
        "the lock of environment `{environment}` has id {}, not {given}: it was not removed (held by {holder})",
        holder.id
    )]
    LockIdMismatch {
        environment: String,
        given: String,
        holder: LockInfo,
    },
    #[error(
        "the lock of environment `{environment}` is held by a running process, {holder}; the local backend's lock is an OS lock that ends with its holder: stop that process instead"
    )]
    HeldByLiveProcess {
        environment: String,
        holder: LockInfo,
    },
    #[error("{operation} is not supported by the {backend} backend")]
    Unsupported {
        operation: &'static str,
        backend: String,
    },
    #[error("{0}")]
    Remote(String),
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// What [`StateStore::append`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Appended {
    /// The changes are durable. `compact`: the journal has grown past the state file, and the
    /// caller should save the whole state soon (which folds the journal in).
    Journaled { compact: bool },
    /// This backend keeps no journal (or this state was never saved whole yet): the caller saves
    /// the whole state instead.
    Unsupported,
}

/// A held lock; dropping it releases the lock.
pub trait StateLock: Send + Sync {
    fn info(&self) -> &LockInfo;
}

/// Where an environment's state lives. One implementation per backend.
#[async_trait]
pub trait StateStore: Send + Sync {
    /// A short description for messages: `local file .cairn/state/dev.json`.
    fn describe(&self) -> String;
    /// Where the state as it was before the last save is kept, for messages after a change a
    /// user may want to undo; `None` when the backend keeps no such copy.
    fn backup_hint(&self) -> Option<String> {
        None
    }
    /// The stored state, or `None` when the environment has none yet.
    async fn load(&self) -> Result<Option<State>, StateError>;
    /// Writes `state` atomically after increasing its serial by one.
    async fn save(&self, state: &mut State) -> Result<(), StateError>;
    /// Makes `changes` (numbered one past the stored serial) durable on top of the stored state,
    /// in time proportional to their size, or says the backend cannot.
    async fn append(&self, changes: &StateChanges) -> Result<Appended, StateError> {
        let _ = changes;
        Ok(Appended::Unsupported)
    }
    /// Takes the environment's lock, waiting up to `timeout` for a holder to release it.
    async fn lock(
        &self,
        info: LockInfo,
        timeout: Duration,
    ) -> Result<Box<dyn StateLock>, StateError>;
    /// Writes `state` exactly as it is, serial included: a copy of the same lineage from
    /// another backend (`cairn state migrate`). The caller holds the lock.
    async fn save_copy(&self, state: &State) -> Result<(), StateError> {
        let _ = state;
        Err(StateError::Unsupported {
            operation: "copying a state in",
            backend: self.describe(),
        })
    }
    /// Removes the lock whose record has id `id`, left by a process that will not release it
    /// (`cairn force-unlock ID`); returns that record. Refused when the id differs.
    async fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError> {
        let _ = id;
        Err(StateError::Unsupported {
            operation: "force-unlock",
            backend: self.describe(),
        })
    }
}

/// A map read whole, then built in one pass: cairn writes state sorted by address, and building
/// a map from sorted entries costs no search per entry, as inserting them one by one does (a
/// tenth of reading a large state). Of keys given twice, the last counts, as with inserts.
fn sorted_map<'de, D, K, V>(deserializer: D) -> Result<BTreeMap<K, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    K: Deserialize<'de> + Ord,
    V: Deserialize<'de>,
{
    struct Entries<K, V>(std::marker::PhantomData<(K, V)>);
    impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> serde::de::Visitor<'de>
        for Entries<K, V>
    {
        type Value = BTreeMap<K, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
            while let Some(entry) = map.next_entry()? {
                entries.push(entry);
            }
            Ok(entries.into_iter().collect())
        }
    }
    deserializer.deserialize_map(Entries(std::marker::PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_seals_to_a_digest_salted_by_its_state() {
        let secret = Value::Sensitive(Box::new(Value::string("hunter2")));
        let dev = seal(&secret, "lineage-dev");
        let prd = seal(&secret, "lineage-prd");
        assert!(holds_digest(&dev));
        assert_ne!(
            dev, prd,
            "the same password in two states seals differently"
        );
        assert_eq!(
            seal(&dev, "lineage-dev"),
            dev,
            "sealing twice changes nothing"
        );
        assert_eq!(
            seal(&secret, "lineage-dev"),
            dev,
            "the digest still detects change"
        );
        let unsalted = hex::encode(Sha256::digest(b"\"hunter2\""));
        assert!(!format!("{dev:?}").contains(&unsalted));
        assert!(!format!("{dev:?}").contains("hunter2"));
    }
}
