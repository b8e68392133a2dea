//! The local file backend: `.cairn/state/ENV.json`, written atomically, locked with a lock file.
//!
//! # File layout
//!
//! The file is the pretty JSON of [`State`] with one extra member on line 2:
//!
//! ```text
//! {
//!   "checksum": "sha256:…",
//!   "format_version": 1,
//!   …
//! }
//! ```
//!
//! The checksum is the SHA-256 of every byte of the file except that line, so
//! `sed 2d dev.json | sha256sum` reproduces it. Hashing the bytes cairn wrote (rather than a
//! re-serialization of what was read back) costs one hash per save, needs no second
//! serialization, and cannot give false alarms when a value does not survive a JSON round trip
//! bit for bit (floats, non-finite numbers) or when a later cairn adds a defaulted field.
//!
//! # Invariants
//!
//! - A file that exists and does not load as a valid state of this environment is never
//!   replaced: a human must look at it first.
//! - Every save keeps the previous file as `<path>.backup` (a hard link to the old bytes).
//! - The lock is an OS lock on `<path without .json>.lock`: the OS drops it when the holder
//!   dies, so a killed cairn leaves no stale lock. The file's contents only say who holds it.
//! - During an apply, operations' changes are appended to `<path>.journal` (see
//!   [`super::journal`]) and synced, instead of rewriting the whole file each time; reading
//!   replays it. A save of the whole state writes the file, then empties the journal.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use serde::Deserialize;
use serde::de::IgnoredAny;
use sha2::{Digest, Sha256};

use crate::limits::{MAX_STATE_FILE_BYTES, read_capped};

use super::journal::{self, StateChanges};
use super::{Appended, LockInfo, STATE_FORMAT_VERSION, State, StateError, StateLock, StateStore};

/// The journal is folded into the state file once it is larger than the file, or than this.
pub(super) const JOURNAL_COMPACT_MIN_BYTES: u64 = 1 << 20;

/// How often a waiting `lock` tries again.
const LOCK_RETRY: Duration = Duration::from_millis(200);

/// What a checksum line starts with; the hex digest and `",\n` follow.
const CHECKSUM_LINE_START: &[u8] = b"{\n  \"checksum\": \"sha256:";
const CHECKSUM_HEX_LEN: usize = 64;

pub struct LocalStore {
    path: PathBuf,
    display_path: String,
    environment: String,
    /// Set once the file on disk is known to be absent or a valid state of this environment, so
    /// later saves skip the check. A failed check is not remembered: the user may fix the file.
    checked: AtomicBool,
    /// Size of the last file written: the next serialization reserves that much up front.
    last_size: AtomicUsize,
    /// The file as this store last read or wrote it. A save finding anything else there (an
    /// edit, a damaged byte) checks the file again before replacing it, so a file damaged
    /// during a long apply is refused, not overwritten, at no cost to ordinary saves.
    last_seen: Mutex<Option<FileStamp>>,
    /// Bytes of the journal that hold complete lines: the next line is written there (over the
    /// torn tail of a write a crash cut short, if any).
    journal_len: AtomicU64,
}

/// What identifies one version of the file without reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileStamp {
    len: u64,
    modified: Option<SystemTime>,
}

