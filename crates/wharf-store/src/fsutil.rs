//! Small filesystem helpers: advisory locks, durable renames and tree removal.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::Path;

use rustix::fs::FlockOperation;

use crate::StoreError;

/// Takes an advisory `flock` on `file`, retrying when a signal interrupts the wait.
pub(crate) fn flock(file: &File, op: FlockOperation) -> io::Result<()> {
    loop {
        match rustix::fs::flock(file, op) {
            Err(rustix::io::Errno::INTR) => {}
            other => return other.map_err(io::Error::from),
        }
    }
}

/// Tries an exclusive lock without waiting: `Ok(false)` when another process holds it.
pub(crate) fn try_lock_exclusive(file: &File) -> io::Result<bool> {
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
        Err(e) => Err(e),
    }
}

/// Syncs a directory so that a rename into it survives a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    wharf_fs::sync_dir(dir).map_err(StoreError::io("syncing directory", dir))
}

/// Replaces `dest` through `temp` (this process's name under the store's `tmp/`, cleaned by
/// the next open after a crash), synced: readers see the old or the new file, never a torn
/// one. 0600: store files may hold secrets (a container's environment); only the owner reads
/// them, as containers/storage does.
pub(crate) fn write_atomic(temp: &Path, dest: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    wharf_fs::Atomic::new(dest)
        .mode(0o600)
        .temp_at(temp)
        .write(bytes)
        .map_err(StoreError::io("writing", dest))
}

/// Creates a directory and its parents.
pub(crate) fn mkdir_p(dir: &Path) -> Result<(), StoreError> {
    fs::create_dir_all(dir).map_err(StoreError::io("creating directory", dir))
}

/// Creates the store root (and missing parents) mode 0700, as podman's storage: the store holds
/// container environments and build secrets, so no other user may read or lock anything in it.
/// An existing root that we own but others can enter is tightened to 0700; one owned by someone
/// else is left as it is (its owner chose).
pub(crate) fn mkdir_private(dir: &Path) -> Result<(), StoreError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(StoreError::io("creating directory", dir))?;
    let meta = fs::metadata(dir).map_err(StoreError::io("inspecting", dir))?;
    let mode = meta.permissions().mode() & 0o7777;
    if meta.uid() == rustix::process::geteuid().as_raw() && mode & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(StoreError::io("making private (mode 0700)", dir))?;
    }
    Ok(())
}

/// Removes a file or a whole tree. Directories without write permission (read-only layer
/// directories such as `/usr/share/doc` with mode 0555) are made writable first, so an unpacked
/// layer can always be removed by its owner. A path that is already gone is not an error.
pub(crate) fn remove_all(path: &Path) -> Result<(), StoreError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::io("inspecting", path)(e)),
    };
    if !meta.is_dir() {
        return match fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(StoreError::io("removing", path)(e))
            }
            _ => Ok(()),
        };
    }
    match fs::remove_dir_all(path) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) if e.kind() != io::ErrorKind::PermissionDenied => {
            return Err(StoreError::io("removing", path)(e));
        }
        Err(_) => {}
    }
    make_dirs_writable(path)?;
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(StoreError::io("removing", path)(e)),
        _ => Ok(()),
    }
}

fn make_dirs_writable(dir: &Path) -> Result<(), StoreError> {
    let meta = fs::symlink_metadata(dir).map_err(StoreError::io("inspecting", dir))?;
    if !meta.is_dir() {
        return Ok(());
    }
    let mode = meta.permissions().mode();
    if mode & 0o700 != 0o700 {
        fs::set_permissions(dir, fs::Permissions::from_mode(mode | 0o700))
            .map_err(StoreError::io("making writable", dir))?;
    }
    for entry in fs::read_dir(dir).map_err(StoreError::io("listing", dir))? {
        let entry = entry.map_err(StoreError::io("listing", dir))?;
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            make_dirs_writable(&entry.path())?;
        }
    }
    Ok(())
}
