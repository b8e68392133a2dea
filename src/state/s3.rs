//! The S3 backend: an environment's state is one object (`backend: { s3: { bucket, key,
//! region } }`), its lock another object beside it, `<key>.lock`.
//!
//! # Invariants
//!
//! - The object's bytes are exactly what the local backend writes (checksum line included), so
//!   a state moves between backends unchanged and is verified on every load.
//! - Every write is conditional: the first with `If-None-Match: *`, later ones with `If-Match`
//!   on the ETag this store last read or wrote. Two writers can never overwrite each other; the
//!   one that loses is told the state changed underneath it ([`StateError::Changed`]).
//! - The lock is created with `If-None-Match: *`, so exactly one process holds it; it holds the
//!   same [`LockInfo`] record as the local lock file. Dropping the guard deletes it (only while
//!   it is still this holder's object, `If-Match`). A process that is killed leaves its lock
//!   behind: `cairn force-unlock ID` removes it, given the id the "locked by" message prints.
//! - History is the bucket's versioning: with it on, every earlier state is a version of the
//!   object. cairn keeps no `.backup` object.
//! - An apply's durable writes are journal objects, `<key>.journal/<lineage>/<serial>` (20
//!   digits), each one [`super::journal`] line holding only what changed, so persisting after
//!   every operation costs the size of the change, not of the state. A load replays the entries
//!   past the state object's serial; the whole state is written when the apply ends (or the
//!   journal outgrows it), and then the entries it holds are deleted.
//! - Every serial of a lineage is claimed once: a journal entry, or the marker a whole write
//!   puts first, is created with `If-None-Match: *`. After an entry is put the state object's
//!   ETag is checked again: an entry is acknowledged only while the object it builds on is the
//!   current one, so a writer whose lock was broken learns that the state moved on at its very
//!   next write, whether that is an entry or a whole write.
//!
//! The SDK calls are in `cairn_aws::objects`; only that crate imports the AWS SDK.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use cairn_aws::objects::{Bucket, Expect, ObjectError};
use tokio::sync::OnceCell;

use super::journal::{self, StateChanges};
use super::local::{JOURNAL_COMPACT_MIN_BYTES, checksum_line, parse_state_file, serialize_body};
use super::{Appended, LockInfo, State, StateError, StateLock, StateStore};
use crate::spec::model::S3Location;

/// How often a waiting `lock` tries again.
const LOCK_RETRY: Duration = Duration::from_millis(500);

const VERSIONING_UNKNOWN: u8 = 0;
const VERSIONING_ON: u8 = 1;
const VERSIONING_OFF: u8 = 2;

pub struct S3Store {
    location: S3Location,
    environment: String,
    bucket: OnceCell<Bucket>,
    /// The state object's ETag as this store last read or wrote it: `Some(None)` when it did not
    /// exist, `None` before the first read. The next write expects exactly this.
    seen: Mutex<Option<Option<String>>>,
    versioning: AtomicU8,
    /// Bytes of the state object as last read or written, and of the journal entries on top of
    /// it: when the journal outgrows the object, the apply writes the whole state.
    object_bytes: AtomicU64,
    journal_bytes: AtomicU64,
    /// The journal objects this store has seen (listed on load) or put: what the next whole
    /// write holds and deletes, without listing the journal again.
    journal_keys: Mutex<Vec<String>>,
}

impl S3Store {
    pub fn new(location: S3Location, environment: String) -> S3Store {
        S3Store {
            location,
            environment,
            bucket: OnceCell::new(),
            seen: Mutex::new(None),
            versioning: AtomicU8::new(VERSIONING_UNKNOWN),
            object_bytes: AtomicU64::new(0),
            journal_bytes: AtomicU64::new(0),
            journal_keys: Mutex::new(Vec::new()),
        }
    }

    /// Someone else wrote the state since this store read it.
    fn changed(&self) -> StateError {
        StateError::Changed {
            location: self.location.to_string(),
        }
    }

    /// `envs/dev.json.journal/<lineage>/`: where one lineage's journal entries live.
    fn journal_prefix(&self, lineage: &str) -> String {
        format!("{}.journal/{lineage}/", self.location.key)
    }

    fn journal_key(&self, lineage: &str, serial: u64) -> String {
        format!("{}{serial:020}", self.journal_prefix(lineage))
    }

