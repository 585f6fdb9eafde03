//! What [`crate::apply_layer`] is asked to do, and what it reports back.

/// What happens to character and block device entries.
///
/// A character device 0/0 is not a device but an overlay whiteout: this policy never applies
/// to it (see [`crate::apply_layer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceNodes {
    /// Refuse the layer with an error naming the entry: an untrusted archive does not get to
    /// make device nodes.
    #[default]
    Refuse,
    /// Create them; an error if the kernel refuses.
    Create,
    /// Never create them; each is counted in [`ApplyStats::skipped_devices`].
    Skip,
    /// Create them, and skip (and count) those the kernel refuses with `EPERM`, as a user
    /// namespace always does. This is containers/storage's rootless behaviour: the runtime
    /// bind-mounts `/dev` from the host anyway.
    CreateOrSkip,
}

/// What OCI whiteouts (`.wh.NAME`, `.wh..wh..opq`) do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Whiteouts {
    /// Delete what lower layers put there: the root is the merged tree of all layers below.
    #[default]
    Apply,
    /// Write overlay's own markers instead: the root is this layer's diff alone, to be stacked
    /// as an overlay lower directory. `.wh.NAME` becomes a character device 0/0 at `NAME`
    /// (unprivileged users may make one since Linux 5.8); `DIR/.wh..wh..opq` sets
    /// `trusted.overlay.opaque=y` (when permitted) and `user.overlay.opaque=y` on `DIR` (at
    /// least one must hold). Nothing is deleted but what a whiteout replaces.
    Overlay {
        /// Where `mknod` is refused, make `NAME` an empty file with the
        /// `user.overlay.whiteout` xattr (and `trusted.overlay.whiteout` when permitted) and
        /// mark its directory `*.overlay.opaque=x`: overlay's "xwhiteout" form (Linux 6.7+,
        /// also read by fuse-overlayfs). Without it, a refused `mknod` is an error.
        xattr_fallback: bool,
    },
}

/// How a layer is applied.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Character and block devices: refused, created or skipped.
    pub devices: DeviceNodes,
    /// Whiteouts delete lower entries, or are written in overlay's form.
    pub whiteouts: Whiteouts,
    /// Give entries the owners recorded in the tar (needs root, or a user namespace with the
    /// ids mapped); when false, files keep the ids of the calling process.
    pub same_owner: bool,
    /// Strip a leading `/` from entry names and hard link targets (docker's behaviour) instead
    /// of refusing them. The stripped name is still confined to the root.
    pub confine_absolute_names: bool,
    /// Restore extended attributes from PAX `SCHILY.xattr.*` records. Overlay's own
    /// attributes (`*.overlay.*`) are never set: they would change how the tree mounts.
    pub xattrs: bool,
    /// Report what `lstat` says of every entry made, in [`ApplyStats::nodes`], when the root
    /// started empty. Regular files are looked at through the descriptor that wrote them, so
    /// a caller that records the tree (the store, for `fsck`) needs no second walk of it.
    pub record: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            devices: DeviceNodes::Refuse,
            whiteouts: Whiteouts::Apply,
            same_owner: true,
            confine_absolute_names: false,
            xattrs: true,
            record: false,
        }
    }
}

/// How many paths of skipped device nodes a report keeps.
pub const SKIPPED_PATHS_KEPT: usize = 8;

/// Device nodes that were not created (see [`DeviceNodes::Skip`] and
/// [`DeviceNodes::CreateOrSkip`]), so that callers can warn.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkippedDevices {
    /// How many device entries were skipped.
    pub count: u64,
    /// The first [`SKIPPED_PATHS_KEPT`] of them, as named in the archive.
    pub first: Vec<String>,
}

impl SkippedDevices {
    pub(crate) fn add(&mut self, entry: &[u8]) {
        self.count += 1;
        if self.first.len() < SKIPPED_PATHS_KEPT {
            self.first.push(String::from_utf8_lossy(entry).into_owned());
        }
    }
}

/// What applying a layer did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyStats {
    /// Tar entries processed, whiteouts included.
    pub entries: u64,
    /// Bytes of regular file content written.
    pub bytes: u64,
    /// Device nodes that the [`DeviceNodes`] policy skipped.
    pub skipped_devices: SkippedDevices,
    /// With [`ApplyOptions::record`]: every entry below the root as the apply left it, by
    /// its path relative to the root, in no particular order. `None` when not asked for, when
    /// the root was not empty, or when the layer reached a path through a link it made (then
    /// its own names are not the tree's).
    pub nodes: Option<Vec<(Vec<u8>, NodeStat)>>,
}

/// What `lstat` says of one entry (see [`ApplyStats::nodes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeStat {
    /// `st_mode`: the file type and permission bits.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub ino: u64,
    /// The device number of a device node.
    pub rdev: u64,
    /// Seconds and nanoseconds.
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
}

impl NodeStat {
    // The field types of `struct stat` differ between architectures; these casts are
    // conversions on some and no-ops on others.
    #[allow(clippy::unnecessary_cast, clippy::cast_possible_wrap)]
    pub(crate) fn of(st: &rustix::fs::Stat) -> Self {
        Self {
            mode: st.st_mode as u32,
            uid: st.st_uid as u32,
            gid: st.st_gid as u32,
            size: st.st_size as u64,
            ino: st.st_ino as u64,
            rdev: st.st_rdev as u64,
            mtime: (st.st_mtime as i64, st.st_mtime_nsec as i64),
            ctime: (st.st_ctime as i64, st.st_ctime_nsec as i64),
        }
    }
}
