//! The local store shared by `kiln`, `ferry` and `berth`.
//!
//! ```text
//! $ROOT/oci/               an OCI image layout (oci-layout, index.json, blobs/<alg>/<hex>);
//!                          image names are `org.opencontainers.image.ref.name` annotations
//!                          holding the full normalised name (`localhost/app:latest`,
//!                          `docker.io/library/busybox:latest`), so `skopeo ... oci:$ROOT/oci:NAME`
//!                          and `umoci ... --image $ROOT/oci:NAME` work on it directly
//! $ROOT/layers/<chain-id>  unpacked layer trees, the overlay lower directories (see below)
//! $ROOT/layer-trees/<chain-id>  what each tree held when unpacked, for fsck (see `tree`)
//! $ROOT/containers/<id>/   working and running containers (owned by the sandbox and build crates)
//! $ROOT/cache/             build cache records
//! $ROOT/tmp/               in-flight writes; per-process leases (see below)
//! $ROOT/index.lock         the metadata lock (holds the pid and command of its holder)
//! ```
//!
//! **Privacy.** The root is mode 0700 (as podman's storage) and files written through the store
//! are 0600: container records and bundles hold environment values, builds stage secrets under
//! `containers/`, and another user able to open `index.lock` could stall every writer.
//!
//! **Invariants.** A blob appears under `blobs/` only after its digest and size were verified
//! ([`BlobWriter`]); compressed blobs are kept exactly as they came. `index.json` is replaced by
//! write-to-temp, fsync, rename, under an exclusive `flock`, so concurrent processes never lose
//! each other's updates and readers never see a torn file. Every open [`Store`] holds a locked
//! lease file in `tmp/`; [`Store::open`] removes what processes without a live lease left there
//! (a writer killed in the middle of a blob leaves only such a file). [`Store::gc`] keeps blobs
//! and layer trees that live leases pinned, so a pull in progress is not collected under it.
//!
//! **Unpacked layers.** `layers/<chain-id-hex>` holds one layer's *own diff* (not the merged
//! tree): stacked bottom-first as overlay lower directories they give the image's root
//! filesystem. Whiteouts and opaque directories are kept in overlay's form (see
//! [`Store::ensure_unpacked`] for which one).
//!
//! ```no_run
//! # fn main() -> Result<(), wharf_store::StoreError> {
//! use std::io::Write;
//! let store = wharf_store::Store::open(wharf_store::default_root()?)?;
//! let mut w = store.blob_writer(None)?;
//! w.write_all(b"hello").map_err(|e| wharf_store::StoreError::Io {
//!     op: "writing", path: store.root().to_owned(), source: e })?;
//! let blob = w.commit()?;
//! assert!(store.has_blob(&blob.digest));
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod blob;
mod error;
mod fsck;
mod fsutil;
mod gc;
mod images;
mod index;
mod layers;
mod lease;
mod name;
mod referrers;
mod refs;
mod root;
mod tree;
mod unpack;
mod users;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use blob::{BlobWriter, JSON_LIMIT, StoredBlob};
pub use error::StoreError;
pub use fsck::{FsckProblem, FsckReport};
pub use gc::GcReport;
pub use images::ImageRecord;
pub use index::{ContainerNamesLock, DEFAULT_LOCK_TIMEOUT, LOCK_TIMEOUT_ENV, REF_NAME};
pub use layers::chain_id;
pub use name::normalize_name;
pub use referrers::{is_referrer, referrers_among};
pub use root::default_root;
pub use tree::{TreeCheck, TreeStatus};
pub use unpack::{Unpacked, default_apply_options};
pub use wharf_archive::{ApplyOptions, DeviceNodes, SkippedDevices};
use wharf_oci::Digest;

use crate::fsutil::{mkdir_p, mkdir_private, write_atomic};
use crate::lease::Lease;

/// An open store. Cheap to clone; clones share one lease (one liveness lock file).
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    root: PathBuf,
    lease: Lease,
    /// How long to wait for the metadata lock before failing (see [`index::LOCK_TIMEOUT_ENV`]).
    lock_timeout: Option<std::time::Duration>,
}

