//! The layout's `index.json`: read without a lock (it is only ever replaced by an atomic
//! rename), updated under an exclusive `flock` on `$ROOT/index.lock` so that several processes
//! can add and remove names at once without losing each other's changes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use wharf_oci::Descriptor;
use wharf_oci::media_type::OCI_INDEX;

use crate::fsutil::{try_lock_exclusive, write_atomic};
use crate::{Store, StoreError};

/// The annotation that names an image in an OCI layout.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// `index.json` as stored; fields we do not model are kept as they were.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LayoutIndex {
    pub schema_version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Default for LayoutIndex {
    fn default() -> Self {
        Self {
            schema_version: 2,
            media_type: Some(OCI_INDEX.to_owned()),
            manifests: Vec::new(),
            extra: serde_json::Map::new(),
        }
    }
}

/// The name an index entry carries, if any.
pub(crate) fn ref_name(d: &Descriptor) -> Option<&str> {
    d.annotations()
        .as_ref()
        .and_then(|a| a.get(REF_NAME))
        .map(String::as_str)
}

/// A copy of `d` carrying `name` (or no name) and no other annotation of ours.
pub(crate) fn named(d: &Descriptor, name: Option<&str>) -> Descriptor {
    let mut out = d.clone();
    let mut annotations = d.annotations().clone().unwrap_or_default();
    annotations.remove(REF_NAME);
    if let Some(n) = name {
        annotations.insert(REF_NAME.to_owned(), n.to_owned());
    }
    out.set_annotations((!annotations.is_empty()).then_some(annotations));
    out
}

/// The environment variable that sets how long a process waits for the store's metadata lock:
/// seconds (fractions allowed), `0` to fail at once, `never` to wait forever.
pub const LOCK_TIMEOUT_ENV: &str = "WHARF_LOCK_TIMEOUT";

/// How long a process waits for the metadata lock by default. The lock is held for
/// milliseconds by commits and tags and for the length of a `gc` by prunes, so a minute only
/// runs out when the holder is stuck or hostile; then the error names it instead of hanging.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_mins(1);

/// The lock timeout from [`LOCK_TIMEOUT_ENV`] (`None`: wait forever).
pub(crate) fn lock_timeout_from_env() -> Result<Option<Duration>, StoreError> {
    let Some(raw) = std::env::var_os(LOCK_TIMEOUT_ENV) else {
        return Ok(Some(DEFAULT_LOCK_TIMEOUT));
    };
    let value = raw.to_string_lossy().trim().to_owned();
    if value.is_empty() {
        return Ok(Some(DEFAULT_LOCK_TIMEOUT));
    }
    if value == "never" {
        return Ok(None);
    }
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Some(Duration::from_secs_f64(s)))
        .ok_or(StoreError::BadLockTimeout { value })
}

/// Who holds the lock on `file`: the pid from `/proc/locks` (the kernel's word) with its
/// command line, else what the holder wrote into the file when it took the lock.
fn lock_holder(file: &File, path: &Path) -> String {
    let from_proc = file.metadata().ok().and_then(|m| {
        let dev = format!(
            "{:02x}:{:02x}:{}",
            rustix::fs::major(m.dev()),
            rustix::fs::minor(m.dev()),
            m.ino()
        );
        let locks = fs::read_to_string("/proc/locks").ok()?;
        locks.lines().find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // `N: FLOCK ADVISORY WRITE PID MAJ:MIN:INO 0 EOF`; waiters carry a `->` field.
            (f.get(1) == Some(&"FLOCK") && f.get(5) == Some(&dev.as_str()))
                .then(|| f.get(4).and_then(|p| p.parse::<u32>().ok()))
                .flatten()
        })
    });
    match from_proc {
        Some(pid) => format!("process {pid} ({})", process_command(pid)),
        None => match fs::read_to_string(path) {
            Ok(t) if !t.trim().is_empty() => format!("process {}", t.trim()),
            _ => "another process (not visible from here)".to_owned(),
        },
    }
}

