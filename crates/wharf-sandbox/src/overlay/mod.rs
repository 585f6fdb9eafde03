//! Storage drivers that assemble a container's root filesystem from unpacked layers: kernel
//! overlayfs (with `userxattr` inside a user namespace), `fuse-overlayfs`, and a plain copy as
//! the last resort. [`Driver::detect`] picks the first that works here; [`Driver::by_name`]
//! honours `--storage-driver`.
//!
//! Layers are given base first (manifest order); unpacked layers use overlayfs's on-disk format
//! for deletions (a 0/0 character device is a whiteout, an `overlay.opaque` xattr marks an
//! opaque directory).

mod copy;
mod fuse;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::SandboxError;
use crate::syscall::{LinuxSyscall, OverlayMount, Syscall};

/// The storage drivers, in the order [`Driver::detect`] tries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverKind {
    Overlay,
    FuseOverlayfs,
    Copy,
}

impl DriverKind {
    pub fn name(self) -> &'static str {
        match self {
            DriverKind::Overlay => "overlay",
            DriverKind::FuseOverlayfs => "fuse-overlayfs",
            DriverKind::Copy => "copy",
        }
    }
}

impl fmt::Display for DriverKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DriverKind {
    type Err = SandboxError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "overlay" | "overlayfs" => Ok(DriverKind::Overlay),
            "fuse-overlayfs" => Ok(DriverKind::FuseOverlayfs),
            "copy" | "vfs" => Ok(DriverKind::Copy),
            _ => Err(SandboxError::UnknownDriver {
                name: s.to_string(),
            }),
        }
    }
}

/// One root filesystem to assemble.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountRequest {
    /// Unpacked layer directories, base first.
    pub layers: Vec<PathBuf>,
    /// Where the container's changes go (overlay drivers).
    pub upper: PathBuf,
    /// Overlay's scratch directory, on the same filesystem as `upper`.
    pub work: PathBuf,
    /// The merged view (or, for the copy driver, the copied tree).
    pub target: PathBuf,
    /// The upper directory is thrown away after use (a build step, `run --rm`), so overlay
    /// may skip every sync of it (`volatile`, as podman mounts `--rm` containers). Without it
    /// the unmount syncs the whole filesystem under `upper`: right after a pull that is every
    /// byte the pull wrote, about a second for a 760 MB image here. Kernels without
    /// `volatile` (before 5.10) get the mount without it.
    pub volatile: bool,
}

/// What `berth info` shows about the storage driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverInfo {
    pub name: &'static str,
    /// Whether overlay metadata lives in `user.*` xattrs (rootless) rather than `trusted.*`.
    pub userxattr: bool,
    /// Why the drivers before this one were not chosen (empty when chosen by name or first).
    pub rejected: Vec<(&'static str, String)>,
}

/// A chosen storage driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Driver {
    kind: DriverKind,
    userxattr: bool,
    rejected: Vec<(&'static str, String)>,
}

/// Whether this process is in a user namespace other than the initial one, where overlayfs
/// needs `userxattr`.
pub fn in_child_userns() -> bool {
    std::fs::read_to_string("/proc/self/uid_map")
        .is_ok_and(|m| m.split_whitespace().collect::<Vec<_>>() != ["0", "0", "4294967295"])
}

impl Driver {
    /// Picks the first driver that works here, probing kernel overlay with a real mount in
    /// `scratch` (a directory on the store's filesystem, where layers will live).
    pub fn detect(scratch: &Path) -> Driver {
        Self::detect_with(&LinuxSyscall, scratch, in_child_userns(), fuse::available())
    }

    /// [`Driver::detect`] with its inputs explicit, for tests.
    pub fn detect_with(
        sys: &dyn Syscall,
        scratch: &Path,
        userxattr: bool,
        fuse: Result<(), String>,
    ) -> Driver {
        let mut rejected = Vec::new();
        match probe_kernel_overlay(sys, scratch, userxattr) {
            Ok(()) => {
                return Driver {
                    kind: DriverKind::Overlay,
                    userxattr,
                    rejected,
                };
            }
            Err(reason) => rejected.push((DriverKind::Overlay.name(), reason)),
        }
        let kind = match fuse {
            Ok(()) => DriverKind::FuseOverlayfs,
            Err(reason) => {
                rejected.push((DriverKind::FuseOverlayfs.name(), reason));
                DriverKind::Copy
            }
        };
        Driver {
            kind,
            userxattr,
            rejected,
        }
    }

