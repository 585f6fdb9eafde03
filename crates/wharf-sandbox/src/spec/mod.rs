//! OCI runtime specs (`config.json`) generated from an image's config plus run options, with
//! podman's defaults: user, mount, pid, ipc, uts, network and cgroup namespaces; `/proc`, a
//! tmpfs `/dev`, `/dev/pts`, `/dev/shm`, `/dev/mqueue`, read-only `/sys`; masked and read-only
//! paths; podman's 11 default capabilities; `no_new_privs`; the default seccomp profile;
//! rlimits; hostname and the generated `/etc/hosts`, `/etc/resolv.conf`, `/etc/hostname`; the
//! user and groups resolved from the image's own `/etc/passwd` and `/etc/group`.

pub mod init;
pub mod keep_id;
pub(crate) mod mounts;
pub mod seccomp;
pub mod user;

use std::collections::HashSet;
use std::path::PathBuf;
use std::str::FromStr;

use oci_spec::runtime::{
    Capability, LinuxBuilder, LinuxCapabilitiesBuilder, LinuxIdMapping, LinuxIdMappingBuilder,
    LinuxNamespaceBuilder, LinuxNamespaceType, LinuxSeccomp, Mount, PosixRlimit,
    PosixRlimitBuilder, ProcessBuilder, RootBuilder, Spec, SpecBuilder, UserBuilder,
};
use wharf_oci::config::ContainerConfig;

pub use mounts::{DEFAULT_DEVICES, EtcFiles};
/// The rlimit kinds of [`SpecOptions::rlimits`].
pub use oci_spec::runtime::PosixRlimitType;
pub use user::{ResolvedUser, resolve_user};

use crate::error::SandboxError;
use crate::idmap::IdMapEntry;

/// podman's default capability set (containers.conf `default_capabilities`).
pub const DEFAULT_CAPABILITIES: [&str; 11] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_NET_BIND_SERVICE",
    "CAP_SETFCAP",
    "CAP_SETGID",
    "CAP_SETPCAP",
    "CAP_SETUID",
    "CAP_SYS_CHROOT",
];

/// Paths hidden from the container (podman's list).
pub const MASKED_PATHS: [&str; 11] = [
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/fs/selinux",
    "/sys/dev/block",
];

/// Paths made read-only in the container (podman's list).
pub const READONLY_PATHS: [&str; 6] = [
    "/proc/asound",
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// `PATH` when the image sets none (Docker's default).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// `--network`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkMode {
    /// A network namespace with only loopback.
    None,
    /// The host's (or the rootless namespace's) network.
    Host,
    /// A network namespace that a user-mode network tool will connect.
    Private,
}

/// `--security-opt seccomp=...`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SeccompMode {
    #[default]
    Default,
    Unconfined,
    /// A profile in the containers/Docker JSON format, with its origin for messages.
    Profile {
        text: String,
        origin: String,
    },
}

/// Everything besides the image config that shapes the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecOptions {
    /// The root filesystem (absolute, or relative to the bundle).
    pub rootfs: PathBuf,
    pub readonly_rootfs: bool,
    /// Replaces the image's `Cmd`.
    pub command: Option<Vec<String>>,
    /// Replaces the image's `Entrypoint` (and drops its `Cmd`, as Docker).
    pub entrypoint: Option<Vec<String>>,
    /// `KEY=VALUE` entries that override the image's.
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub hostname: String,
    pub terminal: bool,
    /// Rootless: device nodes are bind-mounted, not created.
    pub rootless: bool,
    pub network: NetworkMode,
    /// An existing network namespace to join (a bound file, see [`crate::network`]) instead
    /// of a new one, for [`NetworkMode::Private`].
    pub network_namespace: Option<PathBuf>,
    /// Name servers written first into the container's `resolv.conf`: the DNS forwarder of a
    /// private network ([`crate::network::Tool::dns_forwarder`]).
    pub dns_servers: Vec<std::net::IpAddr>,
    /// `--dns*` flags: applied over the generated `resolv.conf` by
    /// [`crate::bundle::write_bundle`].
    pub dns: crate::bundle::Dns,
    /// `linux.cgroupsPath` and the limits written there (see [`crate::cgroup`]).
    pub cgroup: Option<(String, crate::cgroup::Limits)>,
    /// The container's user-namespace maps (container -> host, as seen by the runtime).
    pub uid_map: Vec<IdMapEntry>,
    pub gid_map: Vec<IdMapEntry>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub seccomp: SeccompMode,
    pub no_new_privileges: bool,
    pub etc_files: Option<EtcFiles>,
    /// `None`: podman's defaults (`nofile` and `nproc` at the current hard limits).
    pub rlimits: Option<Vec<(PosixRlimitType, u64, u64)>>,
    /// Volumes and other mounts, after the defaults.
    pub extra_mounts: Vec<Mount>,
    /// `--init`: who runs as PID 1 in front of the command.
    pub init: Option<init::InitMode>,
}

