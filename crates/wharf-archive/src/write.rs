//! Writing a layer from a directory or an overlay upper directory.
//!
//! The tree is walked depth first with each directory's children sorted by name bytes, so the
//! same tree always gives the same tar. Headers are ustar; a PAX record is added for what ustar
//! cannot hold (names over its limits, xattrs, negative times, large ids). User and group names
//! are left empty: layers carry numeric ids only. Sockets cannot be archived and are skipped.
//!
//! Work is split over two threads: one walks the tree, reads files, builds the tar and hashes it
//! (the diff ID); the calling thread compresses, hashes the compressed bytes and writes them.
//! A bounded channel of 256 KiB chunks between them keeps memory flat.
//!
//! A COPY's layer is made in the same pass as the copy ([`PendingFiles`]): the copy creates each
//! file with its final size, owner, mode and times but no bytes, and the walker, when it reaches
//! such a file, reads the source once and writes each chunk both to the file and into the tar.
//! The tar is the one the walk of the finished tree would give.

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::io::{self, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use rustix::fs::{Mode, OFlags};
use tar::{EntryType, Header};
use wharf_oci::Digest;
use wharf_oci::digest::{Hasher, HashingWriter};
use wharf_oci::media_type::LayerCompression;

use crate::ArchiveError;
use crate::compress::Encoder;
use crate::names::{OPAQUE_MARKER, WHITEOUT_PREFIX, join};

/// What kind of directory a layer is written from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LayerSource {
    /// A plain tree: every file is written as it is.
    #[default]
    Plain,
    /// An overlay upper directory: character devices 0/0 become `.wh.<name>` whiteouts and
    /// directories marked opaque (`trusted.overlay.opaque` or `user.overlay.opaque` = `y`) get
    /// a `.wh..wh..opq` marker. Redirected or metacopy entries are refused.
    OverlayUpper,
}

/// How a layer is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    pub source: LayerSource,
    pub compression: LayerCompression,
    /// Compression level; `None` means [`crate::DEFAULT_GZIP_LEVEL`] or
    /// [`crate::DEFAULT_ZSTD_LEVEL`]. Part of the layer's identity: keep it fixed.
    pub level: Option<i32>,
    /// `SOURCE_DATE_EPOCH`: no entry gets an mtime later than this.
    pub clamp_mtime: Option<i64>,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self {
            source: LayerSource::Plain,
            compression: LayerCompression::Gzip,
            level: None,
            clamp_mtime: None,
        }
    }
}

/// The digests and sizes of a written (or verified) layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInfo {
    /// Digest of the compressed blob.
    pub digest: Digest,
    /// Size of the compressed blob.
    pub size: u64,
    /// Digest of the uncompressed tar.
    pub diff_id: Digest,
    pub uncompressed_size: u64,
}

const CHUNK: usize = 256 * 1024;

/// One entry of a change list for [`write_layer_changes`], a path relative to the root
/// (no leading `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The entry at this path as it is now; a directory without its children.
    Entry(Vec<u8>),
    /// A deletion: a `.wh.<name>` marker, owned by 0:0 with mode 0 as the one an overlay
    /// upper's whiteout device gives.
    Whiteout(Vec<u8>),
    /// The directory at this path hides everything below it in lower layers: a
    /// `.wh..wh..opq` marker after its entry, as overlay writes for a directory made again
    /// where one was deleted (the directory's owner and permissions, mtime 0).
    Opaque(Vec<u8>),
}

/// Writes a layer holding only `changes` (in the order given: the caller sorts them as the
/// tree walk would, parents before children) of the tree at `root`: the layer of a step whose
/// changes were found by comparing the tree before and after it, with no overlay upper.
pub fn write_layer_changes<W: Write>(
    root: &Path,
    changes: &[Change],
    out: W,
    opts: &WriteOptions,
) -> Result<LayerInfo, ArchiveError> {
    write_with(root, out, opts, Some(changes), None)
}

/// Writes the layer for `dir` to `out` and returns its digests.
pub fn write_layer<W: Write>(
    dir: &Path,
    out: W,
    opts: &WriteOptions,
) -> Result<LayerInfo, ArchiveError> {
    write_with(dir, out, opts, None, None)
}