    /// The journal entries of `lineage` and their serials, in order.
    async fn journal_entries(
        &self,
        bucket: &Bucket,
        lineage: &str,
    ) -> Result<Vec<(u64, String)>, StateError> {
        let prefix = self.journal_prefix(lineage);
        let mut entries: Vec<(u64, String)> = bucket
            .list(&prefix)
            .await
            .map_err(|e| remote(&e))?
            .into_iter()
            .filter_map(|key| Some((key[prefix.len()..].parse().ok()?, key)))
            .collect();
        entries.sort();
        Ok(entries)
    }

    /// Replays onto `state` the journal entries past its serial.
    async fn replay_journal(&self, bucket: &Bucket, state: &mut State) -> Result<(), StateError> {
        let mut bytes = Vec::new();
        let mut unlanded = Vec::new();
        let entries = self.journal_entries(bucket, &state.lineage).await?;
        self.remember_journal(entries.iter().map(|(_, key)| key.clone()));
        for (serial, key) in entries {
            if serial <= state.serial {
                continue; // held by the state object already
            }
            match bucket.get(&key).await.map_err(|e| remote(&e))? {
                // A whole write's claim past the object's serial: that write never landed.
                Some(object) if object.bytes.is_empty() => unlanded.push(key),
                Some(object) => bytes.extend_from_slice(&object.bytes),
                None => {}
            }
            if bytes.len() as u64 > crate::limits::MAX_STATE_FILE_BYTES {
                return Err(StateError::Remote(format!(
                    "the journal of state object {} is over the limit of {} MiB for a state; it was left untouched",
                    self.location,
                    crate::limits::MAX_STATE_FILE_BYTES >> 20
                )));
            }
        }
        journal::replay(state, &bytes).map_err(|reason| {
            StateError::Remote(format!(
                "the journal of state object {} is damaged: {reason}; it was left untouched",
                self.location
            ))
        })?;
        self.journal_bytes
            .store(bytes.len() as u64, Ordering::Relaxed);
        // Its claim would stop every later write at that serial; the lock holder frees it.
        if !unlanded.is_empty() {
            tracing::info!(
                "freeing {} serial(s) of {} claimed by a write that never landed",
                unlanded.len(),
                self.location
            );
            bucket.delete_all(&unlanded).await.map_err(|e| remote(&e))?;
        }
        Ok(())
    }

    fn remember_journal(&self, keys: impl IntoIterator<Item = String>) {
        self.journal_keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(keys);
    }

    /// Claims `serial` of `lineage`, with a journal entry (`body`) or, for a whole write, an
    /// empty marker: created only if no one claimed it first.
    async fn claim(
        &self,
        bucket: &Bucket,
        lineage: &str,
        serial: u64,
        body: Vec<u8>,
    ) -> Result<(), StateError> {
        let key = self.journal_key(lineage, serial);
        match bucket
            .put(&key, body, "application/x-ndjson", &Expect::Absent)
            .await
        {
            Ok(_) => {
                self.remember_journal([key]);
                Ok(())
            }
            Err(ObjectError::PreconditionFailed { .. }) => Err(self.changed()),
            Err(e) => Err(remote(&e)),
        }
    }

    /// Deletes the journal objects this store knows of, which the state object it just wrote
    /// holds. They are skipped on load anyway, so a failure only leaves clutter: it is logged,
    /// not raised (and the next load lists them again).
    async fn prune_journal(&self, bucket: &Bucket) {
        let keys =
            std::mem::take(&mut *self.journal_keys.lock().unwrap_or_else(|p| p.into_inner()));
        if let Err(e) = bucket.delete_all(&keys).await {
            tracing::warn!(
                "could not delete the folded-in state journal of {}: {e}",
                self.location
            );
        }
    }

    /// `envs/dev.json.lock` for `envs/dev.json`.
    pub fn lock_key(&self) -> String {
        format!("{}.lock", self.location.key)
    }

    async fn bucket(&self) -> Result<&Bucket, StateError> {
        self.bucket
            .get_or_try_init(|| {
                Bucket::connect(&self.location.bucket, self.location.region.as_deref())
            })
            .await
            .map_err(|e| remote(&e))
    }

    fn seen(&self) -> Option<Option<String>> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn remember(&self, etag: Option<String>) {
        *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(etag);
    }

