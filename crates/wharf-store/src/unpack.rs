//! Unpacking layers into `layers/<chain-id-hex>`, one directory per layer holding that layer's
//! own diff, ready to be stacked as overlay lower directories.
//!
//! Each layer is decompressed and applied by `wharf_archive::apply_layer_threaded` (reading on
//! one thread, creating files on another) into a fresh directory under `tmp/`, its blob digest
//! and diff ID verified on the way (`LayerReader`; while it downloads, the blob writer checks
//! the digest and `DiffReader` the diff ID), and only then renamed to `layers/<chain-id>`. The applier runs in its overlay-output mode
//! ([`Whiteouts::Overlay`]), so OCI whiteouts become overlay's own markers while the stream
//! is applied, in one pass:
//!
//! - `.wh.NAME` becomes a character device 0/0 at `NAME` (unprivileged users may create it
//!   since Linux 5.8). Where `mknod` is refused, it becomes an empty file with the
//!   `user.overlay.whiteout` xattr and its directory gets `user.overlay.opaque=x` (the
//!   "xwhiteout" form, Linux 6.7+ with `userxattr`, also read by fuse-overlayfs).
//! - `DIR/.wh..wh..opq` sets `user.overlay.opaque=y` on `DIR` (read by overlay mounted with
//!   `userxattr`, i.e. rootless) and, when permitted, `trusted.overlay.opaque=y` (overlay
//!   mounted by real root).

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use wharf_archive::{
    ApplyOptions, ApplyStats, DeviceNodes, DiffReader, LayerReader, NodeStat, SkippedDevices,
    Whiteouts,
};
use wharf_oci::media_type::layer_compression;
use wharf_oci::{Descriptor, Digest, ImageManifest};

use crate::fsutil::{mkdir_p, remove_all, sync_dir};
use crate::{Store, StoreError, chain_id};

/// Apply options for the current process: owners restored when we are (namespaced) root;
/// device nodes created by real root, and otherwise created where the kernel allows and
/// skipped where it refuses (a user namespace always does), as containers/storage does
/// rootless: the runtime bind-mounts `/dev` from the host, so nothing is lost.
pub fn default_apply_options() -> ApplyOptions {
    let root = rustix::process::geteuid().is_root();
    let initial_ns = std::fs::read_to_string("/proc/self/uid_map")
        .is_ok_and(|m| m.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"]);
    ApplyOptions {
        devices: if root && initial_ns {
            DeviceNodes::Create
        } else {
            DeviceNodes::CreateOrSkip
        },
        same_owner: root,
        ..ApplyOptions::default()
    }
}

/// What [`Store::unpack_layers`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unpacked {
    /// The layer directories, bottom-first.
    pub dirs: Vec<PathBuf>,
    /// Device nodes the apply options skipped (rootless), per layer blob digest, for the
    /// layers this call unpacked: callers warn about them. Layers that were already unpacked
    /// report nothing again.
    pub skipped_devices: Vec<(Digest, SkippedDevices)>,
}

impl Unpacked {
    /// One line per layer whose device nodes were skipped, for the caller to print as a
    /// warning (the store itself never prints).
    #[must_use]
    pub fn device_warnings(&self) -> Vec<String> {
        self.skipped_devices
            .iter()
            .map(|(layer, skipped)| {
                format!(
                    "layer {layer}: skipped {} device node(s) that a rootless user cannot create, e.g. /{}",
                    skipped.count,
                    skipped
                        .first
                        .first()
                        .map_or("", String::as_str)
                        .trim_start_matches('/')
                )
            })
            .collect()
    }
}

impl Store {
    /// Unpacks every layer of `manifest` that is not unpacked yet and returns the layer
    /// directories bottom-first (overlay wants them top-first in `lowerdir`). `diff_ids` come
    /// from the image config; each layer's diff ID and blob digest are verified while it is
    /// applied, and a layer appears under `layers/` only complete and verified.
    pub fn ensure_unpacked(
        &self,
        manifest: &ImageManifest,
        diff_ids: &[Digest],
    ) -> Result<Vec<PathBuf>, StoreError> {
        self.ensure_unpacked_with(manifest, diff_ids, &default_apply_options())
    }

    /// [`Store::ensure_unpacked`] with explicit apply options.
    pub fn ensure_unpacked_with(
        &self,
        manifest: &ImageManifest,
        diff_ids: &[Digest],
        opts: &ApplyOptions,
    ) -> Result<Vec<PathBuf>, StoreError> {
        Ok(self.unpack_layers(manifest, diff_ids, opts)?.dirs)
    }

