//! Mounting a working container's overlay. A command mounts it for its own work and unmounts it
//! afterwards ([`Mounted`]); `kiln mount` leaves it mounted in the current mount namespace,
//! which for a rootless user only lives as long as a `kiln unshare` session, so outside one it
//! refuses as buildah does. The copy driver's root is a plain directory that is never
//! mounted: `kiln mount` prints it (root or rootless, as buildah's vfs) and `kiln umount` has
//! nothing to undo.

use std::path::{Path, PathBuf};

use wharf_sandbox::overlay::{Driver, MountRequest};
use wharf_store::Store;

use super::{Container, ContainerError};

/// Unescapes a mountinfo field (`\040` for a space, and so on).
fn unescape(field: &str) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `path` is a mount point in this process's mount namespace.
pub fn is_mounted(path: &Path) -> bool {
    let Ok(path) = std::fs::canonicalize(path) else {
        return false;
    };
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    info.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .any(|m| Path::new(&unescape(m)) == path)
}

fn do_mount(store: &Store, ctr: &Container) -> Result<(), ContainerError> {
    let req = MountRequest {
        layers: ctr.lowers(store)?,
        upper: ctr.upper(),
        work: ctr.work(),
        target: ctr.merged(),
        // A working container lives on across commands: its upper directory must survive.
        volatile: false,
    };
    ctr.driver()?.mount(&req)?;
    Ok(())
}

/// `kiln mount`: mounts the container (if it is not mounted here yet) and returns the merged
/// directory.
pub fn mount(store: &Store, ctr: &Container) -> Result<PathBuf, ContainerError> {
    if ctr.is_plain() {
        return Ok(ctr.merged());
    }
    if wharf_sandbox::userns::needs_userns() {
        return Err(ContainerError::RootlessMount {
            driver: ctr.record.driver.clone(),
        });
    }
    if !is_mounted(&ctr.merged()) {
        do_mount(store, ctr)?;
    }
    Ok(ctr.merged())
}

/// `kiln umount`: unmounts the container if it is mounted here; returns whether it was.
pub fn umount(ctr: &Container) -> Result<bool, ContainerError> {
    if !is_mounted(&ctr.merged()) {
        return Ok(false);
    }
    ctr.driver()?.unmount(&ctr.merged())?;
    Ok(true)
}

/// The overlay mounted for the length of one operation; unmounted on drop unless it was
/// mounted before (by `kiln mount` in this namespace).
#[derive(Debug)]
pub(crate) struct Mounted {
    merged: PathBuf,
    /// The driver that mounted it; `None` when it was mounted before.
    ours: Option<Driver>,
}

impl Mounted {
    pub(crate) fn new(store: &Store, ctr: &Container) -> Result<Self, ContainerError> {
        let merged = ctr.merged();
        // The copy driver's root is already there, and stays.
        let ours = if ctr.is_plain() || is_mounted(&merged) {
            None
        } else {
            do_mount(store, ctr)?;
            Some(ctr.driver()?)
        };
        Ok(Self { merged, ours })
    }

    pub(crate) fn rootfs(&self) -> PathBuf {
        self.merged.clone()
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Some(driver) = &self.ours
            && let Err(e) = driver.unmount(&self.merged)
        {
            tracing::warn!("unmounting {}: {e}", self.merged.display());
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn mountinfo_escapes() {
        assert_eq!(super::unescape("/a\\040b"), "/a b");
        assert_eq!(super::unescape("/plain"), "/plain");
    }
}
