//! Per-process leases on `tmp/`: liveness for leftover cleanup, and pins that keep `gc` away
//! from blobs and layer trees a live process has just written but not yet referenced.
//!
//! Every open [`Store`](crate::Store) holds an exclusive `flock` on `tmp/<token>.lease` for its
//! lifetime; every temporary entry it creates is named `tmp/<token>.<n>.<kind>`. The kernel drops
//! the lock when the process dies however it dies (even `SIGKILL`), so the next start can tell a
//! dead owner's leftovers from a live owner's work by trying the lock.
//!
//! Pins: before a blob or layer tree is renamed into place, its name is appended to the lease
//! file. `gc` lists candidates first and reads the live leases second, so anything that was
//! visible to its listing was already pinned.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::StoreError;
use crate::fsutil::{remove_all, try_lock_exclusive};

const LEASE_SUFFIX: &str = ".lease";

#[derive(Debug)]
pub(crate) struct Lease {
    tmp: PathBuf,
    token: String,
    path: PathBuf,
    file: Mutex<File>,
    counter: AtomicU64,
}

fn fresh_token(attempt: u32) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}-{:x}",
        std::process::id(),
        (nanos as u64) ^ u64::from(attempt)
    )
}

impl Lease {
    /// Creates and locks a lease file in `tmp`.
    pub(crate) fn acquire(tmp: &Path) -> Result<Self, StoreError> {
        for attempt in 0u32.. {
            let token = fresh_token(attempt);
            let path = tmp.join(format!("{token}{LEASE_SUFFIX}"));
            let file = match OpenOptions::new()
                .read(true)
                .append(true)
                .create_new(true)
                .open(&path)
            {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(StoreError::io("creating lease", &path)(e)),
            };
            // Between create and lock, a cleaner in another process may have taken the lock,
            // seen an unlocked lease and removed it: only an exclusive lock on the file that
            // is still at `path` counts.
            if !try_lock_exclusive(&file).map_err(StoreError::io("locking lease", &path))? {
                continue;
            }
            let ours = file
                .metadata()
                .map_err(StoreError::io("inspecting", &path))?;
            match fs::metadata(&path) {
                Ok(m) if m.ino() == ours.ino() && m.dev() == ours.dev() => {
                    return Ok(Self {
                        tmp: tmp.to_owned(),
                        token,
                        path,
                        file: Mutex::new(file),
                        counter: AtomicU64::new(0),
                    });
                }
                _ => {}
            }
        }
        unreachable!("an unbounded loop only ends by returning")
    }

    /// A fresh path in `tmp/` owned by this lease.
    pub(crate) fn temp_path(&self, kind: &str) -> PathBuf {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        self.tmp.join(format!("{}.{n}.{kind}", self.token))
    }

    /// Pins `item` (a digest or `layer:<hex>`) for as long as this lease lives.
    pub(crate) fn pin(&self, item: &str) -> Result<(), StoreError> {
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        file.write_all(format!("{item}\n").as_bytes())
            .map_err(StoreError::io("writing lease", &self.path))
    }

    /// Drops every pin (the lease itself stays).
    pub(crate) fn release_pins(&self) -> Result<(), StoreError> {
        let file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Opened in append mode: later pins land at the new end.
        file.set_len(0)
            .map_err(StoreError::io("truncating lease", &self.path))
    }

    pub(crate) fn token(&self) -> &str {
        &self.token
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // Still locked here, so no cleaner can race us; the lock goes with the file handle.
        let _ = fs::remove_file(&self.path);
    }
}

fn token_of(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

/// Removes what dead processes left in `tmp/`: their lease files and every entry carrying their
/// token, plus entries whose owner's lease is gone. Returns the paths removed.
///
/// Best effort: a leftover that cannot be removed (say, a layer tree unpacked inside a user
/// namespace with owners this process cannot override) must not stop the store from opening;
/// it stays for a later start that can. Only failing to list `tmp/` is an error.
pub(crate) fn clean_tmp(tmp: &Path, own: &Lease) -> Result<Vec<PathBuf>, StoreError> {
    // Entries first, leases second: an entry's lease existed before the entry did, so a lease
    // missing from the second listing means its owner had already ended.
    let entries = list_names(tmp)?;
    let (live, dead) = scan_leases(tmp, own)?;
    let mut removed = Vec::new();
    for (lease, file) in dead {
        // We hold the dead lease's lock while removing it: its file handle drops afterwards.
        let path = tmp.join(&lease);
        let gone = remove_all(&path).is_ok();
        drop(file);
        if gone {
            removed.push(path);
        }
    }
    for name in entries {
        if name.ends_with(LEASE_SUFFIX) {
            continue;
        }
        let token = token_of(&name);
        if token == own.token() || live.contains(token) {
            continue;
        }
        let path = tmp.join(&name);
        if remove_all(&path).is_ok() {
            removed.push(path);
        }
    }
    Ok(removed)
}

/// Items pinned by live leases (including our own).
pub(crate) fn live_pins(tmp: &Path, own: &Lease) -> Result<HashSet<String>, StoreError> {
    pins_of(tmp, own, true)
}

/// Items pinned by live leases other than ours.
pub(crate) fn other_pins(tmp: &Path, own: &Lease) -> Result<HashSet<String>, StoreError> {
    pins_of(tmp, own, false)
}

/// Items our lease pins.
pub(crate) fn own_pins(own: &Lease) -> Result<HashSet<String>, StoreError> {
    match fs::read_to_string(&own.path) {
        Ok(text) => Ok(text.lines().map(str::to_owned).collect()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(HashSet::new()),
        Err(e) => Err(StoreError::io("reading lease", &own.path)(e)),
    }
}

fn pins_of(tmp: &Path, own: &Lease, with_own: bool) -> Result<HashSet<String>, StoreError> {
    let (live, dead) = scan_leases(tmp, own)?;
    drop(dead);
    let mut pins = HashSet::new();
    let mine = with_own.then(|| own.token());
    for token in live.iter().map(String::as_str).chain(mine) {
        let path = tmp.join(format!("{token}{LEASE_SUFFIX}"));
        match fs::read_to_string(&path) {
            Ok(text) => pins.extend(text.lines().map(str::to_owned)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::io("reading lease", &path)(e)),
        }
    }
    Ok(pins)
}

fn list_names(dir: &Path) -> Result<Vec<String>, StoreError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(StoreError::io("listing", dir))? {
        let entry = entry.map_err(StoreError::io("listing", dir))?;
        if let Ok(name) = entry.file_name().into_string() {
            names.push(name);
        }
    }
    Ok(names)
}

/// Lease files of ended processes, by name, each held locked while it is removed.
type DeadLeases = Vec<(String, File)>;

/// Splits the other leases in `tmp` into live tokens and dead lease files (returned locked).
fn scan_leases(tmp: &Path, own: &Lease) -> Result<(HashSet<String>, DeadLeases), StoreError> {
    let mut live = HashSet::new();
    let mut dead = Vec::new();
    for name in list_names(tmp)? {
        let Some(token) = name.strip_suffix(LEASE_SUFFIX) else {
            continue;
        };
        if token == own.token() {
            continue;
        }
        let path = tmp.join(&name);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(StoreError::io("opening lease", &path)(e)),
        };
        if try_lock_exclusive(&file).map_err(StoreError::io("locking lease", &path))? {
            dead.push((name.clone(), file));
        } else {
            live.insert(token.to_owned());
        }
    }
    Ok((live, dead))
}
