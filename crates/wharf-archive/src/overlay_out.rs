//! Overlay's own whiteout and opaque markers, written by the applier in
//! [`crate::Whiteouts::Overlay`] mode (see overlayfs.rst, "whiteouts and opaque directories").
//!
//! Every call works on a directory handle the applier resolved inside the root, and on a last
//! component that is never followed.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{FileType, Mode, OFlags, XattrFlags};
use rustix::io::Errno;

use crate::root::os;

/// How a whiteout was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WhiteoutForm {
    /// A character device 0/0.
    Device,
    /// An empty file with `*.overlay.whiteout`, its directory marked `*.overlay.opaque=x`.
    Xattr,
}

/// A readable handle on the directory behind an `O_PATH` handle, for `fsetxattr`.
fn readable(dir: BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
    rustix::fs::openat(
        dir,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// Makes `name` in `dir` (which must not exist) an overlay whiteout.
pub(crate) fn make_whiteout(
    dir: BorrowedFd<'_>,
    name: &[u8],
    xattr_fallback: bool,
) -> Result<WhiteoutForm, Errno> {
    let dev = rustix::fs::makedev(0, 0);
    match rustix::fs::mknodat(dir, os(name), FileType::CharacterDevice, Mode::empty(), dev) {
        Ok(()) => return Ok(WhiteoutForm::Device),
        Err(Errno::PERM | Errno::ACCESS) if xattr_fallback => {}
        Err(e) => return Err(e),
    }
    let file = rustix::fs::openat(
        dir,
        os(name),
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    // user.* is what overlay mounted with `userxattr` (rootless) and fuse-overlayfs read;
    // trusted.* is for overlay mounted by real root, and needs privilege.
    rustix::fs::fsetxattr(&file, "user.overlay.whiteout", b"", XattrFlags::empty())?;
    let _ = rustix::fs::fsetxattr(&file, "trusted.overlay.whiteout", b"", XattrFlags::empty());
    // Overlay looks for xattr whiteouts only in directories marked "x". CREATE: an opaque
    // directory ("y") stays opaque, which hides the lower entry anyway.
    let d = readable(dir)?;
    match rustix::fs::fsetxattr(&d, "user.overlay.opaque", b"x", XattrFlags::CREATE) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(e),
    }
    let _ = rustix::fs::fsetxattr(&d, "trusted.overlay.opaque", b"x", XattrFlags::CREATE);
    Ok(WhiteoutForm::Xattr)
}

/// Marks directory `dir` opaque: `trusted.overlay.opaque=y` when permitted and
/// `user.overlay.opaque=y`; an error only when neither can be set.
pub(crate) fn mark_opaque(dir: BorrowedFd<'_>) -> Result<(), Errno> {
    let d = readable(dir.as_fd())?;
    let trusted = rustix::fs::fsetxattr(&d, "trusted.overlay.opaque", b"y", XattrFlags::empty());
    let user = rustix::fs::fsetxattr(&d, "user.overlay.opaque", b"y", XattrFlags::empty());
    match (trusted, user) {
        (Err(_), Err(e)) => Err(e),
        _ => Ok(()),
    }
}
