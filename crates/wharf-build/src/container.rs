//! A working container: the image's unpacked layers as overlay lower directories plus a fresh
//! upper directory under `$ROOT/containers/<id>/`. Snapshotting writes the upper directory as
//! a layer (so its cost follows what changed, not the image size), then moves that directory
//! into `layers/<chain-id>` where it becomes the next lower, and mounts a fresh upper on top.
//!
//! Where no overlay can be mounted (the copy driver, in an unprivileged CI container), the
//! root is a plain copy of the layers and a snapshot is the difference between the tree before
//! and after the step ([`crate::tree_diff`]): nothing is mounted at all.

use std::path::{Path, PathBuf};

use wharf_archive::{LayerCompression, LayerInfo, LayerSource, WriteOptions};
use wharf_oci::Digest;
use wharf_sandbox::overlay::{Driver, DriverKind, MountRequest};
use wharf_store::Store;

use crate::error::BuildError;

/// A mounted overlay with its own upper directory; unmounted and removed on drop.
#[derive(Debug)]
pub struct WorkingContainer {
    store: Store,
    driver: Driver,
    id: String,
    dir: PathBuf,
    /// Lower directories, base first.
    lowers: Vec<PathBuf>,
    /// Diff IDs of the lowers that are layers (the empty base of `scratch` is not).
    diff_ids: Vec<Digest>,
    mounted: bool,
    /// The copy driver's tree as the last snapshot left it (None on overlay).
    baseline: Option<Box<crate::tree_diff::Tree>>,
    /// A COPY's files still without their bytes, filled by the next snapshot.
    deferred: Option<DeferredCopy>,
}

/// The files a COPY created without their bytes ([`crate::copy::copy_sources_deferred`]),
/// with whatever keeps their sources in place (a `--from` container, downloaded files) until
/// the snapshot has read them.
#[derive(Debug)]
pub struct DeferredCopy {
    pub files: wharf_archive::PendingFiles,
    pub keep: Box<dyn std::any::Any>,
}

/// A layer written from an upper directory and stored as a blob.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub info: LayerInfo,
    pub compression: LayerCompression,
}

/// A build step's container: `build-` and 16 digits of the one container ID
/// ([`wharf_container::new_id`]), so that `ls containers/` tells them from kept containers.
fn new_id() -> String {
    format!("build-{}", &wharf_container::new_id()[..16])
}

fn mkdir(p: &Path) -> Result<(), BuildError> {
    std::fs::create_dir_all(p).map_err(BuildError::io("creating", p))
}

impl WorkingContainer {
    /// Creates and mounts a container over `lowers` (base first) whose diff IDs are `diff_ids`.
    pub fn create(
        store: &Store,
        driver: &Driver,
        lowers: Vec<PathBuf>,
        diff_ids: Vec<Digest>,
    ) -> Result<Self, BuildError> {
        let id = new_id();
        let dir = store.container_dir(&id)?;
        let chains = wharf_store::chain_id(&diff_ids);
        store.record_container_layers(&id, &chains)?;
        let mut c = Self {
            store: store.clone(),
            driver: driver.clone(),
            id,
            dir,
            lowers,
            diff_ids,
            mounted: false,
            baseline: None,
            deferred: None,
        };
        if c.lowers.is_empty() {
            // Overlay needs at least one lower: `scratch` gets an empty one.
            let empty = c.dir.join("empty");
            mkdir(&empty)?;
            c.lowers.push(empty);
        }
        c.mount()?;
        if driver.kind() == DriverKind::Copy {
            c.baseline = Some(Box::new(c.scan()?));
        }
        Ok(c)
    }