/// A process's command line for messages, or its name, or `?` when it is not visible.
fn process_command(pid: u32) -> String {
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let mut text: String = String::from_utf8_lossy(&cmdline)
        .split('\0')
        .filter(|a| !a.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if text.is_empty() {
        text = fs::read_to_string(format!("/proc/{pid}/comm"))
            .map_or_else(|_| "?".to_owned(), |c| c.trim().to_owned());
    }
    if text.chars().count() > 200 {
        text = text.chars().take(200).collect::<String>() + "...";
    }
    text
}

/// Held while `index.json` is being read, changed and replaced.
pub(crate) struct IndexLock {
    _file: File,
}

/// Held while a container name is checked and taken ([`Store::lock_container_names`]).
#[derive(Debug)]
pub struct ContainerNamesLock {
    _file: File,
}

impl Store {
    pub(crate) fn index_path(&self) -> std::path::PathBuf {
        self.oci_dir().join("index.json")
    }

    /// Takes the store's exclusive metadata lock, waiting at most the store's lock timeout
    /// ([`LOCK_TIMEOUT_ENV`]); then fails naming the holder. The holder's pid and command are
    /// written into the lock file for the next waiter's message.
    pub(crate) fn lock_index(&self) -> Result<IndexLock, StoreError> {
        self.lock_index_within(self.inner.lock_timeout)
    }

    /// The metadata lock if it is free right now, else `None`.
    pub(crate) fn try_lock_index(&self) -> Result<Option<IndexLock>, StoreError> {
        match self.lock_index_within(Some(Duration::ZERO)) {
            Ok(lock) => Ok(Some(lock)),
            Err(StoreError::LockTimeout { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Takes the lock under which a new container's name is checked against every container
    /// of the store (berth's and kiln's working containers share one namespace, as in
    /// containers/storage) and its record written; without it two `berth run --name x` or
    /// `kiln from --name x` at once could both find `x` free. Waits like the index lock.
    pub fn lock_container_names(&self) -> Result<ContainerNamesLock, StoreError> {
        let file = self.lock_file_within("containers.lock", self.inner.lock_timeout)?;
        Ok(ContainerNamesLock { _file: file })
    }

    fn lock_index_within(&self, timeout: Option<Duration>) -> Result<IndexLock, StoreError> {
        let file = self.lock_file_within("index.lock", timeout)?;
        Ok(IndexLock { _file: file })
    }

    /// Takes the exclusive lock on `$ROOT/NAME`, polling for at most `timeout`.
    fn lock_file_within(&self, name: &str, timeout: Option<Duration>) -> Result<File, StoreError> {
        let path = self.root().join(name);
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(StoreError::io("opening lock", &path))?;
        let start = Instant::now();
        let mut pause = Duration::from_millis(5);
        // Polled rather than a blocking flock: a blocked flock cannot time out without a
        // signal, and the pause grows to 100 ms so a waiter costs nothing noticeable.
        while !try_lock_exclusive(&file).map_err(StoreError::io("locking", &path))? {
            let waited = start.elapsed();
            if let Some(limit) = timeout
                && waited >= limit
            {
                return Err(StoreError::LockTimeout {
                    holder: lock_holder(&file, &path),
                    path,
                    waited: limit,
                });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(100));
        }
        // Best effort: the record only improves a waiter's message.
        let me = format!(
            "{} ({})\n",
            std::process::id(),
            process_command(std::process::id())
        );
        let _ = file.set_len(0);
        let _ = std::os::unix::fs::FileExt::write_all_at(&file, me.as_bytes(), 0);
        let _ = file.flush();
        Ok(file)
    }

    pub(crate) fn read_index(&self) -> Result<LayoutIndex, StoreError> {
        let path = self.index_path();
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| StoreError::Json {
                what: path.display().to_string(),
                source,
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(LayoutIndex::default()),
            Err(e) => Err(StoreError::io("reading", &path)(e)),
        }
    }

    pub(crate) fn write_index(
        &self,
        _lock: &IndexLock,
        index: &LayoutIndex,
    ) -> Result<(), StoreError> {
        let path = self.index_path();
        let mut bytes = serde_json::to_vec_pretty(index).map_err(|source| StoreError::Json {
            what: path.display().to_string(),
            source,
        })?;
        bytes.push(b'\n');
        write_atomic(&self.inner.lease.temp_path("index.json"), &path, &bytes)
    }

    /// Reads, changes and atomically replaces `index.json` under the exclusive lock. When `f`
    /// fails nothing is written.
    pub(crate) fn update_index<T>(
        &self,
        f: impl FnOnce(&mut LayoutIndex) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let lock = self.lock_index()?;
        let mut index = self.read_index()?;
        let out = f(&mut index)?;
        self.write_index(&lock, &index)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;
    use std::time::{Duration, Instant};

    use crate::Store;

    #[test]
    fn a_held_lock_times_out_naming_the_holder() {
        let t = tempfile::tempdir().unwrap();
        let store =
            Store::open_with_lock_timeout(t.path().join("s"), Some(Duration::ZERO)).unwrap();
        // Another open file description conflicts with ours even in one process.
        let held = std::fs::File::open(store.root().join("index.lock")).unwrap();
        rustix::fs::flock(&held, rustix::fs::FlockOperation::LockExclusive).unwrap();
        let store =
            Store::open_with_lock_timeout(store.root(), Some(Duration::from_millis(300))).unwrap();
        let start = Instant::now();
        let err = store.update_index(|_| Ok(())).unwrap_err().to_string();
        assert!(start.elapsed() >= Duration::from_millis(300));
        let me = format!("process {} (", std::process::id());
        assert!(
            err.contains(&me) && err.contains("WHARF_LOCK_TIMEOUT"),
            "{err}"
        );
        drop(held);
        store.update_index(|_| Ok(())).unwrap();
    }

    #[test]
    fn the_root_is_private_and_an_open_tightens_it() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("s");
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        Store::open(&root).unwrap();
        assert_eq!(mode(&root), 0o700);
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
        Store::open(&root).unwrap();
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(&root.join("index.lock")) & 0o077, 0);
    }
}