impl SpecOptions {
    /// Defaults for a container rooted at `rootfs` inside the calling process's user namespace:
    /// container IDs map one to one onto the IDs this process sees.
    pub fn new(rootfs: impl Into<PathBuf>, hostname: impl Into<String>) -> Self {
        let (uid_map, gid_map) = identity_maps();
        Self {
            rootfs: rootfs.into(),
            readonly_rootfs: false,
            command: None,
            entrypoint: None,
            env: Vec::new(),
            workdir: None,
            user: None,
            hostname: hostname.into(),
            terminal: false,
            // The spec always asks for a user namespace, and the kernel refuses mknod of devices
            // in any user namespace but the initial one, even to real root: bind-mount them.
            rootless: true,
            network: NetworkMode::None,
            network_namespace: None,
            dns_servers: Vec::new(),
            dns: crate::bundle::Dns::default(),
            cgroup: None,
            uid_map,
            gid_map,
            cap_add: Vec::new(),
            cap_drop: Vec::new(),
            seccomp: SeccompMode::Default,
            no_new_privileges: true,
            etc_files: None,
            rlimits: None,
            extra_mounts: Vec::new(),
            init: None,
        }
    }
}

/// Maps container IDs one to one onto the IDs the calling process's user namespace has, one
/// entry per extent of its own map (the kernel wants each child extent inside a single parent
/// extent), up to [`crate::idmap::FULL_MAP_SIZE`] IDs: `0 0 1` + `1 1 65536` in a rootless
/// namespace, `0 0 65537` as real root.
pub fn identity_maps() -> (Vec<IdMapEntry>, Vec<IdMapEntry>) {
    let read = |file: &str| -> Vec<IdMapEntry> {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let mut extents: Vec<(u32, u32)> = text
            .lines()
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                let start = f.next()?.parse().ok()?;
                let _host = f.next()?;
                Some((start, f.next()?.parse().ok()?))
            })
            .collect();
        extents.sort_unstable();
        let mut out = Vec::new();
        let mut left = crate::idmap::FULL_MAP_SIZE;
        for (start, size) in extents {
            if left == 0 {
                break;
            }
            let size = size.min(left);
            out.push(IdMapEntry {
                container: start,
                host: start,
                size,
            });
            left -= size;
        }
        if out.is_empty() {
            out.push(IdMapEntry {
                container: 0,
                host: 0,
                size: 1,
            });
        }
        out
    };
    (read("/proc/self/uid_map"), read("/proc/self/gid_map"))
}

/// Normalises `chown`, `cap_chown`, `CAP_CHOWN` to `CAP_CHOWN`, rejecting unknown names.
pub fn normalize_capability(name: &str) -> Result<String, SandboxError> {
    let upper = name.trim().to_ascii_uppercase();
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    Capability::from_str(bare).map_err(|_| SandboxError::UnknownCapability {
        name: name.to_string(),
    })?;
    Ok(format!("CAP_{bare}"))
}

/// Every capability Linux knows, in number order (0..=40, `CAP_CHECKPOINT_RESTORE` last).
pub const ALL_CAPABILITIES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The capability set after `--cap-add` / `--cap-drop` (`ALL` allowed in both).
pub fn capability_set(add: &[String], drop: &[String]) -> Result<Vec<String>, SandboxError> {
    let mut set: Vec<String> = DEFAULT_CAPABILITIES
        .iter()
        .map(|c| (*c).to_string())
        .collect();
    if drop.iter().any(|d| d.eq_ignore_ascii_case("all")) {
        set.clear();
    }
    for d in drop.iter().filter(|d| !d.eq_ignore_ascii_case("all")) {
        let d = normalize_capability(d)?;
        set.retain(|c| *c != d);
    }
    for a in add {
        if a.eq_ignore_ascii_case("all") {
            for c in ALL_CAPABILITIES {
                if !set.iter().any(|s| s == c) {
                    set.push(c.to_string());
                }
            }
            continue;
        }
        let a = normalize_capability(a)?;
        if !set.contains(&a) {
            set.push(a);
        }
    }
    set.sort();
    Ok(set)
}