    /// [`Store::ensure_unpacked_with`], also reporting what the apply options skipped.
    pub fn unpack_layers(
        &self,
        manifest: &ImageManifest,
        diff_ids: &[Digest],
        opts: &ApplyOptions,
    ) -> Result<Unpacked, StoreError> {
        self.unpack_descriptors(manifest.layers(), diff_ids, opts)
    }

    /// [`Store::unpack_layers`] for layer descriptors that belong to no stored manifest (a
    /// build's or a working container's layer chain).
    pub fn unpack_descriptors(
        &self,
        layers: &[Descriptor],
        diff_ids: &[Digest],
        opts: &ApplyOptions,
    ) -> Result<Unpacked, StoreError> {
        if layers.len() != diff_ids.len() {
            return Err(StoreError::LayerCountMismatch {
                layers: layers.len(),
                diff_ids: diff_ids.len(),
            });
        }
        let chains = chain_id(diff_ids);
        let dirs: Vec<PathBuf> = chains.iter().map(|c| self.layer_dir(c)).collect();
        // Each layer goes to its own directory, so layers unpack independently: a layer's
        // content never depends on the one below it until overlay stacks them.
        let todo: Vec<usize> = (0..layers.len()).filter(|&i| !dirs[i].is_dir()).collect();
        let stats = parallel_map(&todo, unpack_workers(todo.len()), |&i| {
            self.unpack_one(&layers[i], &diff_ids[i], &chains[i], opts)
        })?;
        let mut done = Unpacked {
            dirs,
            skipped_devices: Vec::new(),
        };
        for (&i, stats) in todo.iter().zip(stats) {
            if stats.skipped_devices.count > 0 {
                done.skipped_devices
                    .push((layers[i].digest().clone(), stats.skipped_devices));
            }
        }
        Ok(done)
    }

    fn unpack_one(
        &self,
        layer: &Descriptor,
        diff_id: &Digest,
        chain: &Digest,
        opts: &ApplyOptions,
    ) -> Result<ApplyStats, StoreError> {
        let temp = self.temp_path("layer");
        let opts = ApplyOptions {
            record: true,
            ..opts.clone()
        };
        let result = (|| {
            let mut stats = self.extract_verified(layer, diff_id, &temp, &opts)?;
            self.publish_layer(&temp, layer, diff_id, chain, stats.nodes.take())?;
            Ok(stats)
        })();
        if result.is_err() {
            let _ = remove_all(&temp);
        }
        result
    }

    /// Moves the verified tree `temp` of `layer` to `layers/<chain>`; `nodes` is what the
    /// apply reported of it, if it could.
    fn publish_layer(
        &self,
        temp: &std::path::Path,
        layer: &Descriptor,
        diff_id: &Digest,
        chain: &Digest,
        nodes: Option<Vec<(Vec<u8>, NodeStat)>>,
    ) -> Result<(), StoreError> {
        let dest = self.layer_dir(chain);
        // Recorded now that the stream matched the diff ID, for `fsck` to compare with
        // later (see `tree`). Best effort: without a record the layer is still verified,
        // only a later change to it goes unnoticed.
        let record = Self::layer_tree_record(temp, layer, diff_id, nodes).ok();
        self.inner.lease.pin(&format!("layer:{}", chain.digest()))?;
        match std::fs::rename(temp, &dest) {
            Ok(()) => {
                sync_dir(&self.layers_dir())?;
                if let Some(r) = record {
                    let _ = self.save_layer_tree_record(chain, &r);
                }
            }
            // Another process unpacked the same layer first: theirs is as good as ours.
            Err(_) if dest.is_dir() => remove_all(temp)?,
            Err(e) => return Err(StoreError::io("renaming into place", &dest)(e)),
        }
        Ok(())
    }