    /// The driver named by the user (`overlay`, `fuse-overlayfs`, `copy`).
    pub fn by_name(name: &str) -> Result<Driver, SandboxError> {
        let kind: DriverKind = name.parse()?;
        if kind == DriverKind::FuseOverlayfs {
            fuse::available().map_err(|reason| SandboxError::DriverUnavailable {
                driver: kind.name(),
                reason,
            })?;
        }
        Ok(Driver {
            kind,
            userxattr: in_child_userns(),
            rejected: Vec::new(),
        })
    }

    pub fn kind(&self) -> DriverKind {
        self.kind
    }

    pub fn info(&self) -> DriverInfo {
        DriverInfo {
            name: self.kind.name(),
            userxattr: self.userxattr,
            rejected: self.rejected.clone(),
        }
    }

    /// Assembles the root filesystem at `req.target`.
    pub fn mount(&self, req: &MountRequest) -> Result<(), SandboxError> {
        self.mount_with(&LinuxSyscall, req)
    }

    /// [`Driver::mount`] through a given [`Syscall`].
    pub fn mount_with(&self, sys: &dyn Syscall, req: &MountRequest) -> Result<(), SandboxError> {
        if req.layers.is_empty() {
            return Err(SandboxError::NoLayers {
                target: req.target.clone(),
            });
        }
        match self.kind {
            DriverKind::Overlay => {
                let mut overlay = OverlayMount {
                    lowers: req.layers.iter().rev().cloned().collect(),
                    upper: Some(req.upper.clone()),
                    work: Some(req.work.clone()),
                    userxattr: self.userxattr,
                    volatile: req.volatile,
                };
                if req.volatile {
                    // A volatile mount leaves this marker behind, and overlay refuses to mount
                    // the same work directory again while it exists (the sign of a crash
                    // during a volatile mount). The upper directory is disposable, so a second
                    // mount of it (the next build step) clears it.
                    let _ = std::fs::remove_dir_all(req.work.join("work/incompat/volatile"));
                }
                let mut result = sys.mount_overlay(&req.target, &overlay);
                if result.is_err() && overlay.volatile {
                    overlay.volatile = false;
                    result = sys.mount_overlay(&req.target, &overlay);
                }
                result.map_err(|source| SandboxError::Mount {
                    operation: "mounting overlay",
                    target: req.target.clone(),
                    source,
                })
            }
            DriverKind::FuseOverlayfs => fuse::mount(req),
            DriverKind::Copy => copy::assemble(&req.layers, &req.target),
        }
    }

    /// Undoes [`Driver::mount`] (the copy driver leaves its tree for the caller to delete).
    pub fn unmount(&self, target: &Path) -> Result<(), SandboxError> {
        self.unmount_with(&LinuxSyscall, target)
    }

    pub fn unmount_with(&self, sys: &dyn Syscall, target: &Path) -> Result<(), SandboxError> {
        match self.kind {
            DriverKind::Overlay | DriverKind::FuseOverlayfs => {
                sys.umount(target, false)
                    .map_err(|source| SandboxError::Mount {
                        operation: "unmounting",
                        target: target.to_path_buf(),
                        source,
                    })
            }
            DriverKind::Copy => Ok(()),
        }
    }
}