/// [`write_layer`] of a tree where the files in `pending` still lack their bytes: each is
/// filled from its source while its tar entry is written (one read of the source for both).
/// The layer is byte for byte the one [`write_layer`] gives once the files are complete. Files
/// the walk did not reach are filled afterwards, so the tree is always complete on success.
pub fn write_layer_filling<W: Write>(
    dir: &Path,
    out: W,
    opts: &WriteOptions,
    pending: &mut PendingFiles,
) -> Result<LayerInfo, ArchiveError> {
    let info = write_with(dir, out, opts, None, Some(pending))?;
    pending.fill_rest(dir)?;
    Ok(info)
}

/// [`write_layer_changes`] with files still to fill, as [`write_layer_filling`].
pub fn write_layer_changes_filling<W: Write>(
    root: &Path,
    changes: &[Change],
    out: W,
    opts: &WriteOptions,
    pending: &mut PendingFiles,
) -> Result<LayerInfo, ArchiveError> {
    let info = write_with(root, out, opts, Some(changes), Some(pending))?;
    pending.fill_rest(root)?;
    Ok(info)
}

/// Regular files created with their final size, owner, mode and times but none of their
/// bytes, by their path relative to the layer's root, with the file each one copies. Every
/// name of a hard-link group is listed (with the same source): whichever the walk meets first
/// is filled.
#[derive(Debug, Default)]
pub struct PendingFiles {
    files: HashMap<Vec<u8>, PathBuf>,
}

impl PendingFiles {
    /// Records that `rel` (relative to the root, no leading `/`) gets the bytes of `source`.
    pub fn insert(&mut self, rel: Vec<u8>, source: PathBuf) {
        self.files.insert(rel, source);
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The paths still to fill.
    pub fn paths(&self) -> impl Iterator<Item = &[u8]> {
        self.files.keys().map(Vec::as_slice)
    }

    /// Fills every file still pending (no layer is written).
    pub fn fill_rest(&mut self, root: &Path) -> Result<(), ArchiveError> {
        for (rel, source) in std::mem::take(&mut self.files) {
            let path = root.join(std::ffi::OsStr::from_bytes(&rel));
            let meta =
                std::fs::symlink_metadata(&path).map_err(source_err(&path, "reading metadata"))?;
            if !meta.is_file() {
                continue;
            }
            let mut filling = Filling::open(&source, &path, &meta)?;
            io::copy(&mut filling.reader, &mut io::sink())
                .map_err(|e| filling.error(e, &source, &path))?;
            filling.finish(&path, &meta)?;
        }
        Ok(())
    }
}

/// Copies a source file into a pending file while the bytes are read for the tar.
struct Tee {
    source: File,
    dest: File,
    /// Whether the last error came from writing `dest` (else from reading `source`).
    write_failed: bool,
}

impl Read for Tee {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.source.read(buf)?;
        if let Err(e) = self.dest.write_all(&buf[..n]) {
            self.write_failed = true;
            return Err(e);
        }
        Ok(n)
    }
}

/// A pending file being filled: [`CHUNK`]-sized reads of exactly the size the file was
/// created with.
struct Filling {
    reader: BufReader<Exact<Tee>>,
}

impl Filling {
    fn open(source: &Path, dest: &Path, meta: &Metadata) -> Result<Self, ArchiveError> {
        let src = File::open(source).map_err(source_err(source, "opening the file"))?;
        let fd = rustix::fs::open(
            dest,
            OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| source_err(dest, "opening the copy")(e.into()))?;
        Ok(Self {
            reader: BufReader::with_capacity(
                CHUNK,
                Exact {
                    inner: Tee {
                        source: src,
                        dest: File::from(fd),
                        write_failed: false,
                    },
                    left: meta.len(),
                },
            ),
        })
    }

    /// The error of a failed fill, naming the file that failed.
    fn error(&self, e: io::Error, source: &Path, dest: &Path) -> ArchiveError {
        if self.reader.get_ref().inner.write_failed {
            source_err(dest, "writing the copy")(e)
        } else {
            source_err(source, "reading the file")(e)
        }
    }

