//! A directory tree that archive entries are confined to.
//!
//! Every path is resolved with `openat2(RESOLVE_IN_ROOT)` up to its parent directory, so symlinks
//! (absolute ones included) and `..` are resolved as if the root were `/`: an entry can never
//! reach outside. The last component is then operated on with `*at` calls that do not follow it.

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// The root directory and a one-entry cache of the last resolved parent directory.
pub(crate) struct Root {
    fd: OwnedFd,
    cached: Option<(Vec<u8>, OwnedFd)>,
}

pub(crate) fn os(bytes: &[u8]) -> &OsStr {
    OsStr::from_bytes(bytes)
}

const RESOLVE: ResolveFlags = ResolveFlags::IN_ROOT.union(ResolveFlags::NO_MAGICLINKS);

impl Root {
    pub(crate) fn open(path: &Path) -> io::Result<Self> {
        let fd = rustix::fs::open(
            path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Self { fd, cached: None })
    }

    #[cfg(test)]
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Forgets the cached parent: called whenever something is removed, since a removal may
    /// change what a path resolves to.
    pub(crate) fn invalidate(&mut self) {
        self.cached = None;
    }

    fn openat2(&self, path: &[u8], flags: OFlags) -> io::Result<OwnedFd> {
        let path = if path.is_empty() { &b"."[..] } else { path };
        // The kernel returns EAGAIN when a rename raced with the lookup; retry a few times.
        let mut tries = 0;
        loop {
            match rustix::fs::openat2(
                &self.fd,
                os(path),
                flags | OFlags::CLOEXEC,
                Mode::empty(),
                RESOLVE,
            ) {
                Err(Errno::AGAIN) if tries < 16 => tries += 1,
                r => return r.map_err(io::Error::from),
            }
        }
    }

