//! Applying an uncompressed layer tar onto a directory, safely.
//!
//! Entries are resolved inside the root (see [`crate::root`]); names with `..`, relative
//! symlink targets that climb out and hard links to missing targets are refused with an error
//! naming the entry; device nodes are refused, created or skipped as [`DeviceNodes`] says. OCI whiteouts delete what lower layers put
//! there; entries of the same layer are never hidden by its own whiteouts (image-spec
//! `layer.md`). Directory modes and mtimes are set after their contents, at the end.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Timespec, Timestamps, XattrFlags};
use rustix::io::Errno;

use crate::ArchiveError;
use crate::error::show;
use crate::header::{Meta, device_numbers, read_meta};
use crate::names::{Whiteout, check_symlink_target, join, normalize, split, whiteout};
use crate::options::{ApplyOptions, ApplyStats, DeviceNodes, NodeStat, Whiteouts};
use crate::overlay_out::{make_whiteout, mark_opaque};
use crate::root::{Root, is_dir, list, lstat_at, os, proc_path, remove_all_at};

/// Applies an uncompressed layer tar stream onto `root`, which must exist.
///
/// On error the root may hold part of the layer, but nothing outside it was touched.
pub fn apply_layer<R: Read>(
    tar: R,
    root: &Path,
    opts: &ApplyOptions,
) -> Result<ApplyStats, ArchiveError> {
    let handle = Root::open(root).map_err(|source| ArchiveError::Root {
        path: root.to_path_buf(),
        source,
    })?;
    let fresh = std::fs::read_dir(root).is_ok_and(|mut d| d.next().is_none());
    let mut applier = Applier {
        root: handle,
        opts,
        fresh,
        links: HashSet::new(),
        seen: HashSet::new(),
        dirs: Vec::new(),
        stats: ApplyStats::default(),
        buf: vec![0; 256 * 1024],
        nodes: (opts.record && fresh).then(HashMap::new),
        linked: HashSet::new(),
    };
    let mut archive = tar::Archive::new(tar);
    for entry in archive.entries().map_err(ArchiveError::Tar)? {
        let mut entry = entry.map_err(ArchiveError::Tar)?;
        applier.entry(&mut entry)?;
    }
    applier.finish_dirs()?;
    applier.stats.nodes = applier.final_nodes();
    Ok(applier.stats)
}

struct DirMeta {
    path: Vec<u8>,
    mode: u32,
    mtime: Timespec,
}

struct Applier<'o> {
    root: Root,
    opts: &'o ApplyOptions,
    /// The root was empty when the layer started (a store unpacking into a new directory):
    /// then whatever exists in it, this layer made, and its path is in `seen`, so a path not
    /// in `seen` needs no lookup before it is created. That lookup was a fifth of the
    /// applier's time on a layer of many small files (a failed search of a large directory).
    fresh: bool,
    /// Symlinks and hard links this layer made (see `leave_fresh_through_links`).
    links: HashSet<Vec<u8>>,
    /// Paths this layer created or traversed (with all their ancestors): its own whiteouts and
    /// opaque markers leave them alone, and a directory among them may not be replaced.
    seen: HashSet<Vec<u8>>,
    dirs: Vec<DirMeta>,
    stats: ApplyStats,
    buf: Vec<u8>,
    /// With `ApplyOptions::record` in a fresh root: regular files as their descriptor saw
    /// them once written (see `final_nodes` for the rest).
    nodes: Option<HashMap<Vec<u8>, NodeStat>>,
    /// Both names of every hard link made: linking changes the inode's ctime, so what was
    /// recorded of them earlier is looked at again at the end.
    linked: HashSet<Vec<u8>>,
}

pub(crate) fn entry_err<'a>(
    entry: &'a [u8],
    op: &'static str,
) -> impl Fn(io::Error) -> ArchiveError + Copy + 'a {
    move |source| ArchiveError::Entry {
        entry: show(entry),
        op,
        source,
    }
}