    /// Stores the layer blob read from `blob` and unpacks it in the same pass, as containerd's
    /// unpack-during-pull does: the bytes go to the blob writer and, on the way, through the
    /// decompressor into the applier, so a pull is bounded by the slower of the two instead of
    /// their sum. The tree is built in a temporary directory and published as
    /// `layers/<chain>` only once the blob's digest and size and the layer's `diff_id` all
    /// matched; on any failure neither the blob nor the tree is kept.
    ///
    /// A layer already unpacked, or of a media type that is not a layer the store can apply,
    /// is only stored. So is a layer whose device nodes the apply options skip (rootless):
    /// its tree is dropped, and [`Store::unpack_layers`] makes it again later and reports
    /// the skipped nodes to its caller, who warns.
    pub fn put_layer_unpacking(
        &self,
        layer: &Descriptor,
        diff_id: &Digest,
        chain: &Digest,
        blob: impl io::Read,
    ) -> Result<(), StoreError> {
        let mut writer = self.blob_writer(Some((layer.digest(), layer.size())))?;
        let compression = layer_compression(layer.media_type().as_ref());
        let Some(compression) = compression.filter(|_| !self.layer_dir(chain).is_dir()) else {
            let mut blob = blob;
            io::copy(&mut blob, &mut writer).map_err(StoreError::io("writing", self.root()))?;
            writer.commit()?;
            return Ok(());
        };
        let temp = self.temp_path("layer");
        let started = std::time::Instant::now();
        let mut tee = Tee {
            inner: blob,
            copy: &mut writer,
        };
        let result = (|| {
            mkdir_p(&temp)?;
            let archive_err = |source| StoreError::Archive {
                digest: layer.digest().clone(),
                source: Box::new(source),
            };
            let opts = ApplyOptions {
                whiteouts: Whiteouts::Overlay {
                    xattr_fallback: true,
                },
                record: true,
                ..default_apply_options()
            };
            // The blob writer hashes the compressed bytes on the way in (the Tee): the
            // reader checks the diff ID only.
            let mut reader = DiffReader::new(
                io::BufReader::with_capacity(256 << 10, &mut tee),
                compression,
            )
            .map_err(archive_err)?;
            let stats = wharf_archive::apply_layer_threaded(&mut reader, &temp, &opts)
                .map_err(archive_err)?;
            // Reads the rest of the blob (tar padding, trailing bytes) into the writer too.
            let info = reader.finish().map_err(archive_err)?;
            if info.diff_id != *diff_id {
                return Err(StoreError::DiffIdMismatch {
                    layer: Box::new(layer.digest().clone()),
                    expected: Box::new(diff_id.clone()),
                    actual: info.diff_id,
                });
            }
            Ok(stats)
        })();
        let mut stats = match result {
            Ok(stats) => stats,
            Err(e) => {
                let _ = remove_all(&temp);
                // Bytes that do not match the digest are the cause to name, not the garbage
                // the applier choked on: read the rest (bounded by the expected size) and
                // check. A blob that does match is a malformed layer, stored as it is; no
                // image references it once the pull has failed.
                if matches!(e, StoreError::Archive { .. }) {
                    // A source that verifies its own stream fails the read at its end.
                    if let Err(read) = io::copy(&mut tee.inner, tee.copy) {
                        return Err(StoreError::io("downloading into", self.root())(read));
                    }
                    if let Err(
                        mismatch @ (StoreError::DigestMismatch { .. }
                        | StoreError::SizeMismatch { .. }),
                    ) = writer.commit()
                    {
                        return Err(mismatch);
                    }
                }
                // Otherwise the writer, dropped uncommitted, removes its temporary file.
                return Err(e);
            }
        };
        let applied = started.elapsed();
        // Verifies the blob's digest and size: until then the tree stays unpublished.
        if let Err(e) = writer.commit() {
            let _ = remove_all(&temp);
            return Err(e);
        }
        let committed = started.elapsed();
        if stats.skipped_devices.count > 0 {
            return remove_all(&temp);
        }
        let published = self.publish_layer(&temp, layer, diff_id, chain, stats.nodes.take());
        if published.is_err() {
            let _ = remove_all(&temp);
        }
        tracing::debug!(
            layer = %layer.digest(),
            entries = stats.entries,
            bytes = stats.bytes,
            applied_ms = applied.as_millis(),
            committed_ms = committed.as_millis(),
            published_ms = started.elapsed().as_millis(),
            "layer stored and unpacked"
        );
        published
    }