impl FileStamp {
    fn of(path: &Path) -> Option<FileStamp> {
        let meta = fs::metadata(path).ok()?;
        Some(FileStamp {
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

impl LocalStore {
    /// `path` is where the file is; `display_path` is how messages name it
    /// (`.cairn/state/dev.json`).
    pub fn new(path: PathBuf, display_path: String, environment: String) -> LocalStore {
        LocalStore {
            path,
            display_path,
            environment,
            checked: AtomicBool::new(false),
            last_size: AtomicUsize::new(0),
            last_seen: Mutex::new(None),
            journal_len: AtomicU64::new(0),
        }
    }

    /// `.cairn/state/dev.json.journal`: changes since the file was last written.
    pub fn journal_path(&self) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(".journal");
        PathBuf::from(name)
    }

    /// `.cairn/state/dev.lock` for `.cairn/state/dev.json`.
    pub fn lock_path(&self) -> PathBuf {
        if self.path.extension().is_some_and(|ext| ext == "json") {
            self.path.with_extension("lock")
        } else {
            let mut name = self.path.clone().into_os_string();
            name.push(".lock");
            PathBuf::from(name)
        }
    }

    /// `.cairn/state/dev.json.backup`: the file as it was before the last save.
    pub fn backup_path(&self) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(".backup");
        PathBuf::from(name)
    }

    fn remember(&self, stamp: Option<FileStamp>) {
        *self.last_seen.lock().unwrap_or_else(|p| p.into_inner()) = stamp;
    }

    fn io_error(&self, action: &'static str, source: io::Error) -> StateError {
        StateError::Io {
            action,
            path: self.display_path.clone(),
            source,
        }
    }

    #[allow(
        clippy::result_large_err,
        reason = "StateError is the StateStore contract's error, returned by value there too"
    )]
    fn read(&self) -> Result<Option<State>, StateError> {
        let stamp = FileStamp::of(&self.path);
        let bytes = match read_capped(&self.path, MAX_STATE_FILE_BYTES) {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(size)) => {
                return Err(StateError::Corrupt {
                    path: self.display_path.clone(),
                    reason: format!(
                        "it is {size} bytes, over the limit of {} MiB for a state file",
                        MAX_STATE_FILE_BYTES >> 20
                    ),
                });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io_error("reading state file", e)),
        };
        let mut state = parse_state_file(&bytes, &self.display_path)?;
        self.last_size.store(bytes.len(), Ordering::Relaxed);
        if state.environment != self.environment {
            return Err(StateError::WrongEnvironment {
                path: self.display_path.clone(),
                found: state.environment,
                expected: self.environment.clone(),
            });
        }
        self.replay_journal(&mut state)?;
        self.checked.store(true, Ordering::Relaxed);
        self.remember(stamp);
        Ok(Some(state))
    }

    /// Applies the journal, if any, to the state just read from the file.
    #[allow(
        clippy::result_large_err,
        reason = "StateError is the StateStore contract's error, returned by value there too"
    )]
    fn replay_journal(&self, state: &mut State) -> Result<(), StateError> {
        let path = self.journal_path();
        let display = format!("{}.journal", self.display_path);
        let bytes = match read_capped(&path, MAX_STATE_FILE_BYTES) {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(size)) => {
                return Err(StateError::Corrupt {
                    path: display,
                    reason: format!(
                        "it is {size} bytes, over the limit of {} MiB",
                        MAX_STATE_FILE_BYTES >> 20
                    ),
                });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.journal_len.store(0, Ordering::Relaxed);
                return Ok(());
            }
            Err(e) => return Err(self.io_error("reading state journal", e)),
        };
        let replayed = journal::replay(state, &bytes).map_err(|reason| StateError::Corrupt {
            path: display,
            reason,
        })?;
        self.journal_len
            .store(replayed.valid_len, Ordering::Relaxed);
        Ok(())
    }

    /// Empties the journal after the file has been written with everything it held.
    fn clear_journal(&self) -> io::Result<()> {
        match fs::remove_file(self.journal_path()) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        self.journal_len.store(0, Ordering::Relaxed);
        Ok(())
    }

    /// Serializes `state` as it is (serial included) and replaces the file atomically, keeping
    /// the old one as the backup; then empties the journal, which the file now holds.
    async fn write(&self, state: &State) -> Result<(), StateError> {
        let body = serialize_body(state, self.last_size.load(Ordering::Relaxed))
            .map_err(|e| self.io_error("serializing state for", io::Error::other(e)))?;
        let line = checksum_line(&body);
        self.last_size
            .store(line.len() + body.len(), Ordering::Relaxed);

        let path = self.path.clone();
        let backup = self.backup_path();
        let written = tokio::task::spawn_blocking(move || {
            // The body starts with the `{\n` that the checksum line already holds.
            write_atomically(&path, &[line.as_bytes(), &body[2..]], Some(&backup))
        })
        .await
        .unwrap_or_else(|join| {
            Err(WriteFailure {
                action: "writing",
                source: io::Error::other(join.to_string()),
            })
        });
        if let Err(failure) = written {
            return Err(self.io_error(failure.action, failure.source));
        }
        self.remember(FileStamp::of(&self.path));
        self.clear_journal()
            .map_err(|e| self.io_error("emptying the state journal beside", e))
    }
}

#[async_trait]
impl StateStore for LocalStore {
    fn describe(&self) -> String {
        format!("local file {}", self.display_path)
    }

    fn backup_hint(&self) -> Option<String> {
        Some(format!("{}.backup", self.display_path))
    }

    async fn load(&self) -> Result<Option<State>, StateError> {
        self.read()
    }

    async fn save(&self, state: &mut State) -> Result<(), StateError> {
        if state.environment != self.environment {
            return Err(StateError::WrongEnvironment {
                path: self.display_path.clone(),
                found: state.environment.clone(),
                expected: self.environment.clone(),
            });
        }
        let changed = {
            let seen = *self.last_seen.lock().unwrap_or_else(|p| p.into_inner());
            seen.is_some() && FileStamp::of(&self.path) != seen
        };
        if !self.checked.load(Ordering::Relaxed) || changed {
            self.read()?;
            self.checked.store(true, Ordering::Relaxed);
        }

        state.serial += 1;
        if let Err(e) = self.write(state).await {
            state.serial -= 1;
            return Err(e);
        }
        Ok(())
    }

    async fn append(&self, changes: &StateChanges) -> Result<Appended, StateError> {
        // Only on top of a file this store has read and that is still the one it read: the
        // first save of a new environment, and a file changed underneath, go through `save`.
        let seen = *self.last_seen.lock().unwrap_or_else(|p| p.into_inner());
        if !self.checked.load(Ordering::Relaxed)
            || seen.is_none()
            || FileStamp::of(&self.path) != seen
        {
            return Ok(Appended::Unsupported);
        }
        let line = journal::encode(changes)
            .map_err(|e| self.io_error("serializing state changes for", io::Error::other(e)))?;
        let (path, valid) = (
            self.journal_path(),
            self.journal_len.load(Ordering::Relaxed),
        );
        let appended = tokio::task::spawn_blocking(move || append_line(&path, valid, &line))
            .await
            .unwrap_or_else(|join| Err(io::Error::other(join.to_string())));
        let new_len =
            appended.map_err(|e| self.io_error("appending to the state journal beside", e))?;
        self.journal_len.store(new_len, Ordering::Relaxed);
        let file_size = self.last_size.load(Ordering::Relaxed) as u64;
        Ok(Appended::Journaled {
            compact: new_len > file_size.max(JOURNAL_COMPACT_MIN_BYTES),
        })
    }

    async fn save_copy(&self, state: &State) -> Result<(), StateError> {
        if state.environment != self.environment {
            return Err(StateError::WrongEnvironment {
                path: self.display_path.clone(),
                found: state.environment.clone(),
                expected: self.environment.clone(),
            });
        }
        // What is there must load (or be absent): a damaged file is never replaced.
        self.read()?;
        self.write(state).await
    }