/// Mounts a two-layer overlay in a fresh directory under `scratch`, then removes it.
fn probe_kernel_overlay(sys: &dyn Syscall, scratch: &Path, userxattr: bool) -> Result<(), String> {
    let base = scratch.join(format!(".overlay-probe-{}", std::process::id()));
    let dirs = ["l1", "l2", "upper", "work", "merged"].map(|d| base.join(d));
    let result = (|| {
        for d in &dirs {
            std::fs::create_dir_all(d).map_err(|e| format!("creating {}: {e}", d.display()))?;
        }
        let [l1, l2, upper, work, merged] = dirs.clone();
        // Volatile, or unmounting the probe would sync the whole filesystem the store is on
        // (a second after a large pull); retried without it for kernels before 5.10.
        let mut overlay = OverlayMount {
            lowers: vec![l2, l1],
            upper: Some(upper),
            work: Some(work),
            userxattr,
            volatile: true,
        };
        let mut mounted = sys.mount_overlay(&merged, &overlay);
        if mounted.is_err() {
            overlay.volatile = false;
            mounted = sys.mount_overlay(&merged, &overlay);
        }
        mounted.map_err(|e| format!("kernel refused the overlay mount: {e}"))?;
        let _ = sys.umount(&merged, true);
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&base);
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscall::fake::{Call, Recording};

    #[test]
    fn names_round_trip_and_unknown_is_an_error() {
        for k in [
            DriverKind::Overlay,
            DriverKind::FuseOverlayfs,
            DriverKind::Copy,
        ] {
            assert_eq!(k.name().parse::<DriverKind>().unwrap(), k);
        }
        let err = "zfs".parse::<DriverKind>().unwrap_err();
        assert!(err.to_string().contains("unknown storage driver \"zfs\""));
    }

    #[test]
    fn detect_prefers_kernel_overlay_and_probes_with_userxattr() {
        let dir = tempfile::tempdir().unwrap();
        let fake = Recording::default();
        let d = Driver::detect_with(&fake, dir.path(), true, Err("no".into()));
        assert_eq!(d.kind(), DriverKind::Overlay);
        let calls = fake.calls.borrow();
        let Call::Overlay(_, o) = &calls[0] else {
            panic!("{calls:?}")
        };
        assert!(o.userxattr);
        assert!(matches!(calls[1], Call::Umount(_)));
        // The probe cleans up after itself.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn detect_falls_back_to_fuse_then_copy_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let fake = Recording {
            overlay_errno: Some(libc::EPERM),
            ..Recording::default()
        };
        let d = Driver::detect_with(&fake, dir.path(), true, Ok(()));
        assert_eq!(d.kind(), DriverKind::FuseOverlayfs);
        let d = Driver::detect_with(
            &fake,
            dir.path(),
            true,
            Err("/dev/fuse: permission denied".into()),
        );
        assert_eq!(d.kind(), DriverKind::Copy);
        let info = d.info();
        assert_eq!(info.name, "copy");
        assert_eq!(info.rejected.len(), 2);
        assert!(
            info.rejected[0].1.contains("Operation not permitted"),
            "{:?}",
            info.rejected
        );
        assert!(info.rejected[1].1.contains("/dev/fuse"));
    }

    /// A disposable root asks for `volatile`, and a kernel that refuses the mount with it gets
    /// the same mount without it; a root that is kept never asks.
    #[test]
    fn volatile_is_asked_for_disposable_roots_and_dropped_when_refused() {
        let d = Driver {
            kind: DriverKind::Overlay,
            userxattr: true,
            rejected: Vec::new(),
        };
        let req = MountRequest {
            layers: vec!["/l/base".into()],
            upper: "/c/upper".into(),
            work: "/c/work".into(),
            target: "/c/merged".into(),
            volatile: true,
        };
        let volatile_flags = |fake: &Recording| -> Vec<bool> {
            fake.calls
                .borrow()
                .iter()
                .filter_map(|c| match c {
                    Call::Overlay(_, o) => Some(o.volatile),
                    _ => None,
                })
                .collect()
        };
        let fake = Recording::default();
        d.mount_with(&fake, &req).unwrap();
        assert_eq!(volatile_flags(&fake), [true]);

        let refusing = Recording {
            overlay_errno: Some(libc::EINVAL),
            ..Recording::default()
        };
        assert!(d.mount_with(&refusing, &req).is_err());
        assert_eq!(volatile_flags(&refusing), [true, false]);

        let kept = Recording::default();
        let req = MountRequest {
            volatile: false,
            ..req
        };
        d.mount_with(&kept, &req).unwrap();
        assert_eq!(volatile_flags(&kept), [false]);
    }

    #[test]
    fn overlay_mount_lists_lowers_top_most_first() {
        let fake = Recording::default();
        let d = Driver {
            kind: DriverKind::Overlay,
            userxattr: false,
            rejected: Vec::new(),
        };
        let req = MountRequest {
            layers: vec!["/l/base".into(), "/l/mid".into(), "/l/top".into()],
            upper: "/c/upper".into(),
            work: "/c/work".into(),
            target: "/c/merged".into(),
            volatile: false,
        };
        d.mount_with(&fake, &req).unwrap();
        let calls = fake.calls.borrow();
        let Call::Overlay(target, o) = &calls[0] else {
            panic!()
        };
        assert_eq!(target, "/c/merged");
        assert_eq!(
            o.lowers,
            [PathBuf::from("/l/top"), "/l/mid".into(), "/l/base".into()]
        );
        let empty = MountRequest {
            layers: vec![],
            ..req
        };
        assert!(matches!(
            d.mount_with(&fake, &empty),
            Err(SandboxError::NoLayers { .. })
        ));
    }
}