pub(crate) fn errno_err<'a>(
    entry: &'a [u8],
    op: &'static str,
) -> impl Fn(Errno) -> ArchiveError + Copy + 'a {
    move |e| ArchiveError::Entry {
        entry: show(entry),
        op,
        source: e.into(),
    }
}

impl Applier<'_> {
    /// Records `path` and its ancestors as belonging to this layer.
    fn mark(&mut self, path: &[u8]) {
        let mut p = path;
        while !p.is_empty() && self.seen.insert(p.to_vec()) {
            p = split(p).0;
        }
    }

    /// Whether something may exist at `name` before this entry creates it (see `fresh`).
    fn may_exist(&self, name: &[u8]) -> bool {
        !self.fresh || self.seen.contains(name)
    }

    /// Ends `fresh` at the first path that goes through a link this layer made: what such a
    /// path creates, `seen` knows by that name only, and a later entry may reach it by its
    /// real one.
    fn leave_fresh_through_links(&mut self, name: &[u8]) {
        let mut p = split(name).0;
        while !p.is_empty() {
            if self.links.contains(p) {
                self.fresh = false;
                return;
            }
            p = split(p).0;
        }
    }

    fn parent(&mut self, parent: &[u8], raw: &[u8]) -> Result<OwnedFd, ArchiveError> {
        let seen = &mut self.seen;
        let fd = self
            .root
            .dir(parent, true, &mut |p| {
                seen.insert(p.to_vec());
            })
            .map_err(entry_err(raw, "resolving the parent directory"))?;
        fd.try_clone_to_owned()
            .map_err(entry_err(raw, "resolving the parent directory"))
    }

    fn entry<R: Read>(&mut self, e: &mut tar::Entry<'_, R>) -> Result<(), ArchiveError> {
        let kind = e.header().entry_type();
        if kind == tar::EntryType::XGlobalHeader {
            return Ok(());
        }
        let raw = e.path_bytes().into_owned();
        let name = normalize(&raw, self.opts.confine_absolute_names)?;
        if self.fresh && !self.links.is_empty() {
            self.leave_fresh_through_links(&name);
            if !self.fresh {
                // This path is not the tree's name for what it makes: walk the tree instead.
                self.nodes = None;
            }
        }
        self.stats.entries += 1;
        if name.is_empty() {
            // `./`: the root itself. Its metadata belongs to whoever made the root.
            return if kind.is_dir() {
                Ok(())
            } else {
                Err(ArchiveError::InvalidName { entry: show(&raw) })
            };
        }
        let (parent, base) = split(&name);
        let overlay = match self.opts.whiteouts {
            Whiteouts::Apply => None,
            Whiteouts::Overlay { xattr_fallback } => Some(xattr_fallback),
        };
        match (whiteout(&raw, base)?, overlay) {
            (Whiteout::None, _) => {}
            (Whiteout::AufsMeta, _) => return Ok(()),
            (Whiteout::Opaque, None) => return self.opaque(parent, &raw),
            (Whiteout::Opaque, Some(_)) => return self.overlay_opaque(parent, &raw),
            (Whiteout::Remove(victim), None) => return self.whiteout(parent, victim, &raw),
            (Whiteout::Remove(victim), Some(fallback)) => {
                return self.overlay_whiteout(parent, victim, &raw, fallback);
            }
        }
        let is_regular = kind.is_file() || kind.is_contiguous() || kind.is_gnu_sparse();
        let is_device = kind.is_character_special() || kind.is_block_special();
        if !(is_regular
            || is_device
            || kind.is_dir()
            || kind.is_symlink()
            || kind.is_hard_link()
            || kind.is_fifo())
        {
            return Err(ArchiveError::UnsupportedType {
                entry: show(&raw),
                kind: char::from(kind.as_byte()),
            });
        }
        let (major, minor) = if is_device {
            device_numbers(e.header(), &raw)?
        } else {
            (0, 0)
        };
        // A character device 0/0 is overlay's whiteout, not a device: no policy applies.
        let overlay_whiteout = kind.is_character_special() && major == 0 && minor == 0;
        if is_device && !overlay_whiteout {
            match self.opts.devices {
                DeviceNodes::Refuse => {
                    return Err(ArchiveError::DeviceNotAllowed { entry: show(&raw) });
                }
                DeviceNodes::Skip => {
                    self.stats.skipped_devices.add(&raw);
                    return Ok(());
                }
                DeviceNodes::Create | DeviceNodes::CreateOrSkip => {}
            }
        }
        // Checks that need no disk access come first, so a refused entry touches nothing.
        let link = e.link_name_bytes().map(std::borrow::Cow::into_owned);
        if kind.is_symlink() {
            check_symlink_target(&name, link.as_deref().unwrap_or_default())?;
        }
        let link_target = if kind.is_hard_link() {
            Some(self.hardlink_target(&raw, &name, link.as_deref().unwrap_or_default())?)
        } else {
            None
        };
        let meta = read_meta(e, &raw, self.opts.xattrs)?;

        let pfd = self.parent(parent, &raw)?;
        let pfd = pfd.as_fd();
        let existing = if self.may_exist(&name) {
            lstat_at(pfd, base).map_err(entry_err(&raw, "inspecting"))?
        } else {
            None
        };
        if let Some(st) = existing
            && !(is_dir(&st) && kind.is_dir())
        {
            if is_dir(&st) && self.seen.contains(&name) {
                return Err(ArchiveError::ReplacesDirectory { entry: show(&raw) });
            }
            remove_all_at(pfd, base).map_err(entry_err(&raw, "replacing the existing entry"))?;
            self.root.invalidate();
            // Never a directory of this layer (refused above), so nothing below it to forget.
            if let Some(nodes) = &mut self.nodes {
                nodes.remove(&name);
            }
        }
        self.mark(&name);

        if is_regular {
            self.regular(e, pfd, base, &raw, &meta, &name)
        } else if kind.is_dir() {
            self.directory(pfd, base, &name, &raw, &meta)
        } else if kind.is_symlink() {
            self.links.insert(name.clone());
            let target = link.unwrap_or_default();
            rustix::fs::symlinkat(os(&target), pfd, os(base))
                .map_err(errno_err(&raw, "creating the symlink"))?;
            self.finish_node(pfd, base, &raw, &meta, false)
        } else if let Some((tparent, tbase)) = link_target {
            // A hard link to a symlink is a symlink.
            self.links.insert(name.clone());
            self.linked.insert(join(&tparent, &tbase));
            self.linked.insert(name.clone());
            self.hardlink(
                pfd,
                base,
                &raw,
                &tparent,
                &tbase,
                link.as_deref().unwrap_or_default(),
            )
        } else {
            let ft = if kind.is_fifo() {
                FileType::Fifo
            } else if kind.is_character_special() {
                FileType::CharacterDevice
            } else {
                FileType::BlockDevice
            };
            if overlay_whiteout && let Some(fallback) = overlay {
                make_whiteout(pfd, base, fallback)
                    .map_err(errno_err(&raw, "creating the overlay whiteout"))?;
                return self.finish_node(pfd, base, &raw, &meta, true);
            }
            let dev = rustix::fs::makedev(major, minor);
            match rustix::fs::mknodat(pfd, os(base), ft, Mode::from_raw_mode(0o600), dev) {
                Ok(()) => {}
                Err(Errno::PERM)
                    if is_device
                        && !overlay_whiteout
                        && self.opts.devices == DeviceNodes::CreateOrSkip =>
                {
                    self.stats.skipped_devices.add(&raw);
                    return Ok(());
                }
                Err(e) => return Err(errno_err(&raw, "creating the special file")(e)),
            }
            self.finish_node(pfd, base, &raw, &meta, true)
        }
    }

    fn hardlink_target(
        &self,
        raw: &[u8],
        name: &[u8],
        link: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>), ArchiveError> {
        let target = normalize(link, self.opts.confine_absolute_names).map_err(|e| match e {
            ArchiveError::AbsolutePath { .. } => ArchiveError::AbsolutePath { entry: show(raw) },
            ArchiveError::Escape { .. } => ArchiveError::Escape { entry: show(raw) },
            _ => ArchiveError::InvalidName { entry: show(raw) },
        })?;
        if target.is_empty() || target == name {
            return Err(ArchiveError::HardlinkTarget {
                entry: show(raw),
                target: show(link),
                source: io::Error::new(io::ErrorKind::InvalidInput, "links to itself or the root"),
            });
        }
        let (p, b) = split(&target);
        Ok((p.to_vec(), b.to_vec()))
    }

    fn hardlink(
        &mut self,
        pfd: BorrowedFd<'_>,
        base: &[u8],
        raw: &[u8],
        tparent: &[u8],
        tbase: &[u8],
        link: &[u8],
    ) -> Result<(), ArchiveError> {
        let err = |source: io::Error| ArchiveError::HardlinkTarget {
            entry: show(raw),
            target: show(link),
            source,
        };
        let tfd = self.root.dir(tparent, false, &mut |_| {}).map_err(err)?;
        // Flags 0: a link to a symlink links the symlink itself, as tar does.
        rustix::fs::linkat(tfd, os(tbase), pfd, os(base), AtFlags::empty())
            .map_err(|e| err(e.into()))
    }

    fn regular<R: Read>(
        &mut self,
        e: &mut tar::Entry<'_, R>,
        pfd: BorrowedFd<'_>,
        base: &[u8],
        raw: &[u8],
        meta: &Meta,
        name: &[u8],
    ) -> Result<(), ArchiveError> {
        let fd = rustix::fs::openat(
            pfd,
            os(base),
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(errno_err(raw, "creating the file"))?;
        let mut file = std::fs::File::from(fd);
        let write = entry_err(raw, "writing the file");
        // All-zero chunks become holes, so sparse files stay sparse.
        let mut len: u64 = 0;
        let mut hole_at_end = false;
        loop {
            let n = match e.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(ArchiveError::Tar(err)),
            };
            let chunk = &self.buf[..n];
            if n >= 4096 && chunk.iter().all(|&b| b == 0) {
                file.seek(SeekFrom::Current(n as i64)).map_err(write)?;
                hole_at_end = true;
            } else {
                file.write_all(chunk).map_err(write)?;
                hole_at_end = false;
            }
            len += n as u64;
        }
        if hole_at_end {
            file.set_len(len).map_err(write)?;
        }
        self.stats.bytes += len;
        if self.opts.same_owner {
            rustix::fs::fchown(
                &file,
                Some(rustix::fs::Uid::from_raw(meta.uid)),
                Some(rustix::fs::Gid::from_raw(meta.gid)),
            )
            .map_err(errno_err(raw, "setting the owner"))?;
        }
        // After chown, which clears setuid and setgid bits.
        rustix::fs::fchmod(&file, Mode::from_raw_mode(meta.mode))
            .map_err(errno_err(raw, "setting the mode"))?;
        for (k, v) in &meta.xattrs {
            let r = rustix::fs::fsetxattr(&file, os(k), v, XattrFlags::empty());
            tolerate_xattr(r, k, true).map_err(errno_err(raw, "setting an xattr"))?;
        }
        let times = Timestamps {
            last_access: meta.mtime,
            last_modification: meta.mtime,
        };
        rustix::fs::futimens(&file, &times).map_err(errno_err(raw, "setting the mtime"))?;
        // Nothing changes the file after this but a hard link, and `linked` catches those.
        // Without an answer, `final_nodes` looks again.
        if let Some(nodes) = &mut self.nodes
            && let Ok(st) = rustix::fs::fstat(&file)
        {
            nodes.insert(name.to_vec(), NodeStat::of(&st));
        }
        Ok(())
    }

    /// Every entry below the root as the apply left it (see [`ApplyStats::nodes`]): the
    /// regular files recorded as they were written, and the rest (directories, whose times
    /// were set last; links; special files; the names of hard links) looked at now. `seen`
    /// is every path the layer made, since the root started empty. `None` when not
    /// recording, or when a directory cannot be looked at.
    fn final_nodes(&mut self) -> Option<Vec<(Vec<u8>, NodeStat)>> {
        let mut recorded = self.nodes.take()?;
        let mut out = Vec::with_capacity(self.seen.len());
        let mut later = Vec::new();
        for path in std::mem::take(&mut self.seen) {
            match recorded.remove(&path) {
                Some(st) if !self.linked.contains(&path) => out.push((path, st)),
                _ => later.push(path),
            }
        }
        // Sorted, so that entries of one directory reuse its resolved handle.
        later.sort_unstable();
        for path in later {
            let (parent, base) = split(&path);
            let pfd = self.root.dir(parent, false, &mut |_| {}).ok()?;
            match lstat_at(pfd, base) {
                Ok(Some(st)) => out.push((path, NodeStat::of(&st))),
                // A device node the options skipped: marked, never made.
                Ok(None) => {}
                Err(_) => return None,
            }
        }
        Some(out)
    }

    fn directory(
        &mut self,
        pfd: BorrowedFd<'_>,
        base: &[u8],
        name: &[u8],
        raw: &[u8],
        meta: &Meta,
    ) -> Result<(), ArchiveError> {
        match rustix::fs::mkdirat(pfd, os(base), Mode::from_raw_mode(0o700)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(errno_err(raw, "creating the directory")(e)),
        }
        if self.opts.same_owner {
            chown_at(pfd, base, meta).map_err(errno_err(raw, "setting the owner"))?;
        }
        // Writable by its owner until the end, when the real mode is set.
        rustix::fs::chmodat(
            pfd,
            os(base),
            Mode::from_raw_mode(meta.mode | 0o700),
            AtFlags::empty(),
        )
        .map_err(errno_err(raw, "setting the mode"))?;
        set_xattrs_at(pfd, base, meta, true).map_err(errno_err(raw, "setting an xattr"))?;
        self.dirs.push(DirMeta {
            path: name.to_vec(),
            mode: meta.mode,
            mtime: meta.mtime,
        });
        Ok(())
    }

    /// Owner, mode, xattrs and mtime of a symlink or special file, by name.
    fn finish_node(
        &mut self,
        pfd: BorrowedFd<'_>,
        base: &[u8],
        raw: &[u8],
        meta: &Meta,
        chmod: bool,
    ) -> Result<(), ArchiveError> {
        if self.opts.same_owner {
            chown_at(pfd, base, meta).map_err(errno_err(raw, "setting the owner"))?;
        }
        if chmod {
            // The node was just made by us, not a symlink: following it is not possible.
            rustix::fs::chmodat(
                pfd,
                os(base),
                Mode::from_raw_mode(meta.mode),
                AtFlags::empty(),
            )
            .map_err(errno_err(raw, "setting the mode"))?;
        }
        set_xattrs_at(pfd, base, meta, false).map_err(errno_err(raw, "setting an xattr"))?;
        set_mtime_at(pfd, base, meta.mtime).map_err(errno_err(raw, "setting the mtime"))
    }

    fn whiteout(&mut self, parent: &[u8], victim: &[u8], raw: &[u8]) -> Result<(), ArchiveError> {
        let path = join(parent, victim);
        if self.seen.contains(&path) {
            return Ok(());
        }
        let pfd = match self.root.dir(parent, false, &mut |_| {}) {
            Ok(fd) => fd,
            Err(e) if matches!(e.raw_os_error(), Some(c) if c == Errno::NOENT.raw_os_error() || c == Errno::NOTDIR.raw_os_error()) =>
            {
                return Ok(());
            }
            Err(e) => return Err(entry_err(raw, "resolving the whiteout's directory")(e)),
        };
        let pfd = pfd
            .try_clone_to_owned()
            .map_err(entry_err(raw, "resolving the whiteout's directory"))?;
        remove_all_at(pfd.as_fd(), victim)
            .map_err(entry_err(raw, "removing the whited-out entry"))?;
        self.root.invalidate();
        Ok(())
    }

    /// `.wh.NAME` in overlay mode: `NAME` becomes overlay's whiteout, unless this layer made
    /// `NAME` itself (its own content wins, as in [`Self::whiteout`]).
    fn overlay_whiteout(
        &mut self,
        parent: &[u8],
        victim: &[u8],
        raw: &[u8],
        xattr_fallback: bool,
    ) -> Result<(), ArchiveError> {
        let path = join(parent, victim);
        if self.seen.contains(&path) {
            return Ok(());
        }
        let pfd = self.parent(parent, raw)?;
        if lstat_at(pfd.as_fd(), victim)
            .map_err(entry_err(raw, "inspecting"))?
            .is_some()
        {
            // Left by a lower layer in a root that was not fresh: the whiteout replaces it.
            remove_all_at(pfd.as_fd(), victim)
                .map_err(entry_err(raw, "replacing the existing entry"))?;
            self.root.invalidate();
        }
        self.mark(&path);
        make_whiteout(pfd.as_fd(), victim, xattr_fallback)
            .map_err(errno_err(raw, "creating the overlay whiteout"))?;
        Ok(())
    }

    /// `DIR/.wh..wh..opq` in overlay mode: `DIR` (created if missing) is marked opaque.
    fn overlay_opaque(&mut self, dir: &[u8], raw: &[u8]) -> Result<(), ArchiveError> {
        let fd = self.parent(dir, raw)?;
        self.mark(dir);
        mark_opaque(fd.as_fd()).map_err(errno_err(raw, "marking the directory opaque"))
    }

    fn opaque(&mut self, dir: &[u8], raw: &[u8]) -> Result<(), ArchiveError> {
        let fd = match self.root.open_dir_nofollow(dir) {
            Ok(fd) => fd,
            Err(e) if matches!(e.raw_os_error(), Some(c) if c == Errno::NOENT.raw_os_error() || c == Errno::NOTDIR.raw_os_error() || c == Errno::LOOP.raw_os_error()) =>
            {
                return Ok(());
            }
            Err(e) => return Err(entry_err(raw, "opening the opaque directory")(e)),
        };
        self.mark(dir);
        self.clear_lower(&fd, dir)
            .map_err(entry_err(raw, "clearing the opaque directory"))?;
        self.root.invalidate();
        Ok(())
    }

    /// Removes everything below `dir` that this layer did not create or traverse.
    fn clear_lower(&self, fd: &OwnedFd, dir: &[u8]) -> io::Result<()> {
        for child in list(fd)? {
            let path = join(dir, &child);
            if !self.seen.contains(&path) {
                remove_all_at(fd.as_fd(), &child)?;
            } else if lstat_at(fd.as_fd(), &child)?.is_some_and(|st| is_dir(&st)) {
                let sub = rustix::fs::openat(
                    fd,
                    os(&child),
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )?;
                self.clear_lower(&sub, &path)?;
            }
        }
        Ok(())
    }

    fn finish_dirs(&mut self) -> Result<(), ArchiveError> {
        let dirs = std::mem::take(&mut self.dirs);
        let mut done = HashSet::new();
        // Deepest last-seen first: children's times are set before their parents'.
        for d in dirs.iter().rev() {
            if !done.insert(d.path.as_slice()) {
                continue;
            }
            let (parent, base) = split(&d.path);
            let pfd = match self.root.dir(parent, false, &mut |_| {}) {
                Ok(fd) => fd,
                Err(e) if e.raw_os_error() == Some(Errno::NOENT.raw_os_error()) => continue,
                Err(e) => return Err(entry_err(&d.path, "resolving the directory")(e)),
            };
            match rustix::fs::chmodat(pfd, os(base), Mode::from_raw_mode(d.mode), AtFlags::empty())
            {
                Ok(()) => {}
                Err(Errno::NOENT) => continue,
                Err(e) => return Err(errno_err(&d.path, "setting the mode")(e)),
            }
            set_mtime_at(pfd, base, d.mtime).map_err(errno_err(&d.path, "setting the mtime"))?;
        }
        Ok(())
    }
}

