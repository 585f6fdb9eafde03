//! Mounts: overlayfs through the new mount API (fsopen/fsconfig/fsmount/move_mount) with a
//! legacy `mount(2)` fallback, and unmounting. rustix's safe wrappers cover every call here, so
//! this file holds no `unsafe` block.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::CWD;
use rustix::mount::{
    FsMountFlags, FsOpenFlags, MountAttrFlags, MountFlags, MoveMountFlags, UnmountFlags,
};

use crate::syscall::OverlayMount;

/// The size of the data page `mount(2)` copies its option string into: the legacy limit.
pub(crate) const LEGACY_OPTIONS_LIMIT: usize = 4095;

/// Drains the messages the kernel queued on a filesystem context (`e overlayfs: ...`), so an
/// error can say what the filesystem disliked rather than only `EINVAL`.
fn context_messages(fs: &OwnedFd) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 512];
    while let Ok(n) = rustix::io::read(fs.as_fd(), &mut buf) {
        if n == 0 {
            break;
        }
        out.push(String::from_utf8_lossy(&buf[..n]).trim().to_string());
    }
    out.join("; ")
}

fn with_context(err: rustix::io::Errno, fs: &OwnedFd, step: &str) -> io::Error {
    let messages = context_messages(fs);
    let base = io::Error::from(err);
    if messages.is_empty() {
        io::Error::new(base.kind(), format!("{step}: {base}"))
    } else {
        io::Error::new(base.kind(), format!("{step}: {base} ({messages})"))
    }
}

/// Why the new API could not be used at all (so the legacy call should be tried).
enum NewApi {
    Unsupported,
    Failed(io::Error),
}

fn mount_overlay_new_api(target: &Path, o: &OverlayMount) -> Result<(), NewApi> {
    let fs = rustix::mount::fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC).map_err(|e| {
        if e == rustix::io::Errno::NOSYS {
            NewApi::Unsupported
        } else {
            NewApi::Failed(e.into())
        }
    })?;
    for (i, lower) in o.lowers.iter().enumerate() {
        // `lowerdir+` (Linux 6.8) appends one layer per call: no option-string length limit.
        if let Err(e) = rustix::mount::fsconfig_set_string(&fs, "lowerdir+", lower.as_path()) {
            if i == 0
                && e == rustix::io::Errno::INVAL
                && context_messages(&fs).contains("Unknown parameter")
            {
                return Err(NewApi::Unsupported);
            }
            return Err(NewApi::Failed(with_context(
                e,
                &fs,
                &format!("lowerdir+ {}", lower.display()),
            )));
        }
    }
    if let Some(upper) = &o.upper {
        rustix::mount::fsconfig_set_string(&fs, "upperdir", upper.as_path())
            .map_err(|e| NewApi::Failed(with_context(e, &fs, "upperdir")))?;
    }
    if let Some(work) = &o.work {
        rustix::mount::fsconfig_set_string(&fs, "workdir", work.as_path())
            .map_err(|e| NewApi::Failed(with_context(e, &fs, "workdir")))?;
    }
    if o.userxattr {
        rustix::mount::fsconfig_set_flag(&fs, "userxattr")
            .map_err(|e| NewApi::Failed(with_context(e, &fs, "userxattr")))?;
    }
    rustix::mount::fsconfig_create(&fs)
        .map_err(|e| NewApi::Failed(with_context(e, &fs, "create")))?;
    let mnt = rustix::mount::fsmount(&fs, FsMountFlags::FSMOUNT_CLOEXEC, MountAttrFlags::empty())
        .map_err(|e| NewApi::Failed(with_context(e, &fs, "fsmount")))?;
    rustix::mount::move_mount(
        &mnt,
        "",
        CWD,
        target,
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH,
    )
    .map_err(|e| {
        NewApi::Failed(io::Error::new(
            io::Error::from(e).kind(),
            format!("move_mount: {e}"),
        ))
    })
}