    async fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError> {
        let lock_path = self.lock_path();
        let not_locked = || StateError::NotLocked {
            environment: self.environment.clone(),
            location: self.describe(),
        };
        let file = match OpenOptions::new().read(true).write(true).open(&lock_path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(not_locked()),
            Err(e) => return Err(self.io_error("opening the lock file of", e)),
        };
        match file.try_lock() {
            Ok(()) => {
                // Nobody holds it: a holder that died left at most its record, which says
                // nothing now. Clear it so no one is misled.
                let _ = file.set_len(0);
                let _ = file.unlock();
                Err(not_locked())
            }
            Err(TryLockError::WouldBlock) => {
                let holder = read_lock_record(&lock_path);
                if holder.id != id {
                    return Err(StateError::LockIdMismatch {
                        environment: self.environment.clone(),
                        given: id.to_string(),
                        holder,
                    });
                }
                Err(StateError::HeldByLiveProcess {
                    environment: self.environment.clone(),
                    holder,
                })
            }
            Err(TryLockError::Error(e)) => Err(self.io_error("locking", e)),
        }
    }

    async fn lock(
        &self,
        info: LockInfo,
        timeout: Duration,
    ) -> Result<Box<dyn StateLock>, StateError> {
        let lock_path = self.lock_path();
        if let Some(dir) = lock_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| self.io_error("creating the directory of", e))?;
        }
        // No truncation on open: the holder's record must survive until we hold the lock.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|e| self.io_error("opening the lock file of", e))?;
        let deadline = Instant::now() + timeout;
        loop {
            match file.try_lock() {
                Ok(()) => {
                    write_lock_record(&mut file, &info)
                        .map_err(|e| self.io_error("writing the lock file of", e))?;
                    return Ok(Box::new(LocalLock { file, info }));
                }
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => {
                    return Err(self.io_error("locking", e));
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(StateError::Locked {
                    environment: self.environment.clone(),
                    holder: read_lock_record(&lock_path),
                });
            }
            tokio::time::sleep((deadline - now).min(LOCK_RETRY)).await;
        }
    }
}

/// A held local lock. Dropping it clears the record, then releases the OS lock.
struct LocalLock {
    file: File,
    info: LockInfo,
}

impl StateLock for LocalLock {
    fn info(&self) -> &LockInfo {
        &self.info
    }
}

impl Drop for LocalLock {
    fn drop(&mut self) {
        // Best effort: the OS releases the lock when the file closes anyway.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

fn write_lock_record(file: &mut File, info: &LockInfo) -> io::Result<()> {
    let json = serde_json::to_vec_pretty(info).map_err(io::Error::other)?;
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&json)?;
    file.write_all(b"\n")?;
    file.flush()
}

/// The holder's record, or [`LockInfo::unknown`] when it cannot be read (the holder has not
/// written it yet, or the OS refuses reads of a locked file).
fn read_lock_record(lock_path: &Path) -> LockInfo {
    let mut text = String::new();
    let read = File::open(lock_path).and_then(|mut f| f.read_to_string(&mut text));
    match read {
        Ok(_) => serde_json::from_str(&text).unwrap_or_else(|_| LockInfo::unknown()),
        Err(_) => LockInfo::unknown(),
    }
}

/// The pretty JSON of `state` plus a trailing newline: every byte of the file but the
/// checksum line.
pub(crate) fn serialize_body(state: &State, size_hint: usize) -> serde_json::Result<Vec<u8>> {
    let mut body = Vec::with_capacity(size_hint + size_hint / 8);
    serde_json::to_writer_pretty(&mut body, state)?;
    body.push(b'\n');
    Ok(body)
}

/// `{\n  "checksum": "sha256:…",\n`: the file's first two lines.
pub(crate) fn checksum_line(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("{{\n  \"checksum\": \"sha256:{}\",\n", hex::encode(digest))
}

/// What the first pass reads: enough to decide whether the rest can be trusted.
#[derive(Deserialize)]
struct Header {
    format_version: Option<u64>,
    checksum: Option<IgnoredAny>,
}

/// Parses and verifies a state file's bytes. Every failure is a [`StateError::Corrupt`] or
/// [`StateError::TooNew`] whose reason a human can act on.
#[allow(
    clippy::result_large_err,
    reason = "StateError is the StateStore contract's error, returned by value there too"
)]
pub(crate) fn parse_state_file(bytes: &[u8], display_path: &str) -> Result<State, StateError> {
    let corrupt = |reason: String| StateError::Corrupt {
        path: display_path.to_string(),
        reason,
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(corrupt("the file is empty".to_string()));
    }
    // The common case, a file cairn wrote and nobody touched, is parsed once: its checksum
    // holds, and it reads as a state of a version this cairn knows.
    if checksum_matches(bytes)
        && let Ok(state) = serde_json::from_slice::<State>(bytes)
        && state.format_version <= STATE_FORMAT_VERSION
    {
        return Ok(state);
    }
    // Otherwise find what is wrong, in the order a user can act on it: syntax, then the
    // version (a newer cairn may checksum differently), then the checksum, then the content.
    let header: Header = serde_json::from_slice(bytes).map_err(|e| corrupt(json_reason(&e)))?;
    let version = header.format_version.ok_or_else(|| {
        corrupt("missing field `format_version`: this is not a cairn state file".to_string())
    })?;
    if version > u64::from(STATE_FORMAT_VERSION) {
        return Err(StateError::TooNew {
            path: display_path.to_string(),
            found: u32::try_from(version).unwrap_or(u32::MAX),
            supported: STATE_FORMAT_VERSION,
        });
    }
    if header.checksum.is_none() {
        return Err(corrupt(
            "missing field `checksum`: cairn always writes one, so the file was not written by cairn or was edited by hand"
                .to_string(),
        ));
    }
    if !checksum_matches(bytes) {
        return Err(corrupt(
            "checksum mismatch: the file was changed or damaged after cairn wrote it".to_string(),
        ));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| corrupt(format!("not a valid cairn state: {}", json_reason_text(&e))))
}

