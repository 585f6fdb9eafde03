//! Unpacking layers into `layers/<chain-id-hex>`, one directory per layer holding that layer's
//! own diff, ready to be stacked as overlay lower directories.
//!
//! Each layer is decompressed and applied by `wharf_archive::apply_layer` into a fresh directory
//! under `tmp/`, its blob digest and diff ID verified on the way (`LayerReader`), and only then
//! renamed to `layers/<chain-id>`. OCI whiteouts become overlay's own markers, because an
//! applier working on a fresh directory has nothing to delete:
//!
//! - `.wh.NAME` becomes a character device 0/0 at `NAME` (unprivileged users may create it
//!   since Linux 5.8). Where `mknod` is refused, it becomes an empty file with the
//!   `user.overlay.whiteout` xattr and its directory gets `user.overlay.opaque=x` (the
//!   "xwhiteout" form, Linux 6.7+ with `userxattr`, also read by fuse-overlayfs).
//! - `DIR/.wh..wh..opq` sets `user.overlay.opaque=y` on `DIR` (read by overlay mounted with
//!   `userxattr`, i.e. rootless) and, when permitted, `trusted.overlay.opaque=y` (overlay
//!   mounted by real root).
//!
//! The whiteout names are learnt by a second tar parser fed a copy of the stream on another
//! thread (headers only; no second decompression). Markers are placed with `openat2`
//! `RESOLVE_IN_ROOT`, so no path in the layer can make them land outside its directory.

use std::ffi::OsStr;
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::mpsc;

use rustix::fs::{FileType, Mode, OFlags, ResolveFlags, XattrFlags};
use rustix::io::Errno;
use wharf_archive::{ApplyOptions, ApplyStats, DeviceNodes, LayerReader, SkippedDevices};
use wharf_oci::media_type::layer_compression;
use wharf_oci::{Digest, ImageManifest};

use crate::fsutil::{mkdir_p, remove_all, sync_dir};
use crate::{Store, StoreError, chain_id};

/// The whiteouts and opaque markers a layer tar carries, as normalised relative paths.
#[derive(Debug, Default)]
struct Markers {
    /// `(directory, name)` of each `.wh.NAME`.
    whiteouts: Vec<(Vec<u8>, Vec<u8>)>,
    /// Directories with `.wh..wh..opq`.
    opaque: Vec<Vec<u8>>,
}

/// Splits a tar entry name into normalised components; `None` for names the applier refuses.
fn components(raw: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    for c in raw.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

fn scan_markers(stream: impl Read) -> io::Result<Markers> {
    let mut markers = Markers::default();
    let mut archive = tar::Archive::new(stream);
    for entry in archive.entries()? {
        let entry = entry?;
        let path = entry.path_bytes();
        let Some(mut parts) = components(&path) else {
            continue;
        };
        let Some(base) = parts.pop() else { continue };
        let dir = parts.join(&b'/');
        if base == wharf_archive::names::OPAQUE_MARKER {
            markers.opaque.push(dir);
        } else if base.starts_with(b".wh..wh.") {
            // aufs metadata (`.wh..wh.plnk`, ...): meaningless to overlay.
        } else if let Some(name) = base.strip_prefix(wharf_archive::names::WHITEOUT_PREFIX) {
            markers.whiteouts.push((dir, name.to_owned()));
        }
    }
    Ok(markers)
}

/// Passes reads through and sends a copy of every chunk to the marker scanner.
struct Tee<R> {
    inner: R,
    tx: Option<mpsc::SyncSender<Vec<u8>>>,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0
            && let Some(tx) = &self.tx
            && tx.send(buf[..n].to_vec()).is_err()
        {
            // The scanner reached the end of the archive; it needs no more.
            self.tx = None;
        }
        Ok(n)
    }
}