    fn scan(&self) -> Result<crate::tree_diff::Tree, BuildError> {
        let root = self.rootfs();
        crate::tree_diff::Tree::scan(&root).map_err(BuildError::io("scanning", root))
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The merged root filesystem.
    pub fn rootfs(&self) -> PathBuf {
        self.dir.join("merged")
    }

    /// A scratch directory for bundles and scripts, outside the root filesystem.
    pub fn scratch(&self) -> PathBuf {
        self.dir.join("run")
    }

    fn upper(&self) -> PathBuf {
        self.dir.join("upper")
    }

    fn mount(&mut self) -> Result<(), BuildError> {
        for d in ["upper", "work", "merged", "run"] {
            mkdir(&self.dir.join(d))?;
        }
        self.driver.mount(&MountRequest {
            layers: self.lowers.clone(),
            upper: self.upper(),
            work: self.dir.join("work"),
            target: self.rootfs(),
            // A build step's upper directory becomes a layer blob (written and synced by the
            // store) or is thrown away; a crash ends the build either way.
            volatile: true,
        })?;
        self.mounted = true;
        Ok(())
    }

    fn unmount(&mut self) -> Result<(), BuildError> {
        if self.mounted {
            self.driver.unmount(&self.rootfs())?;
            self.mounted = false;
        }
        Ok(())
    }

    /// Whether the upper directory holds any change.
    pub fn has_changes(&self) -> Result<bool, BuildError> {
        if let Some(before) = &self.baseline {
            return Ok(!before.changes(&self.scan()?).is_empty());
        }
        let upper = self.upper();
        let mut it = std::fs::read_dir(&upper).map_err(BuildError::io("listing", &upper))?;
        Ok(it.next().is_some())
    }

    /// Hands the next snapshot a COPY's files to fill while it writes the layer. Until then
    /// the tree must not be read: the snapshot must be the next thing done with it.
    pub fn defer(&mut self, copy: DeferredCopy) {
        self.deferred = Some(copy);
    }

    /// Writes the changes since the last snapshot as a layer blob and stacks them as a lower.
    pub fn snapshot(
        &mut self,
        compression: LayerCompression,
        clamp_mtime: Option<i64>,
    ) -> Result<Snapshot, BuildError> {
        if self.baseline.is_some() {
            return self.snapshot_by_diff(compression, clamp_mtime);
        }
        self.unmount()?;
        let upper = self.upper();
        let mut blob = self.store.blob_writer(None)?;
        let opts = WriteOptions {
            source: LayerSource::OverlayUpper,
            compression,
            level: None,
            clamp_mtime,
        };
        // A COPY's files are filled in the upper directory while they are archived.
        let info = match self.deferred.take() {
            Some(mut d) => {
                wharf_archive::write_layer_filling(&upper, &mut blob, &opts, &mut d.files)?
            }
            None => wharf_archive::write_layer(&upper, &mut blob, &opts)?,
        };
        blob.commit()?;
        self.diff_ids.push(info.diff_id.clone());
        let chain = wharf_store::chain_id(&self.diff_ids)
            .pop()
            .unwrap_or_else(|| info.diff_id.clone());
        let dest = self.store.layer_dir(&chain);
        self.store
            .record_container_layers(&self.id, &wharf_store::chain_id(&self.diff_ids))?;
        if dest.is_dir() {
            remove_all(&upper)?;
        } else if let Err(e) = std::fs::rename(&upper, &dest) {
            if !dest.is_dir() {
                return Err(BuildError::io("moving the layer into place at", dest)(e));
            }
            remove_all(&upper)?;
        }
        let work = self.dir.join("work");
        remove_all(&work)?;
        self.lowers.push(dest);
        self.mount()?;
        Ok(Snapshot { info, compression })
    }
}

impl WorkingContainer {
    /// The copy driver's snapshot: the changes since the last one, found by comparing trees.
    fn snapshot_by_diff(
        &mut self,
        compression: LayerCompression,
        clamp_mtime: Option<i64>,
    ) -> Result<Snapshot, BuildError> {
        let mut after = self.scan()?;
        let changes = self
            .baseline
            .as_ref()
            .map(|b| b.changes(&after))
            .unwrap_or_default();
        let mut blob = self.store.blob_writer(None)?;
        let opts = WriteOptions {
            source: LayerSource::Plain,
            compression,
            level: None,
            clamp_mtime,
        };
        let root = self.rootfs();
        let info = match self.deferred.take() {
            Some(mut d) => {
                let filled: Vec<Vec<u8>> = d.files.paths().map(<[u8]>::to_vec).collect();
                let info = wharf_archive::write_layer_changes_filling(
                    &root,
                    &changes,
                    &mut blob,
                    &opts,
                    &mut d.files,
                )?;
                // Filling moved their ctime: the next step must not see them as changed.
                after
                    .restat(&root, &filled)
                    .map_err(BuildError::io("scanning", &root))?;
                info
            }
            None => wharf_archive::write_layer_changes(&root, &changes, &mut blob, &opts)?,
        };
        blob.commit()?;
        self.diff_ids.push(info.diff_id.clone());
        self.store
            .record_container_layers(&self.id, &wharf_store::chain_id(&self.diff_ids))?;
        self.baseline = Some(Box::new(after));
        Ok(Snapshot { info, compression })
    }
}

fn remove_all(p: &Path) -> Result<(), BuildError> {
    match std::fs::remove_dir_all(p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(BuildError::io("removing", p)(e)),
    }
}

impl Drop for WorkingContainer {
    fn drop(&mut self) {
        if let Err(e) = self.unmount() {
            tracing::warn!("unmounting container {}: {e}", self.id);
        }
        if let Err(e) = remove_all(&self.dir) {
            tracing::warn!("removing container {}: {e}", self.id);
        }
    }
}