    /// Puts back what writing changed: the times the copy was created with, and set-ID bits
    /// a write by a process without `CAP_FSETID` clears.
    fn finish(self, dest: &Path, meta: &Metadata) -> Result<(), ArchiveError> {
        let file = &self.reader.get_ref().inner.dest;
        let now =
            rustix::fs::fstat(file).map_err(|e| source_err(dest, "reading metadata")(e.into()))?;
        if now.st_mode & 0o7777 != meta.mode() & 0o7777 {
            rustix::fs::fchmod(file, Mode::from_raw_mode(meta.mode() & 0o7777))
                .map_err(|e| source_err(dest, "changing the mode")(e.into()))?;
        }
        let t = rustix::fs::Timespec {
            tv_sec: meta.mtime(),
            tv_nsec: meta.mtime_nsec(),
        };
        let times = rustix::fs::Timestamps {
            last_access: t,
            last_modification: t,
        };
        rustix::fs::futimens(file, &times)
            .map_err(|e| source_err(dest, "setting the times")(e.into()))
    }
}

fn write_with<W: Write>(
    dir: &Path,
    out: W,
    opts: &WriteOptions,
    changes: Option<&[Change]>,
    pending: Option<&mut PendingFiles>,
) -> Result<LayerInfo, ArchiveError> {
    let meta = std::fs::symlink_metadata(dir).map_err(|source| ArchiveError::Source {
        path: dir.to_path_buf(),
        op: "reading the layer directory",
        source,
    })?;
    if !meta.is_dir() {
        return Err(ArchiveError::Source {
            path: dir.to_path_buf(),
            op: "reading the layer directory",
            source: io::Error::from(io::ErrorKind::NotADirectory),
        });
    }
    let mut enc = Encoder::new(
        HashingWriter::new(out, Hasher::sha256()),
        opts.compression,
        opts.level,
    )?;
    let (tx, rx) = sync_channel::<Vec<u8>>(8);
    let (walked, out_err) = std::thread::scope(|s| {
        let walker = s.spawn(move || write_tar(dir, opts, changes, pending, tx));
        let out_err = pump(&rx, &mut enc).err();
        // Dropping the receiver makes the walker's next send fail, so it stops early.
        drop(rx);
        (walker.join(), out_err)
    });
    let walked = walked.map_err(|_| ArchiveError::WorkerPanicked)?;
    if let Some(e) = out_err {
        return Err(ArchiveError::Output(e));
    }
    let (diff_id, uncompressed_size) = walked?;
    let (digest, size, _) = enc.finish()?.finish();
    Ok(LayerInfo {
        digest,
        size,
        diff_id,
        uncompressed_size,
    })
}

fn pump<W: Write>(rx: &Receiver<Vec<u8>>, enc: &mut W) -> io::Result<()> {
    for chunk in rx {
        enc.write_all(&chunk)?;
    }
    Ok(())
}

/// Collects the tar stream into chunks for the compressing thread.
struct ChunkWriter {
    tx: SyncSender<Vec<u8>>,
    buf: Vec<u8>,
}

impl ChunkWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx
            .send(full)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "layer output closed"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn write_tar(
    dir: &Path,
    opts: &WriteOptions,
    changes: Option<&[Change]>,
    pending: Option<&mut PendingFiles>,
    tx: SyncSender<Vec<u8>>,
) -> Result<(Digest, u64), ArchiveError> {
    let sink = ChunkWriter {
        tx,
        buf: Vec::with_capacity(CHUNK),
    };
    let mut w = TreeWriter {
        builder: tar::Builder::new(HashingWriter::new(sink, Hasher::sha256())),
        opts,
        links: HashMap::new(),
        recurse: changes.is_none(),
        pending,
    };
    match changes {
        None => w.walk(dir, &[])?,
        Some(changes) => {
            let root_meta = std::fs::symlink_metadata(dir)
                .map_err(source_err(dir, "reading the layer directory"))?;
            for c in changes {
                match c {
                    Change::Entry(rel) => {
                        let path = dir.join(std::ffi::OsStr::from_bytes(rel));
                        w.one(&path, rel)?;
                    }
                    Change::Opaque(rel) => {
                        let path = dir.join(std::ffi::OsStr::from_bytes(rel));
                        let meta = std::fs::symlink_metadata(&path)
                            .map_err(source_err(&path, "reading metadata"))?;
                        w.marker(&join(rel, OPAQUE_MARKER), &meta)?;
                    }
                    Change::Whiteout(rel) => {
                        let (parent, base) = crate::names::split(rel);
                        let mut wh = WHITEOUT_PREFIX.to_vec();
                        wh.extend_from_slice(base);
                        w.append(
                            &Entry {
                                kind: EntryType::Regular,
                                name: &join(parent, &wh),
                                meta: &root_meta,
                                size: 0,
                                link: None,
                                xattrs: &[],
                                marker: true,
                                zero_ids: true,
                            },
                            io::empty(),
                        )?;
                    }
                }
            }
        }
    }
    let hashed = w.builder.into_inner().map_err(ArchiveError::Output)?;
    let (diff_id, n, mut sink) = hashed.finish();
    sink.send().map_err(ArchiveError::Output)?;
    Ok((diff_id, n))
}