/// The legacy `lowerdir=...,upperdir=...` string; `None` when a path holds a separator
/// character the option parser would split on.
pub(crate) fn legacy_options(o: &OverlayMount) -> Option<String> {
    let bad = |p: &Path| {
        p.as_os_str()
            .as_bytes()
            .iter()
            .any(|b| matches!(b, b',' | b':' | b'\\'))
    };
    let mut s = String::from("lowerdir=");
    for (i, l) in o.lowers.iter().enumerate() {
        if bad(l) {
            return None;
        }
        if i > 0 {
            s.push(':');
        }
        s.push_str(&l.to_string_lossy());
    }
    for (key, p) in [("upperdir", &o.upper), ("workdir", &o.work)] {
        if let Some(p) = p {
            if bad(p) {
                return None;
            }
            s.push(',');
            s.push_str(key);
            s.push('=');
            s.push_str(&p.to_string_lossy());
        }
    }
    if o.userxattr {
        s.push_str(",userxattr");
    }
    Some(s)
}

/// Mounts overlayfs at `target`: the new mount API first, `mount(2)` when the kernel lacks it.
pub(crate) fn mount_overlay(target: &Path, o: &OverlayMount) -> io::Result<()> {
    match mount_overlay_new_api(target, o) {
        Ok(()) => Ok(()),
        Err(NewApi::Failed(e)) => Err(e),
        Err(NewApi::Unsupported) => {
            let Some(data) = legacy_options(o) else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "a layer path contains ',' ':' or '\\', which the legacy overlay options cannot carry",
                ));
            };
            if data.len() > LEGACY_OPTIONS_LIMIT {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "overlay options are {} bytes, over mount(2)'s {LEGACY_OPTIONS_LIMIT}-byte page, and this kernel lacks fsconfig lowerdir+ (Linux 6.8)",
                        data.len()
                    ),
                ));
            }
            let data = std::ffi::CString::new(data).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidInput, "NUL byte in a layer path")
            })?;
            rustix::mount::mount(
                "overlay",
                target,
                "overlay",
                MountFlags::empty(),
                Some(data.as_c_str()),
            )
            .map_err(io::Error::from)
        }
    }
}

/// Unmounts `target`; `detach` makes it lazy (`MNT_DETACH`).
pub(crate) fn umount(target: &Path, detach: bool) -> io::Result<()> {
    let flags = if detach {
        UnmountFlags::DETACH
    } else {
        UnmountFlags::empty()
    };
    rustix::mount::unmount(target, flags).map_err(io::Error::from)
}

/// mount(2) with raw `MS_*` flags (propagation flags included) and an optional data string.
pub(crate) fn mount(
    source: Option<&Path>,
    target: &Path,
    fstype: Option<&str>,
    flags: u64,
    data: Option<&str>,
) -> io::Result<()> {
    let data = data
        .map(std::ffi::CString::new)
        .transpose()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL byte in mount options"))?;
    let flags = MountFlags::from_bits_retain(flags as _);
    let src = source.map_or(Path::new("none"), |s| s);
    match fstype {
        Some(t) => rustix::mount::mount(src, target, t, flags, data.as_deref()),
        // A NULL type: bind mounts, remounts and propagation changes.
        None => rustix::mount::mount(src, target, "", flags, data.as_deref()),
    }
    .map_err(io::Error::from)
}

/// The flags of the mount at `path` that a user namespace may not clear on remount (they are
/// locked when the mount came from a more privileged namespace), as `MS_*` bits.
pub(crate) fn locked_flags(path: &Path) -> io::Result<u64> {
    use rustix::fs::StatVfsMountFlags as F;
    let st = rustix::fs::statvfs(path)?;
    let f = st.f_flag;
    let mut out = 0u64;
    for (vfs, ms) in [
        (F::RDONLY, libc::MS_RDONLY),
        (F::NOSUID, libc::MS_NOSUID),
        (F::NODEV, libc::MS_NODEV),
        (F::NOEXEC, libc::MS_NOEXEC),
        (F::NOATIME, libc::MS_NOATIME),
        (F::NODIRATIME, libc::MS_NODIRATIME),
        (F::RELATIME, libc::MS_RELATIME),
    ] {
        if f.contains(vfs) {
            out |= ms;
        }
    }
    Ok(out)
}

/// pivot_root(2).
pub(crate) fn pivot_root(new_root: &Path, put_old: &Path) -> io::Result<()> {
    rustix::process::pivot_root(new_root, put_old).map_err(io::Error::from)
}
