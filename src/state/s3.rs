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
//!
//! The SDK calls are in `cairn_aws::objects`; only that crate imports the AWS SDK.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use cairn_aws::objects::{Bucket, Expect, ObjectError};
use tokio::sync::OnceCell;

use super::local::{checksum_line, parse_state_file, serialize_body};
use super::{LockInfo, State, StateError, StateLock, StateStore};
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
}

impl S3Store {
    pub fn new(location: S3Location, environment: String) -> S3Store {
        S3Store {
            location,
            environment,
            bucket: OnceCell::new(),
            seen: Mutex::new(None),
            versioning: AtomicU8::new(VERSIONING_UNKNOWN),
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
        match bucket
            .put(&self.location.key, bytes, "application/json", &expect)
            .await
        {
            Ok(etag) => {
                self.remember(Some(etag));
            }
            Err(ObjectError::PreconditionFailed { .. }) => {
                return Err(StateError::Changed {
                    location: self.location.to_string(),
                });
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
