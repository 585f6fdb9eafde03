//! The layout's `index.json`: read without a lock (it is only ever replaced by an atomic
//! rename), updated under an exclusive `flock` on `$ROOT/index.lock` so that several processes
//! can add and remove names at once without losing each other's changes.

use std::fs::{self, File, OpenOptions};
use std::io;

use rustix::fs::FlockOperation;
use serde::{Deserialize, Serialize};
use wharf_oci::Descriptor;
use wharf_oci::media_type::OCI_INDEX;

use crate::fsutil::{flock, write_atomic};
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

/// Held while `index.json` is being read, changed and replaced.
pub(crate) struct IndexLock {
    _file: File,
}

impl Store {
    pub(crate) fn index_path(&self) -> std::path::PathBuf {
        self.oci_dir().join("index.json")
    }

    /// Takes the store's exclusive metadata lock (blocks until free).
    pub(crate) fn lock_index(&self) -> Result<IndexLock, StoreError> {
        let path = self.root().join("index.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(StoreError::io("opening lock", &path))?;
        flock(&file, FlockOperation::LockExclusive).map_err(StoreError::io("locking", &path))?;
        Ok(IndexLock { _file: file })
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
