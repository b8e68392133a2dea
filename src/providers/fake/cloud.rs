//! The fake cloud's persistent store: one JSON file shared by every environment and process,
//! holding the objects that "exist" and a count of API calls per operation and type.
//!
//! A real cloud outlives the process that talks to it, so this one does too. Every mutation is
//! written (temp file + rename) before the operation returns, under an OS lock on a `.lock`
//! sibling so concurrent operations and processes serialize. Within a process the parsed file
//! is cached and reused while the file on disk is still the one this process last wrote.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::providers::{ErrorKind, ProviderError};

/// The whole content of the fake cloud's file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CloudData {
    /// Every object that exists, by id.
    #[serde(default)]
    pub objects: BTreeMap<String, CloudObject>,
    /// API calls made: operation (`create`, `read`, `update`, `delete`, `read_data`) → type → n.
    #[serde(default)]
    pub calls: BTreeMap<String, BTreeMap<String, u64>>,
}

/// One object in the fake cloud.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CloudObject {
    #[serde(rename = "type")]
    pub resource_type: String,
    pub id: String,
    /// As the creator sent them, secrets included (it is the cloud), plus computed attributes.
    pub attributes: Map<String, Json>,
    /// The idempotency token of the create that made it.
    pub token: Option<String>,
    /// The cairn address that owns it, as a real adapter would record in a tag.
    #[serde(rename = "cairn:address")]
    pub owner: Option<String>,
    /// The environment whose apply created it.
    #[serde(default)]
    pub environment: Option<String>,
}

impl CloudData {
    /// The object with this id, when it exists and is of this type.
    pub fn object_of_type(&self, id: &str, resource_type: &str) -> Option<&CloudObject> {
        self.objects
            .get(id)
            .filter(|o| o.resource_type == resource_type)
    }

    /// The object a create with this token made.
    pub fn by_token(&self, token: &str) -> Option<&CloudObject> {
        self.objects
            .values()
            .find(|o| o.token.as_deref() == Some(token))
    }

    /// How many `operation` calls were made for `resource_type`.
    pub fn calls(&self, operation: &str, resource_type: &str) -> u64 {
        self.calls
            .get(operation)
            .and_then(|by_type| by_type.get(resource_type))
            .copied()
            .unwrap_or(0)
    }

    /// All calls of one operation, over every type.
    pub fn total_calls(&self, operation: &str) -> u64 {
        self.calls
            .get(operation)
            .map(|by_type| by_type.values().sum())
            .unwrap_or(0)
    }

    pub(super) fn count_call(&mut self, operation: &str, resource_type: &str) {
        *self
            .calls
            .entry(operation.to_string())
            .or_default()
            .entry(resource_type.to_string())
            .or_default() += 1;
    }
}

/// Reads the fake cloud's file as it is now (for tests, benchmarks and `drift` checks).
pub fn load(path: &Path) -> Result<CloudData, ProviderError> {
    match fs::read(path) {
        Ok(bytes) => parse(path, &bytes),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(CloudData::default()),
        Err(err) => Err(io_error("read", path, err)),
    }
}

fn parse(path: &Path, bytes: &[u8]) -> Result<CloudData, ProviderError> {
    serde_json::from_slice(bytes).map_err(|err| {
        ProviderError::new(
            ErrorKind::Other,
            format!(
                "the fake cloud's file {} is not valid JSON ({err}); delete it to start with an empty cloud",
                path.display()
            ),
        )
    })
}

fn io_error(action: &str, path: &Path, err: std::io::Error) -> ProviderError {
    ProviderError::new(
        ErrorKind::Other,
        format!(
            "cannot {action} the fake cloud's file {}: {err}",
            path.display()
        ),
    )
}

/// What identifies one version of the file on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    modified: SystemTime,
    len: u64,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = fs::metadata(path).ok()?;
    Some(Stamp {
        modified: meta.modified().ok()?,
        len: meta.len(),
    })
}

/// The store at one path. Cheap to share between tasks behind an `Arc`.
pub(super) struct CloudFile {
    path: PathBuf,
    lock_path: PathBuf,
    cache: Mutex<Option<(Stamp, CloudData)>>,
}

impl CloudFile {
    pub(super) fn new(path: PathBuf) -> CloudFile {
        let mut lock_name = path.file_name().unwrap_or_default().to_os_string();
        lock_name.push(".lock");
        CloudFile {
            lock_path: path.with_file_name(lock_name),
            path,
            cache: Mutex::new(None),
        }
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the current data under the lock, then writes the data back, whatever `f`
    /// returned: a rejected call is still a call, and it is counted.
    pub(super) fn transact<T>(
        &self,
        f: impl FnOnce(&mut CloudData) -> Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        // The in-process mutex orders this process's tasks; the file lock orders processes.
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(dir) = self.path.parent()
            && !dir.as_os_str().is_empty()
        {
            fs::create_dir_all(dir)
                .map_err(|e| io_error("create the directory of", &self.path, e))?;
        }
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock_path)
            .map_err(|e| io_error("open the lock of", &self.path, e))?;
        lock.lock().map_err(|e| io_error("lock", &self.path, e))?;

        let current = stamp(&self.path);
        let mut data = match (cache.take(), current) {
            (Some((cached, data)), Some(now)) if cached == now => data,
            _ => load(&self.path)?,
        };
        let result = f(&mut data);
        let bytes = serde_json::to_vec_pretty(&data).map_err(|e| {
            ProviderError::new(
                ErrorKind::Other,
                format!("cannot encode the fake cloud: {e}"),
            )
        })?;
        let tmp = self
            .path
            .with_extension(format!("tmp-{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut file = File::create(&tmp)?;
            file.write_all(&bytes)?;
            fs::rename(&tmp, &self.path)
        };
        write().map_err(|e| io_error("write", &self.path, e))?;
        if let Some(now) = stamp(&self.path) {
            *cache = Some((now, data));
        }
        drop(lock);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_process_sees_what_the_first_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cloud.json");
        let first = CloudFile::new(path.clone());
        let second = CloudFile::new(path.clone());
        first
            .transact(|data| {
                data.count_call("create", "fake_bucket");
                Ok(())
            })
            .unwrap();
        second
            .transact(|data| {
                data.count_call("create", "fake_bucket");
                Ok(())
            })
            .unwrap();
        // The first instance's cache is stale now: it must notice and re-read.
        first
            .transact(|data| {
                data.count_call("create", "fake_bucket");
                Ok(())
            })
            .unwrap();
        assert_eq!(load(&path).unwrap().calls("create", "fake_bucket"), 3);
    }

    #[test]
    fn a_corrupt_file_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cloud.json");
        fs::write(&path, "{ not json").unwrap();
        let err = load(&path).unwrap_err();
        assert!(
            err.message.contains("cloud.json is not valid JSON"),
            "{err}"
        );
    }
}