    /// Opens directory `path` (normalised, inside the root) as an `O_PATH` handle. With
    /// `create`, missing directories are made with mode 0755, as tar does for implicit parents;
    /// the callback learns every directory made this way.
    pub(crate) fn dir(
        &mut self,
        path: &[u8],
        create: bool,
        made: &mut dyn FnMut(&[u8]),
    ) -> io::Result<BorrowedFd<'_>> {
        let hit = matches!(&self.cached, Some((p, _)) if p == path);
        if !hit {
            let fd = match self.openat2(path, OFlags::PATH | OFlags::DIRECTORY) {
                Err(e) if create && e.raw_os_error() == Some(Errno::NOENT.raw_os_error()) => {
                    self.create_dirs(path, made)?
                }
                r => r?,
            };
            self.cached = Some((path.to_vec(), fd));
        }
        match &self.cached {
            Some((_, fd)) => Ok(fd.as_fd()),
            None => unreachable!("cache filled above"),
        }
    }

    fn create_dirs(&self, path: &[u8], made: &mut dyn FnMut(&[u8])) -> io::Result<OwnedFd> {
        let mut fd = self.openat2(b"", OFlags::PATH | OFlags::DIRECTORY)?;
        let mut end = 0;
        for comp in path.split(|&b| b == b'/') {
            end += comp.len();
            let prefix = &path[..end];
            end += 1;
            match self.openat2(prefix, OFlags::PATH | OFlags::DIRECTORY) {
                Ok(next) => fd = next,
                Err(e) if e.raw_os_error() == Some(Errno::NOENT.raw_os_error()) => {
                    // `fd` is the resolved parent, so mkdirat cannot be redirected by a symlink.
                    match rustix::fs::mkdirat(&fd, os(comp), Mode::from_raw_mode(0o755)) {
                        Ok(()) => made(prefix),
                        Err(Errno::EXIST) => {}
                        Err(e) => return Err(e.into()),
                    }
                    fd = self.openat2(prefix, OFlags::PATH | OFlags::DIRECTORY)?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(fd)
    }

    /// Opens `path` itself as a readable directory without following a final symlink.
    pub(crate) fn open_dir_nofollow(&self, path: &[u8]) -> io::Result<OwnedFd> {
        if path.is_empty() {
            return self.openat2(b"", OFlags::RDONLY | OFlags::DIRECTORY);
        }
        self.openat2(path, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW)
    }
}

/// `lstat` of `name` in `dir`, `None` when it does not exist.
pub(crate) fn lstat_at(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<Option<rustix::fs::Stat>> {
    match rustix::fs::statat(dir, os(name), AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(st)),
        Err(Errno::NOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn is_dir(st: &rustix::fs::Stat) -> bool {
    FileType::from_raw_mode(st.st_mode) == FileType::Directory
}

/// Removes `name` in `dir` and, for a directory, everything below it, without following
/// symlinks anywhere.
pub(crate) fn remove_all_at(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<()> {
    let Some(st) = lstat_at(dir, name)? else {
        return Ok(());
    };
    if !is_dir(&st) {
        return rustix::fs::unlinkat(dir, os(name), AtFlags::empty()).map_err(Into::into);
    }
    if st.st_mode & 0o700 != 0o700 {
        // A read-only directory from a lower layer: make it writable so it can be emptied.
        rustix::fs::chmodat(dir, os(name), Mode::from_raw_mode(0o700), AtFlags::empty())?;
    }
    let sub = rustix::fs::openat(
        dir,
        os(name),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    for child in list(&sub)? {
        remove_all_at(sub.as_fd(), &child)?;
    }
    rustix::fs::unlinkat(dir, os(name), AtFlags::REMOVEDIR).map_err(Into::into)
}

/// The names in an open directory, without `.` and `..`.
pub(crate) fn list(dir: &OwnedFd) -> io::Result<Vec<Vec<u8>>> {
    let mut names = Vec::new();
    for entry in rustix::fs::Dir::read_from(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(name.to_vec());
        }
    }
    Ok(names)
}

/// A `/proc/self/fd/N/name` path naming `name` in an open directory, for the path-only xattr
/// calls on symlinks and special files. The directory handle is ours, so the magic link
/// cannot be redirected; the last component is not followed by `lsetxattr`.
pub(crate) fn proc_path(dir: BorrowedFd<'_>, name: &[u8]) -> Vec<u8> {
    let mut p = format!("/proc/self/fd/{}/", dir.as_raw_fd()).into_bytes();
    p.extend_from_slice(name);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_symlinks_resolve_inside_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let root_path = tmp.path().join("root");
        std::fs::create_dir_all(root_path.join("usr/lib64")).unwrap();
        std::os::unix::fs::symlink("/usr/lib64", root_path.join("lib64")).unwrap();
        std::os::unix::fs::symlink("../../../../../..", root_path.join("up")).unwrap();
        let mut root = Root::open(&root_path).unwrap();
        let fd = root.dir(b"lib64", false, &mut |_| {}).unwrap();
        rustix::fs::mkdirat(fd, "inside", Mode::from_raw_mode(0o755)).unwrap();
        assert!(root_path.join("usr/lib64/inside").is_dir());
        let fd = root.dir(b"up", false, &mut |_| {}).unwrap();
        rustix::fs::mkdirat(fd, "clamped", Mode::from_raw_mode(0o755)).unwrap();
        assert!(root_path.join("clamped").is_dir());
        assert!(!tmp.path().join("clamped").exists());
    }

    #[test]
    fn missing_parents_are_created_and_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let mut root = Root::open(tmp.path()).unwrap();
        let mut made = Vec::new();
        root.dir(b"a/b/c", true, &mut |p| made.push(p.to_vec()))
            .unwrap();
        assert_eq!(
            made,
            vec![b"a".to_vec(), b"a/b".to_vec(), b"a/b/c".to_vec()]
        );
        assert!(tmp.path().join("a/b/c").is_dir());
    }

    #[test]
    fn remove_all_does_not_follow_symlinks() {
        let tmp = tempfile::tempdir().unwrap();
        let keep = tmp.path().join("keep");
        std::fs::create_dir(&keep).unwrap();
        std::fs::write(keep.join("f"), b"x").unwrap();
        let victim = tmp.path().join("victim");
        std::fs::create_dir_all(victim.join("ro")).unwrap();
        std::os::unix::fs::symlink(&keep, victim.join("link")).unwrap();
        std::fs::set_permissions(
            victim.join("ro"),
            std::os::unix::fs::PermissionsExt::from_mode(0o555),
        )
        .unwrap();
        let root = Root::open(tmp.path()).unwrap();
        remove_all_at(root.fd(), b"victim").unwrap();
        assert!(!victim.exists());
        assert!(keep.join("f").exists());
    }
}