/// Whether line 2 is a checksum line and its digest is that of the rest of the file. A checksum
/// member anywhere else means the file was rewritten by something other than cairn.
fn checksum_matches(bytes: &[u8]) -> bool {
    let Some(rest) = bytes.strip_prefix(CHECKSUM_LINE_START) else {
        return false;
    };
    if rest.len() < CHECKSUM_HEX_LEN {
        return false;
    }
    let (hex_digest, rest) = rest.split_at(CHECKSUM_HEX_LEN);
    let Some(rest) = rest.strip_prefix(b"\",\n") else {
        return false;
    };
    let mut hasher = Sha256::new();
    hasher.update(b"{\n");
    hasher.update(rest);
    let actual = hex::encode(hasher.finalize());
    actual.as_bytes() == hex_digest
}

/// A JSON error as a sentence: truncation told apart from other damage, with the position.
fn json_reason(e: &serde_json::Error) -> String {
    match e.classify() {
        serde_json::error::Category::Eof => format!(
            "truncated: the JSON ends early, at line {} column {} (the file is incomplete)",
            e.line(),
            e.column()
        ),
        serde_json::error::Category::Syntax => format!(
            "invalid JSON at line {} column {}: {}",
            e.line(),
            e.column(),
            json_reason_text(e)
        ),
        serde_json::error::Category::Data => format!(
            "not a cairn state file at line {} column {}: {}",
            e.line(),
            e.column(),
            json_reason_text(e)
        ),
        serde_json::error::Category::Io => json_reason_text(e),
    }
}

/// serde_json's message without the ` at line L column C` it appends.
fn json_reason_text(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    match text.strip_suffix(&suffix) {
        Some(stripped) => stripped.to_string(),
        None => text,
    }
}

/// Why an atomic write failed: the step, and the OS error.
pub(crate) struct WriteFailure {
    pub action: &'static str,
    pub source: io::Error,
}