struct TreeWriter<'o, W: Write> {
    builder: tar::Builder<W>,
    opts: &'o WriteOptions,
    /// First name written for each (device, inode) with more than one link.
    links: HashMap<(u64, u64), Vec<u8>>,
    /// Whether a directory's entry is followed by its children (false for change lists).
    recurse: bool,
    /// Files whose bytes are copied from their source while they are archived.
    pending: Option<&'o mut PendingFiles>,
}

/// What one entry looks like in the tar.
#[derive(Clone, Copy)]
struct Entry<'a> {
    kind: EntryType,
    name: &'a [u8],
    meta: &'a Metadata,
    size: u64,
    link: Option<&'a [u8]>,
    xattrs: &'a [(Vec<u8>, Vec<u8>)],
    /// Whiteouts and opaque markers: mode 0 bits beyond permissions, mtime 0.
    marker: bool,
    /// uid, gid and mode 0 whatever `meta` says (whiteouts of a change list).
    zero_ids: bool,
}

fn source_err<'a>(
    path: &'a Path,
    op: &'static str,
) -> impl Fn(io::Error) -> ArchiveError + Copy + 'a {
    move |source| ArchiveError::Source {
        path: path.to_path_buf(),
        op,
        source,
    }
}

/// Reads exactly `left` bytes, failing if the file shrank while it was archived (a short
/// entry would corrupt the tar) and ignoring anything it grew by.
struct Exact<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let max = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file shrank while it was archived",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn is_overlay_xattr(name: &[u8]) -> bool {
    name.starts_with(b"trusted.overlay.") || name.starts_with(b"user.overlay.")
}

/// The overlay attribute `feature` (`opaque`, `redirect`...) under either namespace.
fn overlay_attr(all: &[(Vec<u8>, Vec<u8>)], feature: &[u8]) -> Option<Vec<u8>> {
    all.iter().find_map(|(k, v)| {
        let rest = k
            .strip_prefix(b"trusted.overlay.")
            .or_else(|| k.strip_prefix(b"user.overlay."))?;
        (rest == feature).then(|| v.clone())
    })
}