    #[allow(
        clippy::result_large_err,
        reason = "StateError is the StateStore contract's error, returned by value there too"
    )]
    fn check_environment(&self, state: &State) -> Result<(), StateError> {
        if state.environment != self.environment {
            return Err(StateError::WrongEnvironment {
                path: self.location.to_string(),
                found: state.environment.clone(),
                expected: self.environment.clone(),
            });
        }
        Ok(())
    }

    /// Reads the object and remembers its ETag for the next conditional write.
    async fn read(&self) -> Result<Option<State>, StateError> {
        let bucket = self.bucket().await?;
        let Some(object) = bucket
            .get(&self.location.key)
            .await
            .map_err(|e| remote(&e))?
        else {
            self.remember(None);
            return Ok(None);
        };
        if object.bytes.len() as u64 > crate::limits::MAX_STATE_FILE_BYTES {
            return Err(StateError::Remote(format!(
                "state object {} is {} bytes, over the limit of {} MiB for a state; it was left untouched",
                self.location,
                object.bytes.len(),
                crate::limits::MAX_STATE_FILE_BYTES >> 20
            )));
        }
        let state = match parse_state_file(&object.bytes, &self.location.to_string()) {
            Ok(state) => state,
            Err(StateError::Corrupt { reason, .. }) => {
                return Err(StateError::Remote(format!(
                    "state object {} is corrupt: {reason}; it was left untouched (restore an earlier version from the bucket's version history)",
                    self.location
                )));
            }
            Err(other) => return Err(other),
        };
        self.check_environment(&state)?;
        let mut state = state;
        self.replay_journal(bucket, &mut state).await?;
        self.object_bytes
            .store(object.bytes.len() as u64, Ordering::Relaxed);
        self.remember(Some(object.etag));
        Ok(Some(state))
    }

    /// Writes `state` as it is, expecting the object this store last saw.
    async fn write(&self, state: &State) -> Result<(), StateError> {
        let expected = match self.seen() {
            Some(seen) => seen,
            None => {
                // Never read: what is there must be a valid state of this environment (or
                // nothing), and its ETag is what the write expects.
                self.read().await?;
                self.seen().flatten()
            }
        };
        let body = serialize_body(state, 0).map_err(|e| {
            StateError::Remote(format!("serializing the state for {}: {e}", self.location))
        })?;
        let line = checksum_line(&body);
        // The body starts with the `{\n` that the checksum line already holds.
        let mut bytes = Vec::with_capacity(line.len() + body.len());
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(&body[2..]);
        let expect = match expected {
            Some(etag) => Expect::Etag(etag),
            None => Expect::Absent,
        };
        let bucket = self.bucket().await?;
        self.claim(bucket, &state.lineage, state.serial, Vec::new())
            .await?;
        let size = bytes.len() as u64;
        match bucket
            .put(&self.location.key, bytes, "application/json", &expect)
            .await
        {
            Ok(etag) => {
                self.remember(Some(etag));
                self.object_bytes.store(size, Ordering::Relaxed);
                self.journal_bytes.store(0, Ordering::Relaxed);
                self.prune_journal(bucket).await;
            }
            Err(ObjectError::PreconditionFailed { .. }) => {
                return Err(self.changed());
            }
            Err(e) => return Err(remote(&e)),
        }
        if self.versioning.load(Ordering::Relaxed) == VERSIONING_UNKNOWN {
            let on = bucket.versioning_enabled().await.unwrap_or(false);
            self.versioning.store(
                if on { VERSIONING_ON } else { VERSIONING_OFF },
                Ordering::Relaxed,
            );
            if !on {
                tracing::warn!(
                    "versioning is off on bucket {}: earlier states of {} are not kept; turn it on to keep the state's history",
                    self.location.bucket,
                    self.location
                );
            }
        }
        Ok(())
    }

    /// The record in the lock object and its ETag, or `None` when there is no lock.
    async fn holder(&self) -> Result<Option<(LockInfo, String)>, StateError> {
        let bucket = self.bucket().await?;
        let object = bucket.get(&self.lock_key()).await.map_err(|e| remote(&e))?;
        Ok(object.map(|o| {
            let info = serde_json::from_slice(&o.bytes).unwrap_or_else(|_| LockInfo::unknown());
            (info, o.etag)
        }))
    }
}

fn remote(e: &ObjectError) -> StateError {
    StateError::Remote(e.to_string())
}

#[async_trait]
impl StateStore for S3Store {
    fn describe(&self) -> String {
        format!("S3 object {}", self.location)
    }

    fn backup_hint(&self) -> Option<String> {
        (self.versioning.load(Ordering::Relaxed) == VERSIONING_ON).then(|| {
            format!(
                "the earlier versions of {} (the bucket's versioning)",
                self.location
            )
        })
    }

    async fn load(&self) -> Result<Option<State>, StateError> {
        self.read().await
    }

    async fn save(&self, state: &mut State) -> Result<(), StateError> {
        self.check_environment(state)?;
        state.serial += 1;
        if let Err(e) = self.write(state).await {
            state.serial -= 1;
            return Err(e);
        }
        Ok(())
    }