fn spec_err(what: &str) -> impl FnOnce(oci_spec::OciSpecError) -> SandboxError + '_ {
    move |source| SandboxError::Spec {
        what: what.to_string(),
        source,
    }
}

fn id_mappings(map: &[IdMapEntry]) -> Result<Vec<LinuxIdMapping>, SandboxError> {
    map.iter()
        .map(|e| {
            LinuxIdMappingBuilder::default()
                .container_id(e.container)
                .host_id(e.host)
                .size(e.size)
                .build()
                .map_err(spec_err("id mapping"))
        })
        .collect()
}

/// This process's own hard limit of `typ` (`u64::MAX`: unlimited): the most a container it
/// starts can get without `CAP_SYS_RESOURCE`.
pub fn own_hard_rlimit(typ: PosixRlimitType) -> u64 {
    use rustix::process::Resource as R;
    let r = match typ {
        PosixRlimitType::RlimitCpu => R::Cpu,
        PosixRlimitType::RlimitFsize => R::Fsize,
        PosixRlimitType::RlimitData => R::Data,
        PosixRlimitType::RlimitStack => R::Stack,
        PosixRlimitType::RlimitCore => R::Core,
        PosixRlimitType::RlimitRss => R::Rss,
        PosixRlimitType::RlimitNproc => R::Nproc,
        PosixRlimitType::RlimitNofile => R::Nofile,
        PosixRlimitType::RlimitMemlock => R::Memlock,
        PosixRlimitType::RlimitAs => R::As,
        PosixRlimitType::RlimitLocks => R::Locks,
        PosixRlimitType::RlimitSigpending => R::Sigpending,
        PosixRlimitType::RlimitMsgqueue => R::Msgqueue,
        PosixRlimitType::RlimitNice => R::Nice,
        PosixRlimitType::RlimitRtprio => R::Rtprio,
        PosixRlimitType::RlimitRttime => R::Rttime,
    };
    rustix::process::getrlimit(r).maximum.unwrap_or(u64::MAX)
}

/// The rlimits a container gets when [`SpecOptions::rlimits`] is `None`.
pub fn default_rlimits() -> Vec<(PosixRlimitType, u64, u64)> {
    // Never ask for more than this process has: without CAP_SYS_RESOURCE the runtime could not
    // raise them (the lab's root lacks it), and podman's 1048576 would fail.
    let hard = |r| rustix::process::getrlimit(r).maximum.unwrap_or(1_048_576);
    let nofile = hard(rustix::process::Resource::Nofile);
    let nproc = hard(rustix::process::Resource::Nproc);
    vec![
        (PosixRlimitType::RlimitNofile, nofile, nofile),
        (PosixRlimitType::RlimitNproc, nproc, nproc),
    ]
}

/// Merges `KEY=VALUE` lists; later keys win, order of first appearance kept.
fn merge_env(layers: &[&[String]]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for list in layers {
        for kv in *list {
            let key = kv.split_once('=').map_or(kv.as_str(), |(k, _)| k);
            if let Some(slot) = out
                .iter_mut()
                .find(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) == key)
            {
                slot.clone_from(kv);
            } else {
                out.push(kv.clone());
            }
        }
    }
    out
}

/// `base` with the `KEY=VALUE` entries of `over` replacing or added to it (`exec -e`).
pub fn merge_env_lists(base: &[String], over: &[String]) -> Vec<String> {
    merge_env(&[base, over])
}

/// The process arguments: Docker's rules for `Entrypoint` and `Cmd` and their overrides.
pub fn process_args(
    image: Option<&ContainerConfig>,
    opts: &SpecOptions,
) -> Result<Vec<String>, SandboxError> {
    let (entrypoint, cmd) = match &opts.entrypoint {
        Some(ep) => (ep.clone(), opts.command.clone().unwrap_or_default()),
        None => (
            image.and_then(|c| c.entrypoint.clone()).unwrap_or_default(),
            opts.command
                .clone()
                .or_else(|| image.and_then(|c| c.cmd.clone()))
                .unwrap_or_default(),
        ),
    };
    let args: Vec<String> = entrypoint.into_iter().chain(cmd).collect();
    if args.is_empty() {
        return Err(SandboxError::InvalidInput {
            what: "command",
            value: String::new(),
            reason: "no command or entrypoint given and the image has none".into(),
        });
    }
    Ok(args)
}