impl<W: Write> TreeWriter<'_, W> {
    fn walk(&mut self, dir: &Path, rel: &[u8]) -> Result<(), ArchiveError> {
        let mut names: Vec<Vec<u8>> = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(source_err(dir, "listing the directory"))? {
            let entry = entry.map_err(source_err(dir, "listing the directory"))?;
            names.push(entry.file_name().as_bytes().to_vec());
        }
        names.sort_unstable();
        for name in names {
            let path = dir.join(std::ffi::OsStr::from_bytes(&name));
            let child = join(rel, &name);
            self.one(&path, &child)?;
        }
        Ok(())
    }

    fn one(&mut self, path: &Path, name: &[u8]) -> Result<(), ArchiveError> {
        let meta = std::fs::symlink_metadata(path).map_err(source_err(path, "reading metadata"))?;
        let ft = meta.file_type();
        if ft.is_socket() {
            return Ok(());
        }
        let all = read_xattrs(path)?;
        let overlay = self.opts.source == LayerSource::OverlayUpper;
        if overlay {
            for feature in [&b"redirect"[..], b"metacopy"] {
                if overlay_attr(&all, feature).is_some() {
                    return Err(ArchiveError::OverlayFeature {
                        path: path.to_path_buf(),
                        feature: String::from_utf8_lossy(feature).into_owned(),
                    });
                }
            }
            let device_whiteout = ft.is_char_device() && meta.rdev() == 0;
            let xattr_whiteout = ft.is_file() && overlay_attr(&all, b"whiteout").is_some();
            if device_whiteout || xattr_whiteout {
                let (parent, base) = crate::names::split(name);
                let mut wh = WHITEOUT_PREFIX.to_vec();
                wh.extend_from_slice(base);
                return self.marker(&join(parent, &wh), &meta);
            }
        }
        let opaque = overlay && overlay_attr(&all, b"opaque").as_deref() == Some(b"y");
        let xattrs: Vec<_> = all
            .into_iter()
            .filter(|(k, _)| !is_overlay_xattr(k))
            .collect();
        let base = Entry {
            kind: EntryType::Regular,
            name,
            meta: &meta,
            size: 0,
            link: None,
            xattrs: &xattrs,
            marker: false,
            zero_ids: false,
        };
        if ft.is_dir() {
            let mut dir_name = name.to_vec();
            dir_name.push(b'/');
            self.append(
                &Entry {
                    kind: EntryType::Directory,
                    name: &dir_name,
                    ..base
                },
                io::empty(),
            )?;
            if opaque {
                self.marker(&join(name, OPAQUE_MARKER), &meta)?;
            }
            if !self.recurse {
                return Ok(());
            }
            return self.walk(path, name);
        }
        if meta.nlink() > 1 {
            let key = (meta.dev(), meta.ino());
            if let Some(first) = self.links.get(&key).cloned() {
                // Another name of a file filled (or archived) already.
                if let Some(p) = self.pending.as_deref_mut() {
                    p.files.remove(name);
                }
                return self.append(
                    &Entry {
                        kind: EntryType::Link,
                        link: Some(&first),
                        ..base
                    },
                    io::empty(),
                );
            }
            self.links.insert(key, name.to_vec());
        }
        if ft.is_symlink() {
            let target =
                std::fs::read_link(path).map_err(source_err(path, "reading the symlink"))?;
            self.append(
                &Entry {
                    kind: EntryType::Symlink,
                    link: Some(target.as_os_str().as_bytes()),
                    ..base
                },
                io::empty(),
            )
        } else if ft.is_file() {
            if let Some(source) = self
                .pending
                .as_deref_mut()
                .and_then(|p| p.files.remove(name))
            {
                return self.append_filled(path, &source, &meta, base);
            }
            let fd = rustix::fs::open(
                path,
                OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| source_err(path, "opening the file")(e.into()))?;
            let data = Exact {
                inner: BufReader::with_capacity(CHUNK, File::from(fd)),
                left: meta.len(),
            };
            self.append(
                &Entry {
                    size: meta.len(),
                    ..base
                },
                data,
            )
            .map_err(|e| match e {
                ArchiveError::Output(source) if source.kind() == io::ErrorKind::UnexpectedEof => {
                    ArchiveError::Source {
                        path: path.to_path_buf(),
                        op: "reading the file",
                        source,
                    }
                }
                e => e,
            })
        } else {
            let kind = if ft.is_char_device() {
                EntryType::Char
            } else if ft.is_block_device() {
                EntryType::Block
            } else {
                EntryType::Fifo
            };
            self.append(&Entry { kind, ..base }, io::empty())
        }
    }

    /// A pending file: its bytes come from `source`, into the file and the tar at once.
    fn append_filled(
        &mut self,
        path: &Path,
        source: &Path,
        meta: &Metadata,
        base: Entry<'_>,
    ) -> Result<(), ArchiveError> {
        let mut filling = Filling::open(source, path, meta)?;
        match self.append(
            &Entry {
                size: meta.len(),
                ..base
            },
            &mut filling.reader,
        ) {
            Ok(()) => {}
            Err(ArchiveError::Output(e)) if e.kind() != io::ErrorKind::BrokenPipe => {
                return Err(filling.error(e, source, path));
            }
            Err(e) => return Err(e),
        }
        filling.finish(path, meta)
    }

    /// A whiteout or opaque marker: an empty regular file.
    fn marker(&mut self, name: &[u8], meta: &Metadata) -> Result<(), ArchiveError> {
        self.append(
            &Entry {
                kind: EntryType::Regular,
                name,
                meta,
                size: 0,
                link: None,
                xattrs: &[],
                marker: true,
                zero_ids: false,
            },
            io::empty(),
        )
    }

    fn append(&mut self, e: &Entry<'_>, data: impl Read) -> Result<(), ArchiveError> {
        let mut pax: Vec<u8> = Vec::new();
        let mut h = Header::new_ustar();
        h.set_entry_type(e.kind);
        let perm_mask = if e.marker { 0o777 } else { 0o7777 };
        let (mode, uid, gid) = if e.zero_ids {
            (0, 0, 0)
        } else {
            (e.meta.mode(), e.meta.uid(), e.meta.gid())
        };
        h.set_mode(mode & perm_mask);
        for (key, id, set) in [
            ("uid", uid, Header::set_uid as fn(&mut Header, u64)),
            ("gid", gid, Header::set_gid),
        ] {
            set(&mut h, u64::from(id));
            if u64::from(id) > 0o7_777_777 {
                pax_record(&mut pax, key, id.to_string().as_bytes());
            }
        }
        let mtime = if e.marker {
            0
        } else {
            let m = e.meta.mtime();
            self.opts.clamp_mtime.map_or(m, |c| m.min(c))
        };
        if mtime < 0 {
            pax_record(&mut pax, "mtime", mtime.to_string().as_bytes());
            h.set_mtime(0);
        } else {
            h.set_mtime(mtime as u64);
        }
        h.set_size(e.size);
        if matches!(e.kind, EntryType::Char | EntryType::Block) {
            let rdev = e.meta.rdev();
            let out = ArchiveError::Output;
            h.set_device_major(rustix::fs::major(rdev)).map_err(out)?;
            h.set_device_minor(rustix::fs::minor(rdev)).map_err(out)?;
        }
        if !put_name(&mut h, e.name) {
            pax_record(&mut pax, "path", e.name);
        }
        if let Some(link) = e.link {
            if link.len() <= 100 {
                h.set_link_name_literal(link)
                    .map_err(ArchiveError::Output)?;
            } else {
                h.set_link_name_literal(&link[..100])
                    .map_err(ArchiveError::Output)?;
                pax_record(&mut pax, "linkpath", link);
            }
        }
        for (k, v) in e.xattrs {
            let mut key = b"SCHILY.xattr.".to_vec();
            key.extend_from_slice(k);
            pax_record_bytes(&mut pax, &key, v);
        }
        h.set_cksum();
        if !pax.is_empty() {
            let mut ph = Header::new_ustar();
            ph.set_entry_type(EntryType::XHeader);
            put_name(&mut ph, b"././@PaxHeader");
            ph.set_mode(0o644);
            ph.set_mtime(0);
            ph.set_size(pax.len() as u64);
            ph.set_cksum();
            self.builder
                .append(&ph, &pax[..])
                .map_err(ArchiveError::Output)?;
        }
        self.builder.append(&h, data).map_err(ArchiveError::Output)
    }
}