/// The scanner's side of the channel.
struct ChannelReader {
    rx: mpsc::Receiver<Vec<u8>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.chunk.len() {
            match self.rx.recv() {
                Ok(c) => {
                    self.chunk = c;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn in_root(root: &OwnedFd, path: &[u8], flags: OFlags) -> Result<OwnedFd, Errno> {
    let path: &[u8] = if path.is_empty() { b"." } else { path };
    rustix::fs::openat2(
        root,
        OsStr::from_bytes(path),
        flags | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )
}

/// Opens directory `dir` (relative, normalised) inside the layer root, creating what is missing
/// (a whiteout in a directory the layer does not otherwise contain).
fn open_dir(root: &OwnedFd, dir: &[u8]) -> Result<OwnedFd, Errno> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY;
    match in_root(root, dir, flags) {
        Err(Errno::NOENT) if !dir.is_empty() => {
            let (parent, name) = match dir.iter().rposition(|&b| b == b'/') {
                Some(i) => (&dir[..i], &dir[i + 1..]),
                None => (&b""[..], dir),
            };
            let pfd = open_dir(root, parent)?;
            match rustix::fs::mkdirat(&pfd, OsStr::from_bytes(name), Mode::from_raw_mode(0o755)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(e),
            }
            in_root(root, dir, flags)
        }
        other => other,
    }
}

fn set_xattr(fd: impl AsFd, name: &str, value: &[u8]) -> Result<(), Errno> {
    rustix::fs::fsetxattr(fd, name, value, XattrFlags::empty())
}

fn place_markers(
    dir: &std::path::Path,
    markers: &Markers,
    layer: &Digest,
) -> Result<(), StoreError> {
    let marker_err = |path: &[u8], op: &'static str| {
        let path = String::from_utf8_lossy(path).into_owned();
        move |e: Errno| StoreError::Marker {
            layer: layer.clone(),
            path,
            op,
            source: e.into(),
        }
    };
    let root = rustix::fs::open(
        dir,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| StoreError::io("opening", dir)(e.into()))?;
    for (parent, name) in &markers.whiteouts {
        let full = [parent.as_slice(), b"/", name.as_slice()].concat();
        let pfd = open_dir(&root, parent)
            .map_err(marker_err(&full, "opening the whiteout's directory"))?;
        let os_name = OsStr::from_bytes(name);
        let dev = rustix::fs::makedev(0, 0);
        match rustix::fs::mknodat(&pfd, os_name, FileType::CharacterDevice, Mode::empty(), dev) {
            // The same layer also created NAME: its own content wins over its whiteout.
            Ok(()) | Err(Errno::EXIST) => {}
            Err(Errno::PERM | Errno::ACCESS) => {
                let f = rustix::fs::openat(
                    &pfd,
                    os_name,
                    OFlags::WRONLY
                        | OFlags::CREATE
                        | OFlags::EXCL
                        | OFlags::CLOEXEC
                        | OFlags::NOFOLLOW,
                    Mode::empty(),
                );
                match f {
                    Ok(f) => {
                        set_xattr(&f, "user.overlay.whiteout", b"")
                            .map_err(marker_err(&full, "marking the xattr whiteout"))?;
                        set_xattr(&pfd, "user.overlay.opaque", b"x")
                            .map_err(marker_err(&full, "marking the whiteout's directory"))?;
                    }
                    Err(Errno::EXIST) => {}
                    Err(e) => return Err(marker_err(&full, "creating the xattr whiteout")(e)),
                }
            }
            Err(e) => return Err(marker_err(&full, "creating the whiteout device")(e)),
        }
    }
    for opaque in &markers.opaque {
        let fd =
            open_dir(&root, opaque).map_err(marker_err(opaque, "opening the opaque directory"))?;
        // trusted.* needs CAP_SYS_ADMIN in the initial namespace; user.* is what rootless
        // overlay (userxattr) reads. At least one must hold.
        let trusted = set_xattr(&fd, "trusted.overlay.opaque", b"y");
        let user = set_xattr(&fd, "user.overlay.opaque", b"y");
        if let (Err(_), Err(e)) = (trusted, user) {
            return Err(marker_err(opaque, "marking the opaque directory")(e));
        }
    }
    Ok(())
}

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
        let layers = manifest.layers();
        if layers.len() != diff_ids.len() {
            return Err(StoreError::LayerCountMismatch {
                layers: layers.len(),
                diff_ids: diff_ids.len(),
            });
        }
        let chains = chain_id(diff_ids);
        let mut done = Unpacked::default();
        for ((layer, diff_id), chain) in layers.iter().zip(diff_ids).zip(&chains) {
            let dest = self.layer_dir(chain);
            if !dest.is_dir() {
                let stats = self.unpack_one(layer, diff_id, chain, opts)?;
                if stats.skipped_devices.count > 0 {
                    done.skipped_devices
                        .push((layer.digest().clone(), stats.skipped_devices));
                }
            }
            done.dirs.push(dest);
        }
        Ok(done)
    }

    fn unpack_one(
        &self,
        layer: &wharf_oci::Descriptor,
        diff_id: &Digest,
        chain: &Digest,
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
        let temp = self.temp_path("layer");
        mkdir_p(&temp)?;
        let result = (|| {
            let mut reader =
                LayerReader::new(io::BufReader::with_capacity(256 << 10, blob), compression)
                    .map_err(archive_err)?;
            let (tx, rx) = mpsc::sync_channel(16);
            let scanner = std::thread::spawn(move || {
                scan_markers(ChannelReader {
                    rx,
                    chunk: Vec::new(),
                    pos: 0,
                })
            });
            let mut tee = Tee {
                inner: &mut reader,
                tx: Some(tx),
            };
            let applied = wharf_archive::apply_layer(&mut tee, &temp, opts);
            drop(tee); // closes the channel: the scanner sees the end of the stream
            let markers = scanner.join().map_err(|_| StoreError::Io {
                op: "scanning whiteouts of",
                path: self.blob_path(layer.digest()),
                source: io::Error::other("scanner thread panicked"),
            })?;
            let stats = applied.map_err(archive_err)?;
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
            let markers = markers.map_err(StoreError::io("scanning whiteouts of", &temp))?;
            place_markers(&temp, &markers, layer.digest())?;
            let dest = self.layer_dir(chain);
            self.inner.lease.pin(&format!("layer:{}", chain.digest()))?;
            match std::fs::rename(&temp, &dest) {
                Ok(()) => sync_dir(&self.layers_dir())?,
                // Another process unpacked the same layer first: theirs is as good as ours.
                Err(_) if dest.is_dir() => remove_all(&temp)?,
                Err(e) => return Err(StoreError::io("renaming into place", &dest)(e)),
            }
            Ok(stats)
        })();
        if result.is_err() {
            let _ = remove_all(&temp);
        }
        result
    }
}