impl Inner {
    fn blob_path(&self, d: &Digest) -> PathBuf {
        // Both parts are restricted by the digest grammar ([a-z0-9+._-] and [a-zA-Z0-9=_-]),
        // and an algorithm is made of non-empty components, so neither can be `..` or hold `/`.
        self.root
            .join("oci/blobs")
            .join(d.algorithm().as_ref())
            .join(d.digest())
    }
}

/// The `oci-layout` file of every OCI layout Wharf writes (the store, `oci:` destinations).
pub const OCI_LAYOUT: &[u8] = b"{\"imageLayoutVersion\":\"1.0.0\"}\n";

impl Store {
    /// Opens (creating when needed) the store at `root`, and removes leftovers of processes
    /// that ended in the middle of a write.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        Self::open_with_lock_timeout(root, index::lock_timeout_from_env()?)
    }

    /// [`Store::open`] with an explicit metadata-lock timeout instead of the one from
    /// [`LOCK_TIMEOUT_ENV`] (`None`: wait forever).
    pub fn open_with_lock_timeout(
        root: impl Into<PathBuf>,
        lock_timeout: Option<std::time::Duration>,
    ) -> Result<Self, StoreError> {
        let root: PathBuf = root.into();
        mkdir_private(&root)?;
        for dir in ["oci/blobs/sha256", "layers", "containers", "cache", "tmp"] {
            mkdir_p(&root.join(dir))?;
        }
        let tmp = root.join("tmp");
        let lease = Lease::acquire(&tmp)?;
        lease::clean_tmp(&tmp, &lease)?;
        let store = Self {
            inner: Arc::new(Inner {
                root,
                lease,
                lock_timeout,
            }),
        };
        let layout = store.oci_dir().join("oci-layout");
        if !layout.exists() {
            write_atomic(
                &store.inner.lease.temp_path("oci-layout"),
                &layout,
                OCI_LAYOUT,
            )?;
        }
        if !store.index_path().exists() {
            store.update_index(|_| Ok(()))?;
        }
        Ok(store)
    }

    /// Opens the store at [`default_root`].
    pub fn open_default() -> Result<Self, StoreError> {
        Self::open(default_root()?)
    }

    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// The OCI image layout directory (`$ROOT/oci`).
    pub fn oci_dir(&self) -> PathBuf {
        self.inner.root.join("oci")
    }

    pub fn layers_dir(&self) -> PathBuf {
        self.inner.root.join("layers")
    }

    pub fn containers_dir(&self) -> PathBuf {
        self.inner.root.join("containers")
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.inner.root.join("cache")
    }

    pub fn tmp_dir(&self) -> PathBuf {
        self.inner.root.join("tmp")
    }

    /// A fresh path under `tmp/` owned by this process (removed by the next [`Store::open`] once
    /// this process has ended). `kind` becomes the file-name suffix.
    pub fn temp_path(&self, kind: &str) -> PathBuf {
        self.inner.lease.temp_path(kind)
    }

    /// Replaces `dest` (inside the store) with `bytes` atomically: temp file, fsync, rename.
    pub fn write_file_atomic(&self, dest: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        write_atomic(&self.temp_path("file"), dest, bytes)
    }
}

/// Lists entries of a directory that may not exist yet.
pub(crate) fn read_dir_names(dir: &Path) -> Result<Vec<String>, StoreError> {
    let iter = match fs::read_dir(dir) {
        Ok(it) => it,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io("listing", dir)(e)),
    };
    let mut names = Vec::new();
    for entry in iter {
        let entry = entry.map_err(StoreError::io("listing", dir))?;
        if let Ok(n) = entry.file_name().into_string() {
            names.push(n);
        }
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    /// The store is used from `spawn_blocking` and worker threads.
    #[test]
    fn store_and_writer_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>() {}
        send_sync::<super::Store>();
        send::<super::BlobWriter>();
    }
}