/// Writes `parts` to `path` so that readers see the old file or the new one, never a mix, even
/// if the machine loses power: a private (0600) temporary file in the same directory, fsynced,
/// renamed over `path`, then the directory fsynced. With `backup`, the file being replaced is
/// kept there first (a hard link to the old bytes, or a copy where links are unsupported).
pub(crate) fn write_atomically(
    path: &Path,
    parts: &[&[u8]],
    backup: Option<&Path>,
) -> Result<(), WriteFailure> {
    let fail = |action: &'static str| move |source: io::Error| WriteFailure { action, source };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(fail("creating the directory of"))?;
    let name = path.file_name().ok_or_else(|| WriteFailure {
        action: "writing",
        source: io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"),
    })?;
    let suffix = hex::encode(rand::random::<[u8; 6]>());
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{suffix}.tmp"));
    let tmp = dir.join(tmp_name);

    let result = (|| {
        let mut file = create_private(&tmp).map_err(fail("creating a temporary file beside"))?;
        for part in parts {
            file.write_all(part).map_err(fail("writing"))?;
        }
        file.sync_all().map_err(fail("syncing"))?;
        drop(file);
        if let Some(backup) = backup {
            keep_backup(path, backup, &suffix).map_err(fail("keeping a backup of"))?;
        }
        fs::rename(&tmp, path).map_err(fail("replacing"))?;
        sync_dir(&dir).map_err(fail("syncing the directory of"))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes `line` at byte `valid` of the journal at `path` and syncs it, first cutting off the
/// torn tail a crash may have left after `valid`; returns the journal's new length.
fn append_line(path: &Path, valid: u64, line: &[u8]) -> io::Result<u64> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    if file.metadata()?.len() > valid {
        file.set_len(valid)?;
    }
    file.seek(SeekFrom::Start(valid))?;
    file.write_all(line)?;
    file.sync_data()?;
    if valid == 0 {
        // A new journal's name must survive a power loss too.
        if let Some(dir) = path.parent() {
            sync_dir(dir)?;
        }
    }
    Ok(valid + line.len() as u64)
}

fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Makes `backup` name the bytes `path` holds now. Linked under a temporary name and renamed,
/// so an existing backup is replaced atomically too.
fn keep_backup(path: &Path, backup: &Path, suffix: &str) -> io::Result<()> {
    let mut tmp = backup.as_os_str().to_os_string();
    tmp.push(format!(".{suffix}.tmp"));
    let tmp = PathBuf::from(tmp);
    match fs::hard_link(path, &tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(_) => match fs::copy(path, &tmp) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        },
    }
    fs::rename(&tmp, backup).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    // Directories cannot be opened for syncing here; the rename is as durable as the OS makes it.
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::BufRead;

    use super::*;
    use crate::addr::{ResourceAddr, ResourceMode};
    use crate::state::{ResourceState, ResourceStatus};
    use crate::value::Value;

    const DISPLAY: &str = ".cairn/state/dev.json";

    fn store_in(dir: &Path, env: &str) -> LocalStore {
        LocalStore::new(
            crate::state::default_state_path(dir, env),
            format!(".cairn/state/{env}.json"),
            env.to_string(),
        )
    }

    fn network(i: usize) -> (ResourceAddr, ResourceState) {
        let addr: ResourceAddr = format!("fake_network.net[{i}]").parse().unwrap();
        let attributes = Value::Map(BTreeMap::from([
            (
                "cidr_block".to_string(),
                Value::string(format!("10.{}.{}.0/24", i / 256, i % 256)),
            ),
            ("name".to_string(), Value::string(format!("network-{i:05}"))),
            ("enable_dns".to_string(), Value::Bool(true)),
            ("mtu".to_string(), Value::Number(1500.0)),
            ("weight".to_string(), Value::Number(0.1 + i as f64)),
            (
                "tags".to_string(),
                Value::Map(BTreeMap::from([
                    ("team".to_string(), Value::string("platform")),
                    ("env".to_string(), Value::string("dev")),
                ])),
            ),
            (
                "password".to_string(),
                crate::state::seal(
                    &Value::Sensitive(Box::new(Value::string("hunter2"))),
                    "a-lineage",
                ),
            ),
        ]));
        let resource = ResourceState {
            resource_type: "fake_network".to_string(),
            mode: ResourceMode::Managed,
            provider: "fake".to_string(),
            status: ResourceStatus::Created,
            id: Some(format!("net-{i:08}")),
            attributes: attributes.into(),
            dependencies: Vec::new(),
        };
        (addr, resource)
    }

    fn state_with(env: &str, count: usize) -> State {
        let mut state = State::new(env);
        state.resources = (0..count).map(network).collect();
        state
            .outputs
            .insert("vpc_id".to_string(), Value::string("net-00000000"));
        state
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn a_saved_state_loads_back_as_it_was_saved() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path(), "dev");
        assert_eq!(store.describe(), "local file .cairn/state/dev.json");
        assert_eq!(
            store.load().await.unwrap(),
            None,
            "no state before the first save"
        );

        let mut state = state_with("dev", 3);
        state.resources.insert(
            "fake_subnet.pending".parse().unwrap(),
            ResourceState {
                status: ResourceStatus::Pending {
                    token: "tok-1".to_string(),
                    since: None,
                },
                id: None,
                ..network(9).1
            },
        );
        store.save(&mut state).await.unwrap();
        assert_eq!(state.serial, 1);

        let loaded = store_in(dir.path(), "dev").load().await.unwrap().unwrap();
        assert_eq!(loaded, state);

        let path = dir.path().join(".cairn/state/dev.json");
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("{\n  \"checksum\": \"sha256:"),
            "{}",
            &text[..80]
        );
        assert!(
            text.contains("\n  \"serial\": 1,\n"),
            "pretty JSON a human can read"
        );
        assert!(
            !text.contains("hunter2"),
            "secrets are sealed, never in plaintext"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.ends_with(".tmp"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "temporary files left behind: {leftovers:?}"
        );
    }

    #[test]
    fn the_checksum_is_the_digest_of_the_file_without_its_checksum_line() {
        // The documented recipe `sed 2d dev.json | sha256sum`.
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path(), "dev");
        runtime()
            .block_on(store.save(&mut state_with("dev", 2)))
            .unwrap();
        let text = fs::read_to_string(dir.path().join(".cairn/state/dev.json")).unwrap();
        let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
        let checksum_line = lines.remove(1);
        let digest = hex::encode(Sha256::digest(lines.concat().as_bytes()));
        assert_eq!(
            checksum_line,
            format!("  \"checksum\": \"sha256:{digest}\",\n")
        );
    }

    #[tokio::test]
    async fn every_save_adds_one_to_the_serial_and_keeps_the_lineage() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path(), "dev");
        let mut state = state_with("dev", 1);
        let lineage = state.lineage.clone();
        for expected in 1..=3 {
            store.save(&mut state).await.unwrap();
            let loaded = store.load().await.unwrap().unwrap();
            assert_eq!(loaded.serial, expected);
            assert_eq!(loaded.lineage, lineage);
        }
    }

    #[tokio::test]
    async fn the_backup_holds_the_state_before_the_last_save() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path(), "dev");
        let mut state = state_with("dev", 1);
        store.save(&mut state).await.unwrap();
        assert!(
            !store.backup_path().exists(),
            "nothing to back up on the first save"
        );
        let first_bytes = fs::read(&store.path).unwrap();

        state.resources.extend([network(1)]);
        store.save(&mut state).await.unwrap();
        assert_eq!(fs::read(store.backup_path()).unwrap(), first_bytes);
        state.resources.extend([network(2)]);
        store.save(&mut state).await.unwrap();

        let backup = LocalStore::new(store.backup_path(), "backup".into(), "dev".into());
        let previous = backup.load().await.unwrap().unwrap();
        assert_eq!(previous.serial, 2);
        assert_eq!(previous.resources.len(), 2);
        assert_eq!(store.load().await.unwrap().unwrap().serial, 3);
    }

    /// Saves a state, damages the file with `damage`, and checks that loading it gives `reason`
    /// and that a fresh store's save leaves it byte for byte as it was.
    async fn refused_and_left_alone(
        damage: impl FnOnce(Vec<u8>) -> Vec<u8>,
        reason: impl FnOnce(&[u8]) -> String,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".cairn/state/dev.json");
        let mut state = state_with("dev", 2);
        store_in(dir.path(), "dev").save(&mut state).await.unwrap();
        let damaged = damage(fs::read(&path).unwrap());
        fs::write(&path, &damaged).unwrap();

        let store = store_in(dir.path(), "dev");
        let expected = format!(
            "state file {DISPLAY} is corrupt: {}; it was left untouched (restore it from {DISPLAY}.backup or version control)",
            reason(&damaged)
        );
        let err = store.load().await.unwrap_err();
        assert!(matches!(err, StateError::Corrupt { .. }), "{err:?}");
        assert_eq!(err.to_string(), expected);

        let err = store.save(&mut state).await.unwrap_err();
        assert_eq!(err.to_string(), expected);
        assert_eq!(
            fs::read(&path).unwrap(),
            damaged,
            "the damaged file was modified"
        );
        assert_eq!(state.serial, 1, "a refused save does not count");
    }

    #[tokio::test]
    async fn a_file_damaged_between_two_saves_of_one_store_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path(), "dev");
        let mut state = state_with("dev", 2);
        store.save(&mut state).await.unwrap();
        // Another program flips one byte while this store still holds the state in memory
        // (a long apply): the next save must notice rather than trust its first check.
        let mut bytes = fs::read(&store.path).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 0x01;
        fs::write(&store.path, &bytes).unwrap();
        let err = store.save(&mut state).await.unwrap_err();
        assert!(err.to_string().contains("checksum mismatch"), "{err}");
        assert_eq!(
            fs::read(&store.path).unwrap(),
            bytes,
            "the damaged file was modified"
        );
    }

    #[tokio::test]
    async fn a_state_file_over_the_size_limit_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path(), "dev");
        fs::create_dir_all(store.path.parent().unwrap()).unwrap();
        // Sparse: costs no disk, and is refused from its size alone.
        let file = File::create(&store.path).unwrap();
        file.set_len(MAX_STATE_FILE_BYTES + 1).unwrap();
        let err = store.load().await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "state file {DISPLAY} is corrupt: it is {} bytes, over the limit of 512 MiB for a state file; it was left untouched (restore it from {DISPLAY}.backup or version control)",
                MAX_STATE_FILE_BYTES + 1
            )
        );
        let mut state = state_with("dev", 2);
        assert!(store.save(&mut state).await.is_err());
        assert_eq!(
            fs::metadata(&store.path).unwrap().len(),
            MAX_STATE_FILE_BYTES + 1
        );
    }

    #[tokio::test]
    async fn a_changed_byte_is_a_checksum_mismatch() {
        refused_and_left_alone(
            |bytes| {
                let text = String::from_utf8(bytes).unwrap();
                assert!(text.contains("net-00000001"));
                text.replacen("net-00000001", "net-00000007", 1)
                    .into_bytes()
            },
            |_| {
                "checksum mismatch: the file was changed or damaged after cairn wrote it"
                    .to_string()
            },
        )
        .await;
    }

    #[tokio::test]
    async fn a_file_cut_in_half_is_truncated() {
        refused_and_left_alone(
            |mut bytes| {
                bytes.truncate(bytes.len() / 2);
                bytes
            },
            |damaged| {
                // The position of the end of the file, as an editor shows it.
                let text = std::str::from_utf8(damaged).unwrap();
                let line = text.matches('\n').count() + 1;
                let column = text.rsplit('\n').next().unwrap().chars().count();
                format!("truncated: the JSON ends early, at line {line} column {column} (the file is incomplete)")
            },
        )
        .await;
    }

    #[tokio::test]
    async fn a_file_that_is_not_json_is_refused() {
        refused_and_left_alone(
            |_| b"resources:\n  - type: fake_network\n".to_vec(),
            |_| "invalid JSON at line 1 column 1: expected value".to_string(),
        )
        .await;
    }

    #[tokio::test]
    async fn an_empty_file_is_refused() {
        refused_and_left_alone(|_| Vec::new(), |_| "the file is empty".to_string()).await;
    }

    #[tokio::test]
    async fn a_file_without_checksum_is_refused() {
        refused_and_left_alone(
            |bytes| {
                let text = String::from_utf8(bytes).unwrap();
                let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
                lines.remove(1);
                lines.concat().into_bytes()
            },
            |_| "missing field `checksum`: cairn always writes one, so the file was not written by cairn or was edited by hand".to_string(),
        )
        .await;
    }

    #[tokio::test]
    async fn a_well_sealed_file_missing_a_field_is_refused() {
        // Checksummed correctly, so only the field check can catch it.
        refused_and_left_alone(
            |_| {
                let body = b"{\n  \"format_version\": 1,\n  \"serial\": 3\n}\n".to_vec();
                let mut file = checksum_line(&body).into_bytes();
                file.extend_from_slice(&body[2..]);
                file
            },
            |_| "not a valid cairn state: missing field `lineage`".to_string(),
        )
        .await;
    }

    #[tokio::test]
    async fn a_state_from_a_newer_cairn_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".cairn/state/dev.json");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text = "{\n  \"checksum\": \"sha512:whatever-v2-does\",\n  \"format_version\": 2\n}\n";
        fs::write(&path, text).unwrap();
        let store = store_in(dir.path(), "dev");
        let err = store.load().await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "state file .cairn/state/dev.json was written by a newer cairn (format 2, this cairn reads 1)"
        );
        store.save(&mut state_with("dev", 1)).await.unwrap_err();
        assert_eq!(fs::read_to_string(&path).unwrap(), text);
    }

    #[tokio::test]
    async fn a_state_of_another_environment_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        store_in(dir.path(), "stg")
            .save(&mut state_with("stg", 1))
            .await
            .unwrap();
        let state_dir = dir.path().join(".cairn/state");
        fs::copy(state_dir.join("stg.json"), state_dir.join("dev.json")).unwrap();
        let before = fs::read(state_dir.join("dev.json")).unwrap();

        let store = store_in(dir.path(), "dev");
        let expected = "state at .cairn/state/dev.json belongs to environment `stg`, not `dev`";
        assert_eq!(store.load().await.unwrap_err().to_string(), expected);
        let err = store.save(&mut state_with("dev", 1)).await.unwrap_err();
        assert_eq!(err.to_string(), expected);
        assert_eq!(fs::read(state_dir.join("dev.json")).unwrap(), before);
    }

    #[tokio::test]
    async fn force_unlock_never_breaks_a_live_os_lock_and_checks_the_id() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path(), "dev");
        assert!(matches!(
            store.force_unlock("0011").await,
            Err(StateError::NotLocked { .. })
        ));
        let info = LockInfo::for_current_process("apply");
        let guard = store.lock(info.clone(), Duration::ZERO).await.unwrap();
        let other = store_in(dir.path(), "dev");
        match other.force_unlock("0011").await {
            Err(StateError::LockIdMismatch { holder, .. }) => assert_eq!(holder, info),
            other => panic!("{other:?}"),
        }
        let err = other.force_unlock(&info.id).await.unwrap_err();
        assert!(matches!(err, StateError::HeldByLiveProcess { .. }), "{err}");
        assert!(err.to_string().contains("stop that process"), "{err}");
        drop(guard);
        assert!(matches!(
            other.force_unlock(&info.id).await,
            Err(StateError::NotLocked { .. })
        ));
    }

    #[tokio::test]
    async fn save_copy_keeps_the_serial_and_lineage() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path(), "dev");
        let mut state = state_with("dev", 2);
        state.serial = 41;
        store.save_copy(&state).await.unwrap();
        let loaded = store.load().await.unwrap().unwrap();
        assert_eq!((loaded.serial, &loaded.lineage), (41, &state.lineage));
        assert_eq!(loaded, state);
    }

    #[tokio::test]
    async fn a_second_locker_is_told_who_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let first = store_in(dir.path(), "dev");
        let second = store_in(dir.path(), "dev");
        let info = LockInfo::for_current_process("apply");
        let guard = first.lock(info.clone(), Duration::ZERO).await.unwrap();
        assert_eq!(guard.info(), &info);
        assert_eq!(first.lock_path(), dir.path().join(".cairn/state/dev.lock"));

        let started = Instant::now();
        let err = second
            .lock(LockInfo::for_current_process("plan"), Duration::ZERO)
            .await
            .err()
            .unwrap();
        assert!(
            started.elapsed() < Duration::from_millis(150),
            "zero timeout fails at once"
        );
        match &err {
            StateError::Locked {
                environment,
                holder,
            } => {
                assert_eq!(environment, "dev");
                assert_eq!(holder, &info);
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        assert_eq!(
            err.to_string(),
            format!(
                "state of environment `dev` is locked by {} (pid {}, running `apply`, since {}, lock id {})",
                info.who, info.pid, info.created, info.id
            )
        );
    }

    #[tokio::test]
    async fn a_waiting_locker_gets_the_lock_when_the_holder_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = store_in(dir.path(), "dev");
        let second = store_in(dir.path(), "dev");
        let guard = first
            .lock(LockInfo::for_current_process("apply"), Duration::ZERO)
            .await
            .unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(500));
            drop(guard);
        });
        let started = Instant::now();
        let info = LockInfo::for_current_process("plan");
        let guard = second
            .lock(info.clone(), Duration::from_secs(10))
            .await
            .unwrap();
        let waited = started.elapsed();
        releaser.join().unwrap();
        assert!(
            waited >= Duration::from_millis(400),
            "got the lock after {waited:?}"
        );
        let record: LockInfo =
            serde_json::from_str(&fs::read_to_string(second.lock_path()).unwrap()).unwrap();
        assert_eq!(record, info, "the new holder's record replaces the old one");
        drop(guard);
    }

    #[tokio::test]
    async fn a_waiting_locker_gives_up_after_its_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let _guard = store_in(dir.path(), "dev")
            .lock(LockInfo::for_current_process("apply"), Duration::ZERO)
            .await
            .unwrap();
        let started = Instant::now();
        let err = store_in(dir.path(), "dev")
            .lock(
                LockInfo::for_current_process("plan"),
                Duration::from_millis(450),
            )
            .await
            .err()
            .unwrap();
        assert!(matches!(err, StateError::Locked { .. }), "{err:?}");
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(450) && waited < Duration::from_secs(3),
            "{waited:?}"
        );
    }

    #[tokio::test]
    async fn dropping_the_guard_releases_the_lock_and_clears_the_record() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path(), "dev");
        let guard = store
            .lock(LockInfo::for_current_process("apply"), Duration::ZERO)
            .await
            .unwrap();
        drop(guard);
        assert_eq!(fs::read_to_string(store.lock_path()).unwrap(), "");
        let again = store_in(dir.path(), "dev")
            .lock(LockInfo::for_current_process("plan"), Duration::ZERO)
            .await;
        assert!(again.is_ok(), "the lock is free after the guard drops");
    }

    #[tokio::test]
    async fn a_holder_without_a_record_is_an_unknown_holder() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path(), "dev");
        fs::create_dir_all(dir.path().join(".cairn/state")).unwrap();
        // Someone who took the lock but has not written its record yet.
        let raw = File::create(store.lock_path()).unwrap();
        raw.try_lock().unwrap();
        let err = store
            .lock(LockInfo::for_current_process("plan"), Duration::ZERO)
            .await
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "state of environment `dev` is locked by unknown holder"
        );
    }

    /// Set in the child process of `a_killed_holder_leaves_no_stale_lock`.
    const HOLDER_ENV: &str = "CAIRN_TEST_LOCK_HOLDER_DIR";
    const HOLDING: &str = "cairn-test: holding the lock";

    #[test]
    fn a_killed_holder_leaves_no_stale_lock() {
        if let Ok(dir) = std::env::var(HOLDER_ENV) {
            // Child: take the lock, say so, and wait to be killed.
            let store = store_in(Path::new(&dir), "dev");
            let _guard = runtime()
                .block_on(store.lock(LockInfo::for_current_process("apply"), Duration::ZERO))
                .unwrap();
            println!("{HOLDING}");
            io::stdout().flush().unwrap();
            std::thread::sleep(Duration::from_secs(60));
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "state::local::tests::a_killed_holder_leaves_no_stale_lock",
            ])
            .args(["--nocapture", "--test-threads=1"])
            .env(HOLDER_ENV, dir.path())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = io::BufReader::new(child.stdout.take().unwrap());
        let mut holding = false;
        for line in stdout.lines() {
            if line.unwrap().contains(HOLDING) {
                holding = true;
                break;
            }
        }
        assert!(holding, "the child never took the lock");

        let rt = runtime();
        let store = store_in(dir.path(), "dev");
        let err = rt
            .block_on(store.lock(LockInfo::for_current_process("plan"), Duration::ZERO))
            .err()
            .unwrap();
        match err {
            StateError::Locked { holder, .. } => assert_eq!(holder.pid, child.id()),
            other => panic!("expected Locked, got {other:?}"),
        }

        child.kill().unwrap();
        child.wait().unwrap();
        let after = rt.block_on(store.lock(LockInfo::for_current_process("plan"), Duration::ZERO));
        assert!(after.is_ok(), "the OS released the killed holder's lock");
    }

    /// A store that saved `count` networks, then appended one change per added network.
    async fn saved_then_journaled(
        dir: &Path,
        count: usize,
        appended: usize,
    ) -> (LocalStore, State) {
        let store = store_in(dir, "dev");
        let mut state = state_with("dev", count);
        store.save(&mut state).await.unwrap();
        for i in count..count + appended {
            let (addr, resource) = network(i);
            state.resources.insert(addr.clone(), resource);
            let changes = StateChanges::of(&state, [&addr]);
            let appended = store.append(&changes).await.unwrap();
            assert_eq!(appended, Appended::Journaled { compact: false });
            state.serial = changes.serial;
        }
        (store, state)
    }

    #[tokio::test]
    async fn changes_appended_to_the_journal_are_in_the_state_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let (store, state) = saved_then_journaled(dir.path(), 3, 2).await;
        let file_before = fs::read(&store.path).unwrap();
        assert!(store.journal_path().exists());
        // Another process (a teammate's plan after a crash) reads file + journal.
        let loaded = store_in(dir.path(), "dev").load().await.unwrap().unwrap();
        assert_eq!(loaded, state);
        assert_eq!(loaded.serial, 3);
        assert_eq!(
            fs::read(&store.path).unwrap(),
            file_before,
            "the file was not rewritten"
        );

        // A save of the whole state folds the journal in and empties it.
        let mut whole = loaded;
        store.save(&mut whole).await.unwrap();
        assert!(!store.journal_path().exists());
        assert_eq!(
            store_in(dir.path(), "dev").load().await.unwrap().unwrap(),
            whole
        );
    }

    #[tokio::test]
    async fn a_journal_line_cut_short_by_a_crash_is_dropped_and_written_over() {
        let dir = tempfile::tempdir().unwrap();
        let (store, state) = saved_then_journaled(dir.path(), 3, 1).await;
        let mut torn = fs::OpenOptions::new()
            .append(true)
            .open(store.journal_path())
            .unwrap();
        torn.write_all(b"sha256:0123 {\"lineage\": \"cut sh")
            .unwrap();
        drop(torn);

        let reader = store_in(dir.path(), "dev");
        let mut loaded = reader.load().await.unwrap().unwrap();
        assert_eq!(loaded, state, "the torn line was never acknowledged");
        let (addr, resource) = network(9);
        loaded.resources.insert(addr.clone(), resource);
        let changes = StateChanges::of(&loaded, [&addr]);
        reader.append(&changes).await.unwrap();
        loaded.serial = changes.serial;
        assert_eq!(
            store_in(dir.path(), "dev").load().await.unwrap().unwrap(),
            loaded
        );
    }

    #[tokio::test]
    async fn a_damaged_journal_is_refused_by_name_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = saved_then_journaled(dir.path(), 3, 2).await;
        let mut bytes = fs::read(store.journal_path()).unwrap();
        bytes[30] ^= 0x20;
        fs::write(store.journal_path(), &bytes).unwrap();
        let err = store_in(dir.path(), "dev").load().await.unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains(".cairn/state/dev.json.journal is corrupt")
                && message.contains("journal line 1: checksum mismatch"),
            "{message}"
        );
        assert_eq!(fs::read(store.journal_path()).unwrap(), bytes);
    }

    #[tokio::test]
    async fn a_state_never_saved_whole_is_not_journaled() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path(), "dev");
        let state = state_with("dev", 1);
        let changes = StateChanges::of(&state, state.resources.keys());
        assert_eq!(store.append(&changes).await.unwrap(), Appended::Unsupported);
        assert!(!store.journal_path().exists());
    }

    #[tokio::test]
    async fn persisting_one_change_costs_the_change_not_the_state() {
        // Printed (`cargo test --lib persisting_one -- --nocapture`) and compared by size, not time:
        // the bytes written per operation stay flat while the state grows tenfold.
        let mut line_sizes = Vec::new();
        for count in [1_000, 10_000] {
            let dir = tempfile::tempdir().unwrap();
            let (store, mut state) = saved_then_journaled(dir.path(), count, 0).await;
            let rounds = 20;
            let started = Instant::now();
            for i in 0..rounds {
                let (addr, resource) = network(count + i);
                state.resources.insert(addr.clone(), resource);
                let changes = StateChanges::of(&state, [&addr]);
                store.append(&changes).await.unwrap();
                state.serial = changes.serial;
            }
            let per_append = started.elapsed() / rounds as u32;
            let started = Instant::now();
            for _ in 0..5 {
                store.save(&mut state).await.unwrap();
            }
            let per_save = started.elapsed() / 5;
            let file = fs::metadata(&store.path).unwrap().len();
            let line = journal::encode(&StateChanges::of(&state, [&network(0).0]))
                .unwrap()
                .len();
            line_sizes.push(line);
            println!(
                "state of {count} resources ({} KiB): journal append {per_append:?} ({line} bytes), whole save {per_save:?}",
                file / 1024
            );
        }
        assert!(
            line_sizes[1] <= line_sizes[0] + 8,
            "a journal line does not grow with the state: {line_sizes:?}"
        );
    }
}
