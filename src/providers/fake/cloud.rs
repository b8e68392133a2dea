//! The fake cloud's persistent store: one JSON file shared by every environment and process,
//! holding the objects that "exist" and a count of API calls per operation and type.
//!
//! A real cloud outlives the process that talks to it, so this one does too. Every mutation is
//! written (temp file + rename) before the operation returns, under an OS lock on a `.lock`
//! sibling so concurrent operations and processes serialize; calls that arrive together share
//! one write. Within a process the parsed file and each object's encoding are cached, and
//! reused while the file on disk is byte for byte the one this process last wrote, so a batch
//! of calls costs one read, a small encode per object changed, and one write.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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
    /// Ids of objects changed since the last write, so only those are encoded again.
    #[serde(skip)]
    dirty: BTreeSet<String>,
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

    pub(super) fn insert_object(&mut self, object: CloudObject) {
        self.dirty.insert(object.id.clone());
        self.objects.insert(object.id.clone(), object);
    }

    pub(super) fn set_attributes(&mut self, id: &str, attributes: Map<String, Json>) {
        if let Some(object) = self.objects.get_mut(id) {
            object.attributes = attributes;
            self.dirty.insert(id.to_string());
        }
    }

    pub(super) fn remove_object(&mut self, id: &str) {
        self.objects.remove(id);
        self.dirty.insert(id.to_string());
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

/// This process's view of the file: the data, each object's encoding, and the exact bytes
/// last written, which tell whether another process wrote since (file times are too coarse).
struct Cached {
    data: CloudData,
    encoded: BTreeMap<String, String>,
    written: Vec<u8>,
}

impl Cached {
    fn from_data(data: CloudData) -> Result<Cached, ProviderError> {
        let mut cached = Cached {
            encoded: BTreeMap::new(),
            written: Vec::new(),
            data,
        };
        for (id, object) in &cached.data.objects {
            cached.encoded.insert(id.clone(), encode(object)?);
        }
        Ok(cached)
    }

    /// Re-encodes the objects that changed and lays out the file, one object per line.
    fn render(&mut self) -> Result<Vec<u8>, ProviderError> {
        for id in std::mem::take(&mut self.data.dirty) {
            match self.data.objects.get(&id) {
                Some(object) => {
                    self.encoded.insert(id, encode(object)?);
                }
                None => {
                    self.encoded.remove(&id);
                }
            }
        }
        let mut out = String::from("{\n  \"objects\": {");
        for (i, (id, object)) in self.encoded.iter().enumerate() {
            out.push_str(if i == 0 { "\n    " } else { ",\n    " });
            out.push_str(&encode(id)?);
            out.push_str(": ");
            out.push_str(object);
        }
        out.push_str("\n  },\n  \"calls\": ");
        out.push_str(&encode(&self.data.calls)?);
        out.push_str("\n}\n");
        Ok(out.into_bytes())
    }
}

fn encode<T: Serialize>(value: &T) -> Result<String, ProviderError> {
    serde_json::to_string(value).map_err(|e| {
        ProviderError::new(
            ErrorKind::Other,
            format!("cannot encode the fake cloud: {e}"),
        )
    })
}

/// One call queued for the next write: it runs against the data (or learns why it cannot) and
/// hands back what delivers its result once that write has ended.
type Job = Box<dyn FnOnce(Result<&mut CloudData, ProviderError>) -> Deliver + Send>;
type Deliver = Box<dyn FnOnce(Result<(), ProviderError>) + Send>;

/// The store at one path. Cheap to share between tasks behind an `Arc`.
///
/// Calls are group-committed: a call queues itself, and whoever holds the writer next runs every
/// queued call and writes the file once for all of them. A real cloud serves concurrent calls
/// side by side; a fake that wrote its whole file once per call would make hundreds of calls
/// finishing together wait in line, and every apply measured against it look slower than it is.
pub(super) struct CloudFile {
    path: PathBuf,
    lock_path: PathBuf,
    queue: Mutex<Vec<Job>>,
    /// The writer, with this process's view of the file.
    cache: Mutex<Option<Cached>>,
}

impl CloudFile {
    pub(super) fn new(path: PathBuf) -> CloudFile {
        let mut lock_name = path.file_name().unwrap_or_default().to_os_string();
        lock_name.push(".lock");
        CloudFile {
            lock_path: path.with_file_name(lock_name),
            path,
            queue: Mutex::new(Vec::new()),
            cache: Mutex::new(None),
        }
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the current data under the lock, then writes the data back, whatever `f`
    /// returned: a rejected call is still a call, and it is counted. Returns once a write that
    /// holds the call's effect is on disk.
    pub(super) fn transact<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut CloudData) -> Result<T, ProviderError> + Send + 'static,
    ) -> Result<T, ProviderError> {
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        let job: Job = Box::new(move |data| match data {
            Ok(data) => {
                let result = f(data);
                Box::new(move |written: Result<(), ProviderError>| {
                    let _ = sender.send(written.and(result));
                })
            }
            Err(error) => {
                let _ = sender.send(Err(error));
                Box::new(|_| ())
            }
        });
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(job);
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // A writer delivers before it lets go of the cache: if nothing has arrived, this call
        // is still queued, and this thread writes the batch.
        if let Ok(result) = receiver.try_recv() {
            return result;
        }
        let batch = std::mem::take(
            &mut *self
                .queue
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        self.write_batch(&mut cache, batch);
        drop(cache);
        receiver.recv().unwrap_or_else(|_| {
            Err(ProviderError::new(
                ErrorKind::Other,
                "a fake cloud call was dropped unanswered",
            ))
        })
    }

    /// Runs `batch` on the data as the file holds it now and writes the result once, all under
    /// the file lock (it orders processes; the cache mutex, held by the caller, orders threads).
    fn write_batch(&self, cache: &mut Option<Cached>, batch: Vec<Job>) {
        let (lock, mut current) = match self.lock_and_read(cache) {
            Ok(ready) => ready,
            Err(error) => {
                for job in batch {
                    job(Err(error.clone()))(Ok(()));
                }
                return;
            }
        };
        let delivers: Vec<Deliver> = batch
            .into_iter()
            .map(|job| job(Ok(&mut current.data)))
            .collect();
        let written = self.write(&mut current);
        if written.is_ok() {
            *cache = Some(current);
        }
        drop(lock);
        for deliver in delivers {
            deliver(written.clone());
        }
    }

    /// Takes the file lock and the data as the file holds it, reusing this process's copy when
    /// the file is still the one it last wrote.
    fn lock_and_read(&self, cache: &mut Option<Cached>) -> Result<(File, Cached), ProviderError> {
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
        let on_disk = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(err) => return Err(io_error("read", &self.path, err)),
        };
        let current = match cache.take() {
            Some(cached) if cached.written == on_disk => cached,
            _ if on_disk.is_empty() => Cached::from_data(CloudData::default())?,
            _ => Cached::from_data(parse(&self.path, &on_disk)?)?,
        };
        Ok((lock, current))
    }

    /// Writes `current` whole (temporary file, then rename).
    fn write(&self, current: &mut Cached) -> Result<(), ProviderError> {
        let bytes = current.render()?;
        let tmp = self
            .path
            .with_extension(format!("tmp-{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut file = File::create(&tmp)?;
            file.write_all(&bytes)?;
            fs::rename(&tmp, &self.path)
        };
        write().map_err(|e| io_error("write", &self.path, e))?;
        current.written = bytes;
        Ok(())
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
    fn calls_made_together_are_all_recorded_and_each_gets_its_own_answer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cloud.json");
        let file = std::sync::Arc::new(CloudFile::new(path.clone()));
        let threads: Vec<_> = (0..48)
            .map(|i| {
                let file = file.clone();
                std::thread::spawn(move || {
                    file.transact(move |data| {
                        data.count_call("create", "fake_subnet");
                        if i % 8 == 0 {
                            return Err(ProviderError::new(ErrorKind::Conflict, format!("no {i}")));
                        }
                        Ok(i)
                    })
                })
            })
            .collect();
        let answers: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        for (i, answer) in answers.iter().enumerate() {
            match answer {
                Ok(n) => assert_eq!(*n, i),
                Err(e) => assert!(i % 8 == 0 && e.message == format!("no {i}"), "{i}: {e}"),
            }
        }
        // Rejected calls are counted too, and nothing a batch wrote was lost to another batch.
        assert_eq!(load(&path).unwrap().calls("create", "fake_subnet"), 48);
    }

    #[test]
    fn a_store_that_cannot_be_written_fails_every_call_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("not-a-dir"), "").unwrap();
        let file = CloudFile::new(dir.path().join("not-a-dir").join("cloud.json"));
        let err = file.transact(|_| Ok(())).unwrap_err();
        assert!(err.message.contains("not-a-dir"), "{err}");
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
