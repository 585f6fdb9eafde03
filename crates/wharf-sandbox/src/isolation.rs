//! How a build's RUN steps are isolated (`kiln build --isolation`, `KILN_ISOLATION`; buildah's
//! names), what this machine allows, and why the default cannot work where it cannot.
//!
//! - `oci`: the embedded runtime with every namespace, a fresh `/proc`, `pivot_root`.
//! - `chroot`: for unprivileged CI containers (a pod's default seccomp and capabilities,
//!   masked `/proc`): a user namespace only where one can be created, a mount namespace in
//!   which the container's own `/proc`, `/sys` and `/dev` are bound (never mounted afresh), no
//!   hostname, no network namespace (the job container's network), `chroot` in place of
//!   `pivot_root`.
//! - `rootfs`: kaniko's model for a throwaway job container running as root where no
//!   namespace at all can be created (Docker's or containerd's default seccomp profile):
//!   the command runs chrooted into the build's root filesystem with the job container's
//!   capabilities, and nothing is mounted. Only for disposable job containers: the RUN steps
//!   share the job container's kernel objects, network and process table.

use std::fmt;
use std::str::FromStr;

use oci_spec::runtime::{LinuxNamespaceBuilder, LinuxNamespaceType, Mount, Spec};

use crate::error::SandboxError;

/// The environment variable that picks the isolation when no flag does.
pub const ISOLATION_ENV: &str = "KILN_ISOLATION";

/// The annotation through which a spec asks the embedded runtime for `chroot` or `rootfs`.
pub const ISOLATION_ANNOTATION: &str = "org.wharf.isolation";

/// How RUN steps are isolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Isolation {
    #[default]
    Oci,
    Chroot,
    Rootfs,
}

impl Isolation {
    pub const NAMES: [&'static str; 3] = ["oci", "chroot", "rootfs"];

    pub fn name(self) -> &'static str {
        match self {
            Isolation::Oci => "oci",
            Isolation::Chroot => "chroot",
            Isolation::Rootfs => "rootfs",
        }
    }

    /// `KILN_ISOLATION` when set and not empty.
    pub fn from_env() -> Result<Option<Isolation>, SandboxError> {
        match std::env::var(ISOLATION_ENV) {
            Ok(v) if !v.is_empty() => v.parse().map(Some),
            _ => Ok(None),
        }
    }
}

impl fmt::Display for Isolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Isolation {
    type Err = SandboxError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "oci" => Ok(Isolation::Oci),
            "chroot" => Ok(Isolation::Chroot),
            "rootfs" => Ok(Isolation::Rootfs),
            _ => Err(SandboxError::InvalidInput {
                what: "isolation",
                value: s.to_owned(),
                reason: "expected oci, chroot or rootfs".to_owned(),
            }),
        }
    }
}

/// What this process was refused, read from the kernel's own state: the facts a diagnosis
/// rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// `unshare(CLONE_NEWUSER | CLONE_NEWNS)` in a child: `None` when it worked, else errno.
    pub userns_errno: Option<i32>,
    /// `unshare(CLONE_NEWNS)` alone (needs `CAP_SYS_ADMIN` in this user namespace).
    pub mountns_errno: Option<i32>,
    /// `Seccomp:` of `/proc/self/status`: 0 none, 1 strict, 2 filter.
    pub seccomp: u32,
    /// `/proc/sys/user/max_user_namespaces`.
    pub max_user_namespaces: Option<u64>,
    /// `/proc/sys/kernel/unprivileged_userns_clone` (Debian and Ubuntu kernels).
    pub unprivileged_userns_clone: Option<u64>,
    /// `CapEff` of `/proc/self/status`.
    pub cap_eff: u64,
    /// Whether `/proc` has paths mounted over it (a container runtime's masked paths), which
    /// makes the kernel refuse a fresh proc mount in a user namespace.
    pub proc_masked: bool,
    /// Whether `/dev/fuse` can be opened for reading and writing.
    pub fuse: bool,
    pub euid: u32,
}