/// Builds the spec. `image` is the image config's runtime part (`config` in the JSON); the
/// user is resolved against the files under `opts.rootfs`.
pub fn generate(image: Option<&ContainerConfig>, opts: &SpecOptions) -> Result<Spec, SandboxError> {
    let args = process_args(image, opts)?;
    let user_spec = opts
        .user
        .clone()
        .or_else(|| image.and_then(|c| c.user.clone()))
        .unwrap_or_default();
    let user = resolve_user(&opts.rootfs, &user_spec)?;
    let workdir = opts
        .workdir
        .clone()
        .or_else(|| {
            image
                .and_then(|c| c.working_dir.clone())
                .filter(|w| !w.is_empty())
        })
        .unwrap_or_else(|| "/".into());
    if !workdir.starts_with('/') {
        return Err(SandboxError::InvalidInput {
            what: "working directory",
            value: workdir,
            reason: "must be an absolute path".into(),
        });
    }

    let mut base_env = vec![
        format!("PATH={DEFAULT_PATH}"),
        "container=wharf".to_string(),
        format!("HOSTNAME={}", opts.hostname),
        format!("HOME={}", user.home),
    ];
    if opts.terminal {
        base_env.push("TERM=xterm".into());
    }
    let image_env = image.and_then(|c| c.env.clone()).unwrap_or_default();
    let env = merge_env(&[&base_env, &image_env, &opts.env]);

    let caps = capability_set(&opts.cap_add, &opts.cap_drop)?;
    let cap_values: HashSet<Capability> = caps
        .iter()
        .filter_map(|c| Capability::from_str(c.trim_start_matches("CAP_")).ok())
        .collect();
    // A non-root process starts with empty effective/permitted sets, as in podman.
    let running_caps = if user.uid == 0 {
        cap_values.clone()
    } else {
        HashSet::new()
    };
    let capabilities = LinuxCapabilitiesBuilder::default()
        .bounding(cap_values)
        .effective(running_caps.clone())
        .permitted(running_caps)
        .inheritable(HashSet::new())
        .ambient(HashSet::new())
        .build()
        .map_err(spec_err("capabilities"))?;

    let rlimits = opts
        .rlimits
        .clone()
        .unwrap_or_else(default_rlimits)
        .into_iter()
        .map(|(typ, soft, hard)| {
            PosixRlimitBuilder::default()
                .typ(typ)
                .soft(soft)
                .hard(hard)
                .build()
                .map_err(spec_err("rlimit"))
        })
        .collect::<Result<Vec<PosixRlimit>, _>>()?;

    let process = ProcessBuilder::default()
        .terminal(opts.terminal)
        .user(
            UserBuilder::default()
                .uid(user.uid)
                .gid(user.gid)
                .additional_gids(user.additional_gids.clone())
                .build()
                .map_err(spec_err("user"))?,
        )
        .args(args)
        .env(env)
        .cwd(workdir)
        .capabilities(capabilities)
        .rlimits(rlimits)
        .no_new_privileges(opts.no_new_privileges)
        .build()
        .map_err(spec_err("process"))?;

    let own_netns = opts.network != NetworkMode::Host;
    let mut ns_types = vec![
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Ipc,
        LinuxNamespaceType::Uts,
        LinuxNamespaceType::Mount,
        LinuxNamespaceType::Cgroup,
        LinuxNamespaceType::User,
    ];
    if own_netns {
        ns_types.insert(0, LinuxNamespaceType::Network);
    }
    let namespaces = ns_types
        .into_iter()
        .map(|t| {
            let mut ns = LinuxNamespaceBuilder::default().typ(t);
            if t == LinuxNamespaceType::Network
                && let Some(path) = &opts.network_namespace
            {
                ns = ns.path(path.clone());
            }
            ns.build().map_err(spec_err("namespace"))
        })
        .collect::<Result<Vec<_>, _>>()?;

    let seccomp: Option<LinuxSeccomp> = match &opts.seccomp {
        SeccompMode::Unconfined => None,
        SeccompMode::Default => Some(seccomp::default_profile(&caps)?),
        SeccompMode::Profile { text, origin } => {
            Some(seccomp::parse_profile(text, origin)?.to_oci(&caps)?)
        }
    };

    let tty_gid_mapped = opts
        .gid_map
        .iter()
        .any(|e| e.container <= 5 && 5 < e.container + e.size);
    let mut mounts = mounts::default_mounts(&mounts::MountPlan {
        rootless: opts.rootless,
        // A joined namespace belongs to the caller's user namespace: sysfs is bound instead.
        own_netns: own_netns && opts.network_namespace.is_none(),
        tty_gid_mapped,
        etc: opts.etc_files.as_ref(),
    })?;
    mounts.extend(opts.extra_mounts.iter().cloned());

    let mut linux = LinuxBuilder::default()
        .uid_mappings(id_mappings(&opts.uid_map)?)
        .gid_mappings(id_mappings(&opts.gid_map)?)
        .namespaces(namespaces)
        .masked_paths(MASKED_PATHS.map(String::from).to_vec())
        .readonly_paths(READONLY_PATHS.map(String::from).to_vec());
    if !opts.rootless {
        linux = linux.devices(mounts::default_devices()?);
    }
    if let Some(s) = seccomp {
        linux = linux.seccomp(s);
    }
    if let Some((path, limits)) = &opts.cgroup {
        linux = linux
            .cgroups_path(PathBuf::from(path))
            .resources(limits.to_oci().map_err(spec_err("resources"))?);
    }
    let linux = linux.build().map_err(spec_err("linux"))?;

    let mut spec = SpecBuilder::default()
        .version("1.0.2")
        .root(
            RootBuilder::default()
                .path(opts.rootfs.clone())
                .readonly(opts.readonly_rootfs)
                .build()
                .map_err(spec_err("root"))?,
        )
        .process(process)
        .hostname(opts.hostname.clone())
        .mounts(mounts)
        .linux(linux);
    if let Some(sig) = image.and_then(|c| c.stop_signal.clone()) {
        spec = spec.annotations(
            [("org.opencontainers.image.stopSignal".to_string(), sig)]
                .into_iter()
                .collect::<std::collections::HashMap<_, _>>(),
        );
    }
    let mut spec = spec.build().map_err(spec_err("spec"))?;
    if let Some(mode) = &opts.init {
        init::apply(&mut spec, mode)?;
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rootfs() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("etc")).unwrap();
        std::fs::write(
            d.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("etc/group"),
            "root:x:0:\napp:x:1000:\nwheel:x:10:app\n",
        )
        .unwrap();
        d
    }

    fn image() -> ContainerConfig {
        ContainerConfig {
            env: Some(vec!["PATH=/bin".into(), "A=image".into()]),
            entrypoint: Some(vec!["/bin/sh".into(), "-c".into()]),
            cmd: Some(vec!["echo hi".into()]),
            working_dir: Some("/srv".into()),
            stop_signal: Some("SIGQUIT".into()),
            ..ContainerConfig::default()
        }
    }

    fn opts(root: &std::path::Path) -> SpecOptions {
        let mut o = SpecOptions::new(root, "box");
        o.rootless = true;
        o.uid_map = vec![
            IdMapEntry {
                container: 0,
                host: 1000,
                size: 1,
            },
            IdMapEntry {
                container: 1,
                host: 100_000,
                size: 65536,
            },
        ];
        o.gid_map = o.uid_map.clone();
        o
    }

    #[test]
    fn podman_like_defaults() {
        let root = rootfs();
        let spec = generate(Some(&image()), &opts(root.path())).unwrap();
        let p = spec.process().as_ref().unwrap();
        assert_eq!(p.args().as_ref().unwrap(), &["/bin/sh", "-c", "echo hi"]);
        assert_eq!(p.cwd(), &PathBuf::from("/srv"));
        let env = p.env().as_ref().unwrap();
        assert!(
            env.contains(&"PATH=/bin".to_string()),
            "image PATH wins: {env:?}"
        );
        assert!(env.contains(&"HOSTNAME=box".to_string()));
        assert!(env.contains(&"HOME=/root".to_string()));
        assert_eq!(p.no_new_privileges(), Some(true));
        let caps = p.capabilities().as_ref().unwrap();
        assert_eq!(caps.bounding().as_ref().unwrap().len(), 11);
        assert_eq!(caps.effective().as_ref().unwrap().len(), 11);
        let linux = spec.linux().as_ref().unwrap();
        let ns: Vec<LinuxNamespaceType> = linux
            .namespaces()
            .as_ref()
            .unwrap()
            .iter()
            .map(oci_spec::runtime::LinuxNamespace::typ)
            .collect();
        for t in [
            LinuxNamespaceType::User,
            LinuxNamespaceType::Mount,
            LinuxNamespaceType::Pid,
            LinuxNamespaceType::Ipc,
            LinuxNamespaceType::Uts,
            LinuxNamespaceType::Network,
            LinuxNamespaceType::Cgroup,
        ] {
            assert!(ns.contains(&t), "{t:?}");
        }
        assert_eq!(linux.uid_mappings().as_ref().unwrap().len(), 2);
        assert_eq!(
            linux.masked_paths().as_ref().unwrap().len(),
            MASKED_PATHS.len()
        );
        assert!(linux.seccomp().is_some());
        assert!(linux.devices().is_none(), "rootless binds devices instead");
        let mounts = spec.mounts().as_ref().unwrap();
        let dest = |d: &str| mounts.iter().find(|m| m.destination() == &PathBuf::from(d));
        assert_eq!(dest("/dev/null").unwrap().typ().as_deref(), Some("bind"));
        assert!(
            dest("/sys")
                .unwrap()
                .options()
                .as_ref()
                .unwrap()
                .contains(&"ro".to_string())
        );
        assert!(
            dest("/dev/pts")
                .unwrap()
                .options()
                .as_ref()
                .unwrap()
                .contains(&"gid=5".to_string())
        );
        for d in ["/proc", "/dev", "/dev/shm", "/dev/mqueue"] {
            assert!(dest(d).is_some(), "{d}");
        }
        let rl = p.rlimits().as_ref().unwrap();
        assert!(rl.iter().any(|r| r.typ() == PosixRlimitType::RlimitNofile));
        assert_eq!(spec.hostname().as_deref(), Some("box"));
        assert_eq!(
            spec.annotations()
                .as_ref()
                .unwrap()
                .get("org.opencontainers.image.stopSignal")
                .map(String::as_str),
            Some("SIGQUIT")
        );
    }

    #[test]
    fn non_root_user_gets_groups_and_no_effective_caps() {
        let root = rootfs();
        let mut o = opts(root.path());
        o.user = Some("app".into());
        let spec = generate(Some(&image()), &o).unwrap();
        let p = spec.process().as_ref().unwrap();
        assert_eq!((p.user().uid(), p.user().gid()), (1000, 1000));
        assert_eq!(p.user().additional_gids().as_ref().unwrap(), &[1000, 10]);
        assert!(
            p.capabilities()
                .as_ref()
                .unwrap()
                .effective()
                .as_ref()
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn entrypoint_override_drops_image_cmd() {
        let mut o = SpecOptions::new("/", "h");
        o.entrypoint = Some(vec!["/bin/true".into()]);
        assert_eq!(process_args(Some(&image()), &o).unwrap(), ["/bin/true"]);
        o.entrypoint = None;
        o.command = Some(vec!["ls".into()]);
        assert_eq!(
            process_args(Some(&image()), &o).unwrap(),
            ["/bin/sh", "-c", "ls"]
        );
        o.command = None;
        let err = process_args(None, &o).unwrap_err();
        assert!(
            err.to_string().contains("no command or entrypoint"),
            "{err}"
        );
    }

    #[test]
    fn capability_flags() {
        let set = capability_set(&["net_raw".into()], &["CAP_KILL".into()]).unwrap();
        assert!(set.contains(&"CAP_NET_RAW".to_string()) && !set.contains(&"CAP_KILL".to_string()));
        assert_eq!(
            capability_set(&["ALL".into()], &[]).unwrap().len(),
            ALL_CAPABILITIES.len()
        );
        assert!(capability_set(&[], &["all".into()]).unwrap().is_empty());
        let err = capability_set(&["CAP_FLY".into()], &[]).unwrap_err();
        assert_eq!(err.to_string(), "unknown capability \"CAP_FLY\"");
    }
}