    /// Applies the blob of `layer` into the new directory `temp`, in overlay's form, checking
    /// its digest and `diff_id` on the way. On an error `temp` may hold a partial tree: the
    /// caller removes it.
    pub(crate) fn extract_verified(
        &self,
        layer: &Descriptor,
        diff_id: &Digest,
        temp: &std::path::Path,
        opts: &ApplyOptions,
    ) -> Result<ApplyStats, StoreError> {
        let media_type = layer.media_type().to_string();
        let compression =
            layer_compression(&media_type).ok_or_else(|| StoreError::UnknownLayerType {
                digest: layer.digest().clone(),
                media_type: media_type.clone(),
            })?;
        let blob = self.open_blob(layer.digest())?;
        let archive_err = |source| StoreError::Archive {
            digest: layer.digest().clone(),
            source: Box::new(source),
        };
        // Whatever the caller asked, a layer directory holds overlay's markers.
        let opts = ApplyOptions {
            whiteouts: Whiteouts::Overlay {
                xattr_fallback: true,
            },
            ..opts.clone()
        };
        mkdir_p(temp)?;
        let mut reader =
            LayerReader::new(io::BufReader::with_capacity(256 << 10, blob), compression)
                .map_err(archive_err)?;
        let stats =
            wharf_archive::apply_layer_threaded(&mut reader, temp, &opts).map_err(archive_err)?;
        let info = reader.finish().map_err(archive_err)?;
        if info.digest != *layer.digest() {
            return Err(StoreError::DigestMismatch {
                expected: layer.digest().clone(),
                actual: info.digest,
            });
        }
        if info.diff_id != *diff_id {
            return Err(StoreError::DiffIdMismatch {
                layer: Box::new(layer.digest().clone()),
                expected: Box::new(diff_id.clone()),
                actual: info.diff_id,
            });
        }
        Ok(stats)
    }
}

/// A reader that writes every byte it reads to `copy` as well.
struct Tee<'a, R, W> {
    inner: R,
    copy: &'a mut W,
}

impl<R: io::Read, W: io::Write> io::Read for Tee<'_, R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.copy.write_all(&buf[..n])?;
        Ok(n)
    }
}

/// Memory one unpacking layer holds at most: the 256 KiB read buffer, the inflate window and
/// state, up to 1.5 MiB of chunks between the reading and the applying thread, the tar and
/// write buffers. Far below what a machine with cores to spare has; the bound
/// only matters on tiny machines.
const UNPACK_MEMORY: u64 = 8 << 20;

/// How many layers unpack at once: one per core (decompression is the bound), never more than
/// there are layers, and no more than a quarter of the available memory allows.
fn unpack_workers(layers: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let by_memory = available_memory().map_or(usize::MAX, |m| {
        usize::try_from(m / 4 / UNPACK_MEMORY)
            .unwrap_or(usize::MAX)
            .max(1)
    });
    cores.min(by_memory).min(layers).max(1)
}

/// `MemAvailable` from `/proc/meminfo`, in bytes.
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// `f` over `items` on up to `workers` threads, results in the order of `items`, or the first
/// failure in that order. After a failure no new item starts; items already running finish, so
/// each one cleans up after itself.
fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    workers: usize,
    f: impl Fn(&T) -> Result<R, StoreError> + Sync,
) -> Result<Vec<R>, StoreError> {
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let slots: Vec<Mutex<Option<Result<R, StoreError>>>> =
        items.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= items.len() || failed.load(Ordering::Relaxed) {
                        break;
                    }
                    let r = f(&items[i]);
                    if r.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    *slots[i].lock().unwrap_or_else(PoisonError::into_inner) = Some(r);
                }
            });
        }
    });
    // An item is left unstarted only after another failed: the first failure in order is
    // the answer then.
    let mut out = Vec::with_capacity(items.len());
    for slot in slots {
        match slot.into_inner().unwrap_or_else(PoisonError::into_inner) {
            Some(Ok(r)) => out.push(r),
            Some(Err(e)) => return Err(e),
            None => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(i: usize) -> StoreError {
        StoreError::LayerCountMismatch {
            layers: i,
            diff_ids: 0,
        }
    }

    #[test]
    fn parallel_results_keep_the_order_of_the_items() {
        let items: Vec<usize> = (0..37).collect();
        for workers in [1, 2, 5] {
            let out = parallel_map(&items, workers, |&i| Ok(i * 2)).unwrap();
            assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        }
    }

    #[test]
    fn the_first_failure_in_order_wins_even_when_a_later_one_fails_first() {
        let items = [0usize, 1, 2];
        let later_failed = AtomicBool::new(false);
        let err = parallel_map(&items, 3, |&i| match i {
            0 => {
                // Fails only after item 2 has failed: the order of the items decides.
                while !later_failed.load(Ordering::SeqCst) {
                    std::thread::yield_now();
                }
                Err(fail(0))
            }
            2 => {
                later_failed.store(true, Ordering::SeqCst);
                Err(fail(2))
            }
            _ => Ok(()),
        })
        .unwrap_err();
        assert!(
            matches!(err, StoreError::LayerCountMismatch { layers: 0, .. }),
            "{err:?}"
        );
    }
}