const CAP_SYS_ADMIN: u64 = 1 << 21;
const CAP_SYS_CHROOT: u64 = 1 << 18;

fn status_field(status: &str, key: &str) -> Option<String> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .map(|v| v.trim().to_owned())
}

fn read_number(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Whether `/proc` has other mounts on top of paths below it, binfmt_misc aside (an empty
/// directory of procfs, which the kernel does not count as hiding anything).
fn proc_has_overmounts() -> bool {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    info.lines().any(|l| {
        let fields: Vec<&str> = l.split_whitespace().collect();
        let fstype = fields
            .iter()
            .position(|f| *f == "-")
            .and_then(|i| fields.get(i + 1));
        fields.get(4).is_some_and(|mp| mp.starts_with("/proc/"))
            && fstype.is_some_and(|t| *t != "binfmt_misc")
    })
}

impl Facts {
    /// Probes this machine: each `unshare` runs in a throwaway child.
    pub fn probe() -> Facts {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let errno = |flags| {
            crate::sys::namespace::probe_unshare(flags)
                .err()
                .map(|e| e.raw_os_error().unwrap_or(libc::EIO))
        };
        Facts {
            userns_errno: errno(libc::CLONE_NEWUSER | libc::CLONE_NEWNS),
            mountns_errno: errno(libc::CLONE_NEWNS),
            seccomp: status_field(&status, "Seccomp:")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            max_user_namespaces: read_number("/proc/sys/user/max_user_namespaces"),
            unprivileged_userns_clone: read_number("/proc/sys/kernel/unprivileged_userns_clone"),
            cap_eff: status_field(&status, "CapEff:")
                .and_then(|v| u64::from_str_radix(&v, 16).ok())
                .unwrap_or(0),
            proc_masked: proc_has_overmounts(),
            fuse: std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/fuse")
                .is_ok(),
            euid: nix::unistd::geteuid().as_raw(),
        }
    }

    /// Whether a RUN can get a mount namespace (own, or with a new user namespace).
    pub fn mount_namespace(&self) -> bool {
        self.mountns_errno.is_none() || self.userns_errno.is_none()
    }

    /// Why a user namespace cannot be created, naming the real cause: a sysctl that is 0, or
    /// else a seccomp filter (EPERM with `Seccomp: 2` and the sysctls allowing it), or a
    /// missing capability.
    pub fn userns_refusal(&self) -> Option<String> {
        let errno = self.userns_errno?;
        let err = std::io::Error::from_raw_os_error(errno);
        if self.max_user_namespaces == Some(0) {
            return Some(format!(
                "unshare(CLONE_NEWUSER) failed ({err}): user namespaces are disabled by the \
                 sysctl user.max_user_namespaces=0"
            ));
        }
        if self.unprivileged_userns_clone == Some(0) && self.euid != 0 {
            return Some(format!(
                "unshare(CLONE_NEWUSER) failed ({err}): unprivileged user namespaces are \
                 disabled by the sysctl kernel.unprivileged_userns_clone=0"
            ));
        }
        if errno == libc::EPERM && self.seccomp == 2 {
            return Some(format!(
                "unshare(CLONE_NEWUSER) failed ({err}): refused by this container's seccomp \
                 filter (Seccomp: 2 in /proc/self/status; Docker's and containerd's default \
                 profile allow it only with CAP_SYS_ADMIN); the user-namespace sysctls allow it"
            ));
        }
        if errno == libc::ENOSPC {
            return Some(format!(
                "unshare(CLONE_NEWUSER) failed ({err}): the user-namespace limit \
                 user.max_user_namespaces is reached"
            ));
        }
        Some(format!("unshare(CLONE_NEWUSER) failed: {err}"))
    }

    /// Why `oci` isolation cannot work here, or `None` when it can.
    pub fn oci_refusal(&self) -> Option<String> {
        if let Some(why) = self.userns_refusal() {
            return Some(why);
        }
        if self.proc_masked {
            return Some(
                "a fresh /proc cannot be mounted: this container's /proc has masked paths \
                 mounted over it, and the kernel refuses a new proc mount in a user namespace \
                 where it would reveal them (the container runtime's masked /proc)"
                    .to_owned(),
            );
        }
        None
    }

    /// The mode that works here, best first: `oci`, then `chroot`, then `rootfs`.
    pub fn best(&self) -> Result<Isolation, String> {
        if self.oci_refusal().is_none() {
            return Ok(Isolation::Oci);
        }
        if self.mount_namespace() {
            return Ok(Isolation::Chroot);
        }
        if self.euid == 0 && self.cap_eff & CAP_SYS_CHROOT != 0 {
            return Ok(Isolation::Rootfs);
        }
        Err(format!(
            "no isolation works here: {}; and rootfs isolation needs root with CAP_SYS_CHROOT \
             (run the job container as root, or allow user namespaces)",
            self.userns_refusal().unwrap_or_default()
        ))
    }

    /// Checks that `wanted` can work here; the error names the cause and the mode that would.
    pub fn check(&self, wanted: Isolation) -> Result<(), String> {
        let refusal = match wanted {
            Isolation::Oci => self.oci_refusal(),
            Isolation::Chroot if !self.mount_namespace() => Some(format!(
                "{}; chroot isolation needs a mount namespace{}",
                self.userns_refusal().unwrap_or_default(),
                if self.cap_eff & CAP_SYS_ADMIN == 0 {
                    " (or CAP_SYS_ADMIN)"
                } else {
                    ""
                }
            )),
            Isolation::Rootfs if self.euid != 0 || self.cap_eff & CAP_SYS_CHROOT == 0 => Some(
                "rootfs isolation needs root with CAP_SYS_CHROOT in the job container".to_owned(),
            ),
            Isolation::Chroot | Isolation::Rootfs => None,
        };
        let Some(why) = refusal else { return Ok(()) };
        match self.best() {
            Ok(mode) if mode != wanted => Err(format!(
                "{wanted} isolation cannot work here: {why}; hint: --isolation {mode} (or \
                 {ISOLATION_ENV}={mode}) works in this container"
            )),
            Ok(_) => Err(format!("{wanted} isolation cannot work here: {why}")),
            Err(none) => Err(format!("{wanted} isolation cannot work here: {none}")),
        }
    }
}

/// A mount of the caller's own `path` over the same path in the root filesystem.
fn rbind(path: &str) -> Result<Mount, SandboxError> {
    crate::spec::mounts::mount(path, "bind", path, &["rbind"])
}

/// Rewrites an `oci` spec for `chroot` (`mount_ns`: a mount namespace, with a user namespace
/// when `new_userns`) or `rootfs` (neither): no namespace but those, `/proc`, `/sys` and `/dev`
/// bound from the caller, no masked paths (the bound `/proc` keeps the caller's), no hostname.
pub fn apply(spec: &mut Spec, isolation: Isolation, new_userns: bool) -> Result<(), SandboxError> {
    if isolation == Isolation::Oci {
        return Ok(());
    }
    let mount_ns = isolation == Isolation::Chroot;
    let spec_err = |what: &str| {
        let what = what.to_owned();
        move |source| SandboxError::Spec { what, source }
    };
    let mut types = Vec::new();
    if mount_ns {
        if new_userns {
            types.push(LinuxNamespaceType::User);
        }
        types.push(LinuxNamespaceType::Mount);
    }
    let namespaces = types
        .into_iter()
        .map(|t| LinuxNamespaceBuilder::default().typ(t).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(spec_err("namespace"))?;
    let mut mounts = Vec::new();
    for m in spec.mounts().clone().unwrap_or_default() {
        let dest = m.destination().to_string_lossy().into_owned();
        match dest.as_str() {
            "/proc" | "/sys" | "/dev" => mounts.push(rbind(&dest)?),
            // Under the bound /dev and /sys: the caller's own.
            d if d.starts_with("/dev/") || d.starts_with("/sys/") => {}
            _ => mounts.push(m),
        }
    }
    spec.set_mounts(Some(mounts));
    spec.set_hostname(None);
    if let Some(linux) = spec.linux_mut() {
        linux.set_namespaces(Some(namespaces));
        linux.set_masked_paths(None);
        linux.set_readonly_paths(None);
        linux.set_devices(None);
        if !new_userns {
            linux.set_uid_mappings(None);
            linux.set_gid_mappings(None);
        }
    }
    let mut annotations = spec.annotations().clone().unwrap_or_default();
    annotations.insert(ISOLATION_ANNOTATION.to_owned(), isolation.name().to_owned());
    spec.set_annotations(Some(annotations));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            userns_errno: None,
            mountns_errno: Some(libc::EPERM),
            seccomp: 2,
            max_user_namespaces: Some(63_000),
            unprivileged_userns_clone: Some(1),
            cap_eff: CAP_SYS_CHROOT,
            proc_masked: false,
            fuse: false,
            euid: 0,
        }
    }

    #[test]
    fn names_round_trip() {
        for n in Isolation::NAMES {
            assert_eq!(n.parse::<Isolation>().unwrap().name(), n);
        }
        assert!("vm".parse::<Isolation>().is_err());
    }

    #[test]
    fn seccomp_is_blamed_not_the_sysctl_and_rootfs_is_named() {
        let f = Facts {
            userns_errno: Some(libc::EPERM),
            ..facts()
        };
        let e = f.check(Isolation::Oci).unwrap_err();
        assert!(e.contains("seccomp filter"), "{e}");
        assert!(!e.contains("disabled by the sysctl"), "{e}");
        assert!(e.contains("--isolation rootfs"), "{e}");
        assert_eq!(f.best(), Ok(Isolation::Rootfs));
    }

    #[test]
    fn a_zero_sysctl_is_blamed_when_it_is_zero() {
        let f = Facts {
            userns_errno: Some(libc::ENOSPC),
            max_user_namespaces: Some(0),
            seccomp: 0,
            ..facts()
        };
        assert!(
            f.userns_refusal()
                .unwrap()
                .contains("user.max_user_namespaces=0")
        );
    }

    #[test]
    fn masked_proc_points_to_chroot() {
        let f = Facts {
            proc_masked: true,
            ..facts()
        };
        let e = f.check(Isolation::Oci).unwrap_err();
        assert!(e.contains("masked"), "{e}");
        assert!(e.contains("--isolation chroot"), "{e}");
        assert!(f.check(Isolation::Chroot).is_ok());
    }

    #[test]
    fn chroot_spec_binds_the_callers_proc_and_keeps_only_user_and_mount() {
        let root = tempfile::tempdir().unwrap();
        let mut opts = crate::spec::SpecOptions::new(root.path(), "h");
        opts.command = Some(vec!["/bin/true".into()]);
        let mut spec = crate::spec::generate(None, &opts).unwrap();
        apply(&mut spec, Isolation::Chroot, true).unwrap();
        let mounts = spec.mounts().clone().unwrap();
        let proc = mounts
            .iter()
            .find(|m| m.destination().to_str() == Some("/proc"))
            .unwrap();
        assert_eq!(proc.typ().as_deref(), Some("bind"));
        assert!(
            !mounts
                .iter()
                .any(|m| m.destination().to_string_lossy().starts_with("/dev/"))
        );
        let linux = spec.linux().as_ref().unwrap();
        let ns: Vec<_> = linux
            .namespaces()
            .as_ref()
            .unwrap()
            .iter()
            .map(oci_spec::runtime::LinuxNamespace::typ)
            .collect();
        assert_eq!(ns, [LinuxNamespaceType::User, LinuxNamespaceType::Mount]);
        assert!(spec.hostname().is_none());
    }
}