/// Extended attributes as (name, value) pairs.
type Xattrs = Vec<(Vec<u8>, Vec<u8>)>;

/// All extended attributes of `path` (not following symlinks), sorted by name.
fn read_xattrs(path: &Path) -> Result<Xattrs, ArchiveError> {
    let names = match xattr::list(path) {
        Ok(n) => n,
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::NOTSUP.raw_os_error()) => {
            return Ok(Vec::new());
        }
        Err(e) => return Err(source_err(path, "listing xattrs")(e)),
    };
    let mut out = Vec::new();
    for name in names {
        match xattr::get(path, &name) {
            Ok(Some(v)) => out.push((name.as_bytes().to_vec(), v)),
            Ok(None) => {}
            Err(e) => return Err(source_err(path, "reading an xattr")(e)),
        }
    }
    out.sort();
    Ok(out)
}

/// Stores `name` in the ustar name and prefix fields; false when it does not fit.
fn put_name(h: &mut Header, name: &[u8]) -> bool {
    let Some(u) = h.as_ustar_mut() else {
        return false;
    };
    if name.len() <= u.name.len() {
        u.name[..name.len()].copy_from_slice(name);
        return true;
    }
    // Split at the first '/' that leaves at most 100 bytes of name and 155 of prefix.
    let split = name.iter().enumerate().position(|(i, &b)| {
        b == b'/' && i <= u.prefix.len() && name.len() - i - 1 <= u.name.len() && i + 1 < name.len()
    });
    if let Some(i) = split {
        u.prefix[..i].copy_from_slice(&name[..i]);
        u.name[..name.len() - i - 1].copy_from_slice(&name[i + 1..]);
        return true;
    }
    let n = u.name.len();
    u.name.copy_from_slice(&name[..n]);
    false
}