fn chown_at(pfd: BorrowedFd<'_>, base: &[u8], meta: &Meta) -> Result<(), Errno> {
    rustix::fs::chownat(
        pfd,
        os(base),
        Some(rustix::fs::Uid::from_raw(meta.uid)),
        Some(rustix::fs::Gid::from_raw(meta.gid)),
        AtFlags::SYMLINK_NOFOLLOW,
    )
}

fn set_mtime_at(pfd: BorrowedFd<'_>, base: &[u8], t: Timespec) -> Result<(), Errno> {
    let times = Timestamps {
        last_access: t,
        last_modification: t,
    };
    rustix::fs::utimensat(pfd, os(base), &times, AtFlags::SYMLINK_NOFOLLOW)
}

fn set_xattrs_at(pfd: BorrowedFd<'_>, base: &[u8], meta: &Meta, dir: bool) -> Result<(), Errno> {
    if meta.xattrs.is_empty() {
        return Ok(());
    }
    let path = proc_path(pfd, base);
    for (k, v) in &meta.xattrs {
        let r = rustix::fs::lsetxattr(os(&path), os(k), v, XattrFlags::empty());
        tolerate_xattr(r, k, dir)?;
    }
    Ok(())
}

/// The kernel refuses some attributes for good reasons: `user.*` on symlinks and devices,
/// `trusted.*` and `security.*` without privilege, any attribute on a filesystem without
/// support. Those are skipped; a `user.*` attribute a file or directory cannot take is an error.
fn tolerate_xattr(r: Result<(), Errno>, name: &[u8], file_or_dir: bool) -> Result<(), Errno> {
    match r {
        Err(Errno::PERM | Errno::NOTSUP | Errno::ACCESS)
            if !(file_or_dir && name.starts_with(b"user.")) =>
        {
            Ok(())
        }
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(entries: &[(&str, tar::EntryType, &[u8], Option<&str>)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, kind, data, link) in entries {
            let mut h = tar::Header::new_ustar();
            h.set_entry_type(*kind);
            h.set_path(name).unwrap();
            if let Some(l) = link {
                h.set_link_name(l).unwrap();
            }
            h.set_mode(if kind.is_dir() { 0o755 } else { 0o644 });
            h.set_size(data.len() as u64);
            h.set_mtime(1_000_000);
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn opts() -> ApplyOptions {
        ApplyOptions {
            same_owner: false,
            ..ApplyOptions::default()
        }
    }

    #[test]
    fn whiteouts_remove_lower_entries_but_not_the_same_layers() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("d/sub")).unwrap();
        std::fs::write(root.join("d/old"), b"lower").unwrap();
        std::fs::write(root.join("gone"), b"lower").unwrap();
        let layer = tar_of(&[
            ("d/", tar::EntryType::Directory, b"", None),
            ("d/.wh..wh..opq", tar::EntryType::Regular, b"", None),
            ("d/new", tar::EntryType::Regular, b"upper", None),
            ("d/.wh.new", tar::EntryType::Regular, b"", None),
            (".wh.gone", tar::EntryType::Regular, b"", None),
        ]);
        let stats = apply_layer(&layer[..], root, &opts()).unwrap();
        assert_eq!(stats.entries, 5);
        assert_eq!(stats.bytes, 5);
        assert!(!root.join("gone").exists());
        assert!(!root.join("d/old").exists());
        assert!(!root.join("d/sub").exists());
        assert_eq!(std::fs::read(root.join("d/new")).unwrap(), b"upper");
    }

    #[test]
    fn opaque_marker_keeps_entries_written_before_it_in_the_same_layer() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("d/keep")).unwrap();
        std::fs::write(root.join("d/keep/lower"), b"x").unwrap();
        std::fs::write(root.join("d/-lower"), b"x").unwrap();
        let layer = tar_of(&[
            ("d/-early", tar::EntryType::Regular, b"e", None),
            ("d/keep/upper", tar::EntryType::Regular, b"u", None),
            ("d/.wh..wh..opq", tar::EntryType::Regular, b"", None),
        ]);
        apply_layer(&layer[..], root, &opts()).unwrap();
        assert!(root.join("d/-early").exists());
        assert!(root.join("d/keep/upper").exists());
        assert!(!root.join("d/keep/lower").exists());
        assert!(!root.join("d/-lower").exists());
    }

    /// In an empty root the applier skips the lookup before creating a path it has not seen
    /// (`fresh`). A layer that reaches one file by two names (through a symlink or a hard
    /// link to one, or twice by the same name) must still replace it, exactly as in a root
    /// that was not empty.
    #[test]
    fn a_fresh_root_replaces_files_reached_again_by_another_name() {
        let lib: &[u8] = b"";
        let layer = tar_of(&[
            ("x/", tar::EntryType::Directory, lib, None),
            ("x/f", tar::EntryType::Regular, b"first", None),
            ("a", tar::EntryType::Symlink, lib, Some("x")),
            ("a/f", tar::EntryType::Regular, b"second", None),
            ("h", tar::EntryType::Link, lib, Some("a")),
            ("h/g", tar::EntryType::Regular, b"third", None),
            ("x/g", tar::EntryType::Regular, b"fourth", None),
            ("d/n", tar::EntryType::Regular, b"one", None),
            ("d/n", tar::EntryType::Regular, b"two", None),
        ]);
        let tmp = tempfile::tempdir().unwrap();
        let fresh = tmp.path().join("fresh");
        let used = tmp.path().join("used");
        std::fs::create_dir(&fresh).unwrap();
        std::fs::create_dir(&used).unwrap();
        std::fs::write(used.join("unrelated"), b"u").unwrap();
        for root in [&fresh, &used] {
            apply_layer(&layer[..], root, &opts()).unwrap();
            assert_eq!(
                std::fs::read(root.join("x/f")).unwrap(),
                b"second",
                "{root:?}"
            );
            assert_eq!(
                std::fs::read(root.join("x/g")).unwrap(),
                b"fourth",
                "{root:?}"
            );
            assert_eq!(std::fs::read(root.join("d/n")).unwrap(), b"two", "{root:?}");
        }
    }

    #[test]
    fn a_symlink_to_an_absolute_directory_is_followed_inside_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir(&root).unwrap();
        let layer = tar_of(&[
            ("usr/lib64/", tar::EntryType::Directory, b"", None),
            ("lib64", tar::EntryType::Symlink, b"", Some("/usr/lib64")),
            ("lib64/ld.so", tar::EntryType::Regular, b"ld", None),
        ]);
        apply_layer(&layer[..], &root, &opts()).unwrap();
        assert_eq!(std::fs::read(root.join("usr/lib64/ld.so")).unwrap(), b"ld");
        assert_eq!(
            std::fs::read_link(root.join("lib64")).unwrap(),
            Path::new("/usr/lib64")
        );
    }

    #[test]
    fn later_entries_replace_earlier_files_and_lower_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("was_dir/x")).unwrap();
        let layer = tar_of(&[
            ("f", tar::EntryType::Regular, b"one", None),
            ("f", tar::EntryType::Regular, b"two", None),
            ("was_dir", tar::EntryType::Symlink, b"", Some("f")),
            ("h", tar::EntryType::Link, b"", Some("f")),
        ]);
        apply_layer(&layer[..], root, &opts()).unwrap();
        assert_eq!(std::fs::read(root.join("f")).unwrap(), b"two");
        assert_eq!(std::fs::read(root.join("h")).unwrap(), b"two");
        assert!(root.join("was_dir").is_symlink());
    }
}
