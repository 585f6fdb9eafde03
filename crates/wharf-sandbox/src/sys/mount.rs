//! Mounts: overlayfs through the new mount API (fsopen/fsconfig/fsmount/move_mount) with a
//! legacy `mount(2)` fallback, unmounting, and creating and mounting on paths inside a container's
//! root filesystem through `openat2(RESOLVE_IN_ROOT)` handles. rustix's safe wrappers cover every
//! call but `mount_setattr(2)`, the one `unsafe` block here.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::CWD;
use rustix::mount::{
    FsMountFlags, FsOpenFlags, MountAttrFlags, MountFlags, MoveMountFlags, OpenTreeFlags,
    UnmountFlags,
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
    if o.volatile {
        rustix::mount::fsconfig_set_flag(&fs, "volatile")
            .map_err(|e| NewApi::Failed(with_context(e, &fs, "volatile")))?;
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
    if o.volatile {
        s.push_str(",volatile");
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

// Paths inside a container's root filesystem. Every lookup goes through
// `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` on a handle of the root, so that symlinks
// (absolute ones and `..` included) resolve as if the root were `/` and a chain longer than the
// kernel's 40 links fails with ELOOP instead of being followed on the host. Mounts and
// attribute changes then go through the resolved handle (`/proc/self/fd/N`), as runc does, so a
// symlink swapped in after the lookup cannot redirect them.

const IN_ROOT: rustix::fs::ResolveFlags =
    rustix::fs::ResolveFlags::IN_ROOT.union(rustix::fs::ResolveFlags::NO_MAGICLINKS);

/// `path` (a container path) as the relative path `openat2` takes under the root: the root
/// and `.` components dropped, `..` kept (the kernel clamps it at the root).
fn relative(path: &Path) -> std::path::PathBuf {
    use std::path::Component;
    let rel: std::path::PathBuf = path
        .components()
        .filter(|c| matches!(c, Component::Normal(_) | Component::ParentDir))
        .collect();
    if rel.as_os_str().is_empty() {
        std::path::PathBuf::from(".")
    } else {
        rel
    }
}

/// A handle on `root` that container paths are resolved under.
pub(crate) fn open_root(root: &Path) -> io::Result<OwnedFd> {
    rustix::fs::open(
        root,
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(io::Error::from)
}

fn openat2_in(
    rootfd: &OwnedFd,
    path: &Path,
    flags: rustix::fs::OFlags,
    mode: u32,
) -> Result<OwnedFd, rustix::io::Errno> {
    let rel = relative(path);
    // The kernel answers EAGAIN when a rename raced with a `..` lookup; retry a few times.
    let mut tries = 0;
    loop {
        match rustix::fs::openat2(
            rootfd,
            &rel,
            flags | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::from_raw_mode(mode),
            IN_ROOT,
        ) {
            Err(rustix::io::Errno::AGAIN) if tries < 16 => tries += 1,
            r => return r,
        }
    }
}

/// Opens the container path `path` under `root` as an `O_PATH` handle, following symlinks
/// inside the root only.
pub(crate) fn open_in_root(root: &Path, path: &Path) -> io::Result<OwnedFd> {
    let rootfd = open_root(root)?;
    openat2_in(&rootfd, path, rustix::fs::OFlags::PATH, 0).map_err(io::Error::from)
}

/// Opens the container path `path` under `root` as a readable directory.
pub(crate) fn open_dir_in_root(root: &Path, path: &Path) -> io::Result<OwnedFd> {
    let rootfd = open_root(root)?;
    openat2_in(
        &rootfd,
        path,
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY,
        0,
    )
    .map_err(io::Error::from)
}

/// The path through which the kernel reaches what `fd` refers to.
pub(crate) fn fd_path(fd: &OwnedFd) -> std::path::PathBuf {
    use std::os::fd::AsRawFd;
    std::path::PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// `mkdir -p` of the container path `path` under `root` (mode 0755 for what it makes): each
/// directory is made with `mkdirat` in its parent's resolved handle, never through a path the
/// host would resolve. Returns a handle on the directory.
pub(crate) fn mkdir_all_in_root(root: &Path, path: &Path) -> io::Result<OwnedFd> {
    use rustix::fs::OFlags;
    let rootfd = open_root(root)?;
    let dir_flags = OFlags::PATH | OFlags::DIRECTORY;
    let mut fd = openat2_in(&rootfd, Path::new("."), dir_flags, 0).map_err(io::Error::from)?;
    let mut prefix = std::path::PathBuf::from("/");
    for comp in relative(path).components() {
        prefix.push(comp);
        fd = match openat2_in(&rootfd, &prefix, dir_flags, 0) {
            Ok(next) => next,
            Err(rustix::io::Errno::NOENT) => {
                match rustix::fs::mkdirat(
                    &fd,
                    comp.as_os_str(),
                    rustix::fs::Mode::from_raw_mode(0o755),
                ) {
                    Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                    Err(e) => return Err(e.into()),
                }
                openat2_in(&rootfd, &prefix, dir_flags, 0).map_err(io::Error::from)?
            }
            Err(e) => return Err(e.into()),
        };
    }
    Ok(fd)
}

/// The resolved parent directory of the container path `path` (made when missing) and the
/// last component's name. `path` must name something below the root.
fn parent_in_root(root: &Path, path: &Path) -> io::Result<(OwnedFd, std::ffi::OsString)> {
    let rel = relative(path);
    let name = match rel.file_name() {
        Some(n)
            if rel
                .components()
                .next_back()
                .is_some_and(|c| matches!(c, std::path::Component::Normal(_))) =>
        {
            n.to_os_string()
        }
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} does not name an entry below the root", path.display()),
            ));
        }
    };
    let parent = rel.parent().unwrap_or(Path::new(""));
    Ok((mkdir_all_in_root(root, parent)?, name))
}

/// Creates an empty file at the container path `path` under `root` (parents included) to bind
/// a file onto; an existing entry is left as it is.
pub(crate) fn create_file_in_root(root: &Path, path: &Path) -> io::Result<()> {
    use rustix::fs::OFlags;
    let rootfd = open_root(root)?;
    match openat2_in(&rootfd, path, OFlags::PATH, 0) {
        Ok(_) => return Ok(()),
        Err(rustix::io::Errno::NOENT) => {}
        Err(e) => return Err(e.into()),
    }
    parent_in_root(root, path)?;
    // O_CREAT without O_EXCL follows a dangling last symlink, inside the root; O_NONBLOCK and
    // O_NOCTTY keep a FIFO or a terminal raced in from blocking or being acquired.
    openat2_in(
        &rootfd,
        path,
        OFlags::RDONLY | OFlags::CREATE | OFlags::NONBLOCK | OFlags::NOCTTY,
        0o644,
    )
    .map(drop)
    .map_err(io::Error::from)
}

/// symlinkat(2) of `link` (a container path under `root`) pointing at `target`.
pub(crate) fn symlink_in_root(target: &Path, root: &Path, link: &Path) -> io::Result<()> {
    let (dir, name) = parent_in_root(root, link)?;
    rustix::fs::symlinkat(target, &dir, name.as_os_str()).map_err(io::Error::from)
}

/// mknod(2) of a character device at the container path `path` under `root`.
pub(crate) fn mknod_char_in_root(
    root: &Path,
    path: &Path,
    mode: u32,
    major: u64,
    minor: u64,
) -> io::Result<()> {
    let (dir, name) = parent_in_root(root, path)?;
    rustix::fs::mknodat(
        &dir,
        name.as_os_str(),
        rustix::fs::FileType::CharacterDevice,
        rustix::fs::Mode::from_raw_mode(mode),
        rustix::fs::makedev(major as u32, minor as u32),
    )
    .map_err(io::Error::from)
}

/// lchown(2) of the container path `path` under `root` (a last symlink is not followed).
pub(crate) fn chown_in_root(root: &Path, path: &Path, uid: u32, gid: u32) -> io::Result<()> {
    let (dir, name) = parent_in_root(root, path)?;
    rustix::fs::chownat(
        &dir,
        name.as_os_str(),
        Some(rustix::fs::Uid::from_raw(uid)),
        Some(rustix::fs::Gid::from_raw(gid)),
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .map_err(io::Error::from)
}

/// mount(2) onto the container path `target` under `root`, through its resolved handle.
pub(crate) fn mount_in_root(
    source: Option<&Path>,
    root: &Path,
    target: &Path,
    fstype: Option<&str>,
    flags: u64,
    data: Option<&str>,
) -> io::Result<()> {
    // Resolved again for every call: after a mount, only a new lookup reaches the new mount
    // rather than the directory underneath it.
    let fd = open_in_root(root, target)?;
    mount(source, &fd_path(&fd), fstype, flags, data)
}

/// Remounts the mount at the container path `target` under `root` with `flags` added to the
/// flags a user namespace may not clear.
pub(crate) fn remount_in_root(root: &Path, target: &Path, flags: u64) -> io::Result<()> {
    let fd = open_in_root(root, target)?;
    let path = fd_path(&fd);
    let locked = locked_flags(&path)?;
    mount(
        None,
        &path,
        None,
        libc::MS_REMOUNT | libc::MS_BIND | flags | locked,
        None,
    )
}

/// Sets `MS_RDONLY`, `MS_NOSUID`, `MS_NODEV` and `MS_NOEXEC` from `flags` on the mount at the
/// container path `target` under `root` and on every mount below it (`mount_setattr` with
/// `AT_RECURSIVE`): a remount changes only the top mount, leaving submounts of a recursive bind
/// (the host's cgroup hierarchies under `/sys`) writable.
pub(crate) fn set_recursive_in_root(root: &Path, target: &Path, flags: u64) -> io::Result<()> {
    let fd = open_in_root(root, target)?;
    let mut set = 0u64;
    for (ms, attr) in [
        (libc::MS_RDONLY, MOUNT_ATTR_RDONLY),
        (libc::MS_NOSUID, MOUNT_ATTR_NOSUID),
        (libc::MS_NODEV, MOUNT_ATTR_NODEV),
        (libc::MS_NOEXEC, MOUNT_ATTR_NOEXEC),
    ] {
        if flags & ms != 0 {
            set |= attr;
        }
    }
    if set == 0 {
        return Ok(());
    }
    mount_setattr_recursive(&fd, set)
}

const MOUNT_ATTR_RDONLY: u64 = 0x1;
const MOUNT_ATTR_NOSUID: u64 = 0x2;
const MOUNT_ATTR_NODEV: u64 = 0x4;
const MOUNT_ATTR_NOEXEC: u64 = 0x8;

/// `struct mount_attr` of `<linux/mount.h>` (version 0, 32 bytes).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// A read-only bind mount of the file `file` refers to, made detached (`open_tree` with
/// `OPEN_TREE_CLONE`, then `mount_setattr(MOUNT_ATTR_RDONLY)`): executing the returned `O_PATH`
/// descriptor runs the same file, with no copy, and nothing that reaches the file through the
/// running program (`/proc/PID/exe`) can open it for writing (`EROFS`). The mount is in no
/// mount table and goes away with its last user. Needs `CAP_SYS_ADMIN` over the caller's mount
/// namespace: root, or root of the rootless user namespace.
pub(crate) fn read_only_clone(file: std::os::fd::BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let tree = rustix::mount::open_tree(
        file,
        c"",
        OpenTreeFlags::OPEN_TREE_CLONE
            | OpenTreeFlags::OPEN_TREE_CLOEXEC
            | OpenTreeFlags::AT_EMPTY_PATH,
    )?;
    mount_setattr_recursive(
        &tree,
        MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
    )?;
    Ok(tree)
}

/// mount_setattr(2) on the mount `fd` refers to and every mount below it, setting `set`
/// (`MOUNT_ATTR_*`). rustix has no wrapper for it.
fn mount_setattr_recursive(fd: &OwnedFd, set: u64) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let attr = MountAttr {
        attr_set: set,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let empty = c"";
    // SAFETY: `fd` is a valid open descriptor for the duration of the call, `empty` is a
    // NUL-terminated string, and `attr` is a properly initialised `struct mount_attr` whose size
    // is passed alongside; the kernel only reads from both pointers.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            empty.as_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_RECURSIVE,
            &raw const attr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
