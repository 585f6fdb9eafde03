//! The default mounts of a container, as podman sets them up: `/proc`, a tmpfs `/dev` with the
//! usual nodes (bind-mounted from the host when rootless, where `mknod` is not allowed),
//! `/dev/pts`, `/dev/shm`, `/dev/mqueue`, a read-only `/sys`, and the generated `/etc` files.

use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxDevice, LinuxDeviceBuilder, LinuxDeviceType, Mount, MountBuilder};

use crate::error::SandboxError;

/// The device nodes every container gets: (path, major, minor).
pub const DEFAULT_DEVICES: [(&str, i64, i64); 6] = [
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/random", 1, 8),
    ("/dev/urandom", 1, 9),
    ("/dev/tty", 5, 0),
];

pub(crate) fn mount(
    dest: &str,
    typ: &str,
    source: impl Into<PathBuf>,
    options: &[&str],
) -> Result<Mount, SandboxError> {
    MountBuilder::default()
        .destination(dest)
        .typ(typ)
        .source(source.into())
        .options(options.iter().map(|o| (*o).to_string()).collect::<Vec<_>>())
        .build()
        .map_err(|source| SandboxError::Spec {
            what: format!("mount {dest}"),
            source,
        })
}

/// Files generated for the container and bind-mounted over the image's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcFiles {
    pub hosts: PathBuf,
    pub resolv_conf: PathBuf,
    pub hostname: PathBuf,
}

/// Mount-related inputs of [`default_mounts`].
pub(crate) struct MountPlan<'a> {
    pub rootless: bool,
    /// Whether the container gets its own network namespace (else `/sys` is bound from the host:
    /// sysfs can only be mounted by the owner of the network namespace).
    pub own_netns: bool,
    /// Whether gid 5 (`tty`) exists in the container, for `/dev/pts`'s `gid=5`.
    pub tty_gid_mapped: bool,
    pub etc: Option<&'a EtcFiles>,
}

pub(crate) fn default_mounts(plan: &MountPlan<'_>) -> Result<Vec<Mount>, SandboxError> {
    let mut m = vec![
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"])?,
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        )?,
    ];
    let mut pts = vec![
        "nosuid",
        "noexec",
        "newinstance",
        "ptmxmode=0666",
        "mode=0620",
    ];
    if plan.tty_gid_mapped {
        pts.push("gid=5");
    }
    m.push(mount("/dev/pts", "devpts", "devpts", &pts)?);
    m.push(mount(
        "/dev/mqueue",
        "mqueue",
        "mqueue",
        &["nosuid", "noexec", "nodev"],
    )?);
    m.push(mount(
        "/dev/shm",
        "tmpfs",
        "shm",
        &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    )?);
    if plan.own_netns {
        m.push(mount(
            "/sys",
            "sysfs",
            "sysfs",
            &["nosuid", "noexec", "nodev", "ro"],
        )?);
    } else {
        // `ro` alone makes only the top mount read-only; `rro` and friends (runc's recursive
        // attributes, honoured by the embedded runtime too) cover the host's submounts, the
        // cgroup hierarchies under /sys/fs/cgroup among them.
        m.push(mount(
            "/sys",
            "bind",
            "/sys",
            &[
                "rbind", "nosuid", "noexec", "nodev", "ro", "rro", "rnosuid", "rnodev", "rnoexec",
            ],
        )?);
    }
    if plan.rootless {
        // /dev/tty is left to the runtime: runc creates it itself (and fails opening a bound
        // host /dev/tty when it has no controlling terminal).
        for (path, _, _) in DEFAULT_DEVICES.iter().filter(|(p, _, _)| *p != "/dev/tty") {
            m.push(mount(
                path,
                "bind",
                path,
                &["bind", "nosuid", "noexec", "rprivate"],
            )?);
        }
    }
    if let Some(etc) = plan.etc {
        for (dest, src) in [
            ("/etc/hosts", &etc.hosts),
            ("/etc/resolv.conf", &etc.resolv_conf),
            ("/etc/hostname", &etc.hostname),
        ] {
            m.push(mount(dest, "bind", src.as_path(), &["bind", "rprivate"])?);
        }
    }
    Ok(m)
}

/// `linux.devices` for a rootful container (rootless ones bind-mount the nodes instead).
pub(crate) fn default_devices() -> Result<Vec<LinuxDevice>, SandboxError> {
    DEFAULT_DEVICES
        .iter()
        .map(|(path, major, minor)| {
            LinuxDeviceBuilder::default()
                .path(Path::new(path))
                .typ(LinuxDeviceType::C)
                .major(*major)
                .minor(*minor)
                .file_mode(0o666u32)
                .uid(0u32)
                .gid(0u32)
                .build()
                .map_err(|source| SandboxError::Spec {
                    what: format!("device {path}"),
                    source,
                })
        })
        .collect()
}