    async fn save_copy(&self, state: &State) -> Result<(), StateError> {
        self.check_environment(state)?;
        self.write(state).await
    }

    async fn append(&self, changes: &StateChanges) -> Result<Appended, StateError> {
        // Only on top of a state object this store read or wrote: the first save of a new
        // environment goes through `save`.
        let Some(Some(base)) = self.seen() else {
            return Ok(Appended::Unsupported);
        };
        let line = journal::encode(changes).map_err(|e| {
            StateError::Remote(format!(
                "serializing state changes for {}: {e}",
                self.location
            ))
        })?;
        let size = line.len() as u64;
        let bucket = self.bucket().await?;
        self.claim(bucket, &changes.lineage, changes.serial, line)
            .await?;
        // The entry counts only on top of the object it was written against.
        let current = bucket
            .etag(&self.location.key)
            .await
            .map_err(|e| remote(&e))?;
        if current.as_deref() != Some(base.as_str()) {
            return Err(self.changed());
        }
        let journal = self.journal_bytes.fetch_add(size, Ordering::Relaxed) + size;
        let object = self.object_bytes.load(Ordering::Relaxed);
        Ok(Appended::Journaled {
            compact: journal > object.max(JOURNAL_COMPACT_MIN_BYTES),
        })
    }

    async fn lock(
        &self,
        info: LockInfo,
        timeout: Duration,
    ) -> Result<Box<dyn StateLock>, StateError> {
        let record = serde_json::to_vec_pretty(&info)
            .map_err(|e| StateError::Remote(format!("serializing the lock record: {e}")))?;
        let key = self.lock_key();
        let deadline = Instant::now() + timeout;
        loop {
            let bucket = self.bucket().await?;
            match bucket
                .put(&key, record.clone(), "application/json", &Expect::Absent)
                .await
            {
                Ok(etag) => {
                    return Ok(Box::new(S3Lock {
                        bucket: self.location.bucket.clone(),
                        region: self.location.region.clone(),
                        key,
                        etag,
                        info,
                    }));
                }
                Err(ObjectError::PreconditionFailed { .. }) => {}
                Err(e) => return Err(remote(&e)),
            }
            let now = Instant::now();
            if now >= deadline {
                let holder = match self.holder().await? {
                    Some((holder, _)) => holder,
                    // Released just now: the next try would succeed, but the time is up.
                    None => LockInfo::unknown(),
                };
                return Err(StateError::Locked {
                    environment: self.environment.clone(),
                    holder,
                });
            }
            tokio::time::sleep((deadline - now).min(LOCK_RETRY)).await;
        }
    }

    async fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError> {
        let Some((holder, etag)) = self.holder().await? else {
            return Err(StateError::NotLocked {
                environment: self.environment.clone(),
                location: self.describe(),
            });
        };
        if holder.id != id {
            return Err(StateError::LockIdMismatch {
                environment: self.environment.clone(),
                given: id.to_string(),
                holder,
            });
        }
        let bucket = self.bucket().await?;
        match bucket.delete(&self.lock_key(), Some(&etag)).await {
            Ok(()) => Ok(holder),
            Err(ObjectError::PreconditionFailed { .. }) => Err(StateError::Remote(format!(
                "the lock of environment `{}` changed while it was being removed (someone else released or took it); it was left as it is",
                self.environment
            ))),
            Err(e) => Err(remote(&e)),
        }
    }
}

/// A held S3 lock. Dropping it deletes the lock object, if it is still this holder's.
struct S3Lock {
    bucket: String,
    region: Option<String>,
    key: String,
    etag: String,
    info: LockInfo,
}

impl StateLock for S3Lock {
    fn info(&self) -> &LockInfo {
        &self.info
    }
}

impl Drop for S3Lock {
    fn drop(&mut self) {
        // Drop cannot await, and the runtime that took the lock may be shutting down or be a
        // single thread blocked right here: release on a thread of its own with its own client.
        let bucket = self.bucket.clone();
        let region = self.region.clone();
        let key = self.key.clone();
        let etag = self.etag.clone();
        let released = std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let bucket = Bucket::connect(&bucket, region.as_deref())
                    .await
                    .map_err(|e| e.to_string())?;
                bucket
                    .delete(&key, Some(&etag))
                    .await
                    .map_err(|e| e.to_string())
            })
        })
        .join()
        .unwrap_or_else(|_| Err("the releasing thread panicked".to_string()));
        if let Err(e) = released {
            tracing::warn!(
                "could not remove the lock s3://{}/{}: {e}; `cairn force-unlock {}` removes it",
                self.bucket,
                self.key,
                self.info.id
            );
        }
    }
}