fn pax_record(out: &mut Vec<u8>, key: &str, value: &[u8]) {
    pax_record_bytes(out, key.as_bytes(), value);
}

/// One PAX record: `"<len> <key>=<value>\n"`, where len counts the whole record.
fn pax_record_bytes(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    let rest = key.len() + value.len() + 3;
    let mut len = rest + 1;
    while len != rest + len.to_string().len() {
        len = rest + len.to_string().len();
    }
    out.extend_from_slice(len.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(key);
    out.push(b'=');
    out.extend_from_slice(value);
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_record_lengths_count_themselves() {
        for vlen in [0usize, 1, 5, 90, 95, 96, 97, 990, 995, 9990] {
            let mut out = Vec::new();
            pax_record_bytes(&mut out, b"path", &vec![b'a'; vlen]);
            let s = String::from_utf8(out.clone()).unwrap();
            let declared: usize = s.split(' ').next().unwrap().parse().unwrap();
            assert_eq!(declared, out.len(), "value length {vlen}");
        }
    }

    #[test]
    fn names_split_into_prefix_when_possible() {
        let mut h = Header::new_ustar();
        let long = format!("{}/{}", "p".repeat(120), "n".repeat(90));
        assert!(put_name(&mut h, long.as_bytes()));
        assert_eq!(h.path_bytes().as_ref(), long.as_bytes());
        let mut h = Header::new_ustar();
        assert!(!put_name(&mut h, "x".repeat(101).as_bytes()));
    }

    #[test]
    fn the_same_tree_gives_the_same_digests_and_clamp_changes_them() {
        let tmp = tempfile::tempdir().unwrap();
        for n in ["b", "a", "c/d", "c/a"] {
            let p = tmp.path().join(n);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, n.as_bytes()).unwrap();
        }
        let opts = WriteOptions::default();
        let a = write_layer(tmp.path(), io::sink(), &opts).unwrap();
        let b = write_layer(tmp.path(), io::sink(), &opts).unwrap();
        assert_eq!(a, b);
        let clamped = WriteOptions {
            clamp_mtime: Some(1),
            ..opts
        };
        let c = write_layer(tmp.path(), io::sink(), &clamped).unwrap();
        assert_ne!(a.diff_id, c.diff_id);
        // Entry order is by name bytes, depth first.
        let mut tar = Vec::new();
        let none = WriteOptions {
            compression: LayerCompression::None,
            ..WriteOptions::default()
        };
        let info = write_layer(tmp.path(), &mut tar, &none).unwrap();
        assert_eq!(info.digest, info.diff_id);
        assert_eq!(info.size, tar.len() as u64);
        let mut ar = tar::Archive::new(&tar[..]);
        let names: Vec<String> = ar
            .entries()
            .unwrap()
            .map(|e| String::from_utf8(e.unwrap().path_bytes().to_vec()).unwrap())
            .collect();
        assert_eq!(names, ["a", "b", "c/", "c/a", "c/d"]);
    }

    /// The one-pass layer of a tree whose files are filled while archived is the layer of the
    /// finished tree, and leaves the tree finished: bytes, times and set-ID bits.
    #[test]
    fn filling_gives_the_layer_of_the_finished_tree() {
        use std::os::unix::fs::PermissionsExt;
        let src = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..3 * CHUNK as u32 + 7)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
            .collect();
        std::fs::write(src.path().join("big"), &data).unwrap();
        std::fs::write(src.path().join("small"), b"small\n").unwrap();
        let done = tempfile::tempdir().unwrap();
        let todo = tempfile::tempdir().unwrap();
        let mut pending = PendingFiles::default();
        let mtime = filetime::FileTime::from_unix_time(1_600_000_000, 5);
        for (name, from, mode) in [
            ("d/big", "big", 0o644),
            ("a-link", "small", 0o4755),
            ("d/empty", "small", 0o600),
        ] {
            for (root, fill) in [(done.path(), false), (todo.path(), true)] {
                let p = root.join(name);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                let src_path = src.path().join(from);
                let len = if name == "d/empty" {
                    0
                } else {
                    std::fs::metadata(&src_path).unwrap().len()
                };
                if fill {
                    std::fs::File::create(&p).unwrap().set_len(len).unwrap();
                    if len > 0 {
                        pending.insert(name.as_bytes().to_vec(), src_path);
                    }
                } else if len > 0 {
                    std::fs::copy(&src_path, &p).unwrap();
                } else {
                    std::fs::write(&p, b"").unwrap();
                }
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
                filetime::set_file_times(&p, mtime, mtime).unwrap();
            }
        }
        // A hard-link group: both names pending, filled once.
        for root in [done.path(), todo.path()] {
            std::fs::hard_link(root.join("a-link"), root.join("z-link")).unwrap();
        }
        pending.insert(b"z-link".to_vec(), src.path().join("small"));
        for root in [done.path(), todo.path()] {
            filetime::set_file_times(root.join("d"), mtime, mtime).unwrap();
            filetime::set_file_times(root, mtime, mtime).unwrap();
        }
        for compression in [LayerCompression::Gzip, LayerCompression::None] {
            let opts = WriteOptions {
                compression,
                ..WriteOptions::default()
            };
            let want = write_layer(done.path(), io::sink(), &opts).unwrap();
            let mut p = std::mem::take(&mut pending);
            let got = write_layer_filling(todo.path(), io::sink(), &opts, &mut p).unwrap();
            assert!(p.is_empty());
            assert_eq!(got, want, "{compression:?}");
        }
        assert_eq!(std::fs::read(todo.path().join("d/big")).unwrap(), data);
        assert_eq!(
            std::fs::read(todo.path().join("z-link")).unwrap(),
            b"small\n"
        );
        let m = std::fs::metadata(todo.path().join("a-link")).unwrap();
        assert_eq!(m.mode() & 0o7777, 0o4755);
        assert_eq!(filetime::FileTime::from_last_modification_time(&m), mtime);
    }

    #[test]
    fn a_fill_whose_source_shrank_names_the_source() {
        let src = tempfile::tempdir().unwrap();
        std::fs::write(src.path().join("f"), b"short").unwrap();
        let root = tempfile::tempdir().unwrap();
        std::fs::File::create(root.path().join("f"))
            .unwrap()
            .set_len(100)
            .unwrap();
        let mut pending = PendingFiles::default();
        pending.insert(b"f".to_vec(), src.path().join("f"));
        let err = write_layer_filling(
            root.path(),
            io::sink(),
            &WriteOptions::default(),
            &mut pending,
        )
        .unwrap_err();
        match err {
            ArchiveError::Source { path, op, .. } => {
                assert_eq!(path, src.path().join("f"));
                assert_eq!(op, "reading the file");
            }
            e => panic!("{e}"),
        }
    }

    #[test]
    fn a_failing_output_stops_the_walker_with_an_error() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("big"), vec![1u8; 3 * CHUNK]).unwrap();
        let opts = WriteOptions {
            compression: LayerCompression::None,
            ..WriteOptions::default()
        };
        let err = write_layer(tmp.path(), Broken, &opts).unwrap_err();
        assert!(matches!(err, ArchiveError::Output(_)), "{err}");
    }
}
