//! What the container's first process does between fork and exec, written against
//! [`Syscall`]: mounts under the root filesystem, `pivot_root`, masked and read-only paths,
//! hostname, rlimits, identity and capabilities, `no_new_privs`, seccomp, exec.
//!
//! [`InitPlan`] is computed from the spec in the parent (validation errors surface before any
//! process exists); [`setup_and_exec`] only carries it out.

use std::io;
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{PosixRlimitType, Spec};
use seccompiler::BpfProgram;

use super::mounts::{self, ParsedOptions};
use crate::error::SandboxError;
use crate::spec::{ALL_CAPABILITIES, DEFAULT_DEVICES};
use crate::syscall::{InRoot, Syscall};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlannedMount {
    pub destination: PathBuf,
    pub source: Option<PathBuf>,
    pub fstype: Option<String>,
    pub options: ParsedOptions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct CapSets {
    pub bounding: u64,
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
    pub ambient: u64,
}

/// Everything the container's first process needs, resolved from the spec.
#[derive(Debug, Clone)]
pub(crate) struct InitPlan {
    pub rootfs: PathBuf,
    pub readonly_root: bool,
    pub mounts: Vec<PlannedMount>,
    /// Rootless: device nodes are bind-mounted from the host, never created.
    pub bind_devices: bool,
    pub devices: Vec<(PathBuf, u32, u64, u64, u32, u32)>,
    pub masked: Vec<PathBuf>,
    pub readonly: Vec<PathBuf>,
    pub hostname: Option<String>,
    /// A new network namespace: its loopback is brought up.
    pub new_netns: bool,
    pub rlimits: Vec<(u32, u64, u64)>,
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub caps: CapSets,
    pub no_new_privs: bool,
    pub seccomp: Vec<BpfProgram>,
    pub cwd: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<String>,
    /// `process.terminal`: the process gets a new pty as its controlling terminal.
    pub terminal: bool,
    /// `--init`: PID 1 stays in the runtime's code, the process runs as its child.
    pub init: bool,
    /// `chroot` or `rootfs` isolation ([`crate::isolation`]): chroot in place of pivot_root,
    /// and only bind mounts, in a mount namespace when `mount_ns`.
    pub chroot: Option<ChrootPlan>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChrootPlan {
    pub mount_ns: bool,
}

/// The capabilities this process may still hand on (`CapBnd`): under `chroot` and `rootfs`
/// isolation the job container's bounding set limits what a RUN can get.
fn bounding_caps() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapBnd:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .unwrap_or(u64::MAX)
}

fn cap_mask(set: Option<&std::collections::HashSet<oci_spec::runtime::Capability>>) -> u64 {
    let Some(set) = set else { return 0 };
    let mut mask = 0u64;
    for cap in set {
        let name = serde_json::to_value(cap).ok();
        let name = name.as_ref().and_then(|v| v.as_str()).unwrap_or_default();
        if let Some(bit) = ALL_CAPABILITIES.iter().position(|c| *c == name) {
            mask |= 1 << bit;
        }
    }
    mask
}

#[allow(clippy::unnecessary_cast)] // RLIMIT_* are u32 on glibc, c_int on musl
fn rlimit_number(t: PosixRlimitType) -> u32 {
    (match t {
        PosixRlimitType::RlimitCpu => libc::RLIMIT_CPU,
        PosixRlimitType::RlimitFsize => libc::RLIMIT_FSIZE,
        PosixRlimitType::RlimitData => libc::RLIMIT_DATA,
        PosixRlimitType::RlimitStack => libc::RLIMIT_STACK,
        PosixRlimitType::RlimitCore => libc::RLIMIT_CORE,
        PosixRlimitType::RlimitRss => libc::RLIMIT_RSS,
        PosixRlimitType::RlimitNproc => libc::RLIMIT_NPROC,
        PosixRlimitType::RlimitNofile => libc::RLIMIT_NOFILE,
        PosixRlimitType::RlimitMemlock => libc::RLIMIT_MEMLOCK,
        PosixRlimitType::RlimitAs => libc::RLIMIT_AS,
        PosixRlimitType::RlimitLocks => libc::RLIMIT_LOCKS,
        PosixRlimitType::RlimitSigpending => libc::RLIMIT_SIGPENDING,
        PosixRlimitType::RlimitMsgqueue => libc::RLIMIT_MSGQUEUE,
        PosixRlimitType::RlimitNice => libc::RLIMIT_NICE,
        PosixRlimitType::RlimitRtprio => libc::RLIMIT_RTPRIO,
        PosixRlimitType::RlimitRttime => libc::RLIMIT_RTTIME,
    }) as u32
}

impl InitPlan {
    /// Resolves `spec` (whose relative root path is relative to `bundle`).
    pub(crate) fn from_spec(
        spec: &Spec,
        bundle: &Path,
        rootless: bool,
    ) -> Result<Self, SandboxError> {
        let invalid = |what: &'static str, reason: &str| SandboxError::InvalidInput {
            what,
            value: String::new(),
            reason: reason.to_string(),
        };
        let root = spec
            .root()
            .as_ref()
            .ok_or_else(|| invalid("spec", "no root"))?;
        let rootfs = if root.path().is_absolute() {
            root.path().clone()
        } else {
            bundle.join(root.path())
        };
        let process = spec
            .process()
            .as_ref()
            .ok_or_else(|| invalid("spec", "no process"))?;
        let args = process.args().clone().unwrap_or_default();
        if args.is_empty() {
            return Err(invalid("spec", "process.args is empty"));
        }
        let linux = spec.linux().as_ref();
        let mut planned = Vec::new();
        for m in spec.mounts().as_deref().unwrap_or_default() {
            let options = mounts::parse(m.options().as_deref().unwrap_or_default());
            let fstype = m
                .typ()
                .clone()
                .filter(|t| t != "bind" && options.bind.is_none());
            planned.push(PlannedMount {
                destination: m.destination().clone(),
                source: m.source().clone(),
                fstype,
                options,
            });
        }
        let devices = linux
            .and_then(|l| l.devices().clone())
            .unwrap_or_default()
            .iter()
            .map(|d| {
                (
                    d.path().clone(),
                    d.file_mode().unwrap_or(0o666),
                    d.major() as u64,
                    d.minor() as u64,
                    d.uid().unwrap_or(0),
                    d.gid().unwrap_or(0),
                )
            })
            .collect();
        let chroot = spec
            .annotations()
            .as_ref()
            .and_then(|a| a.get(crate::isolation::ISOLATION_ANNOTATION))
            .filter(|v| *v != "oci")
            .map(|_| ChrootPlan {
                mount_ns: linux
                    .and_then(|l| l.namespaces().as_ref())
                    .is_some_and(|ns| {
                        ns.iter()
                            .any(|n| n.typ() == oci_spec::runtime::LinuxNamespaceType::Mount)
                    }),
            });
        let limit = if chroot.is_some() {
            bounding_caps()
        } else {
            u64::MAX
        };
        let caps = process
            .capabilities()
            .as_ref()
            .map_or_else(CapSets::default, |c| CapSets {
                bounding: cap_mask(c.bounding().as_ref()) & limit,
                effective: cap_mask(c.effective().as_ref()) & limit,
                permitted: cap_mask(c.permitted().as_ref()) & limit,
                inheritable: cap_mask(c.inheritable().as_ref()) & limit,
                ambient: cap_mask(c.ambient().as_ref()) & limit,
            });
        let seccomp = match linux.and_then(|l| l.seccomp().as_ref()) {
            Some(s) => super::seccomp::compile(s)?,
            None => Vec::new(),
        };
        let paths = |v: Option<&Vec<String>>| {
            v.map(|v| v.iter().map(PathBuf::from).collect())
                .unwrap_or_default()
        };
        Ok(InitPlan {
            rootfs,
            readonly_root: root.readonly().unwrap_or(false),
            mounts: planned,
            bind_devices: rootless,
            devices,
            masked: paths(linux.and_then(|l| l.masked_paths().as_ref())),
            readonly: paths(linux.and_then(|l| l.readonly_paths().as_ref())),
            hostname: spec.hostname().clone(),
            new_netns: linux
                .and_then(|l| l.namespaces().as_ref())
                .is_some_and(|ns| {
                    ns.iter().any(|n| {
                        n.typ() == oci_spec::runtime::LinuxNamespaceType::Network
                            && n.path().is_none()
                    })
                }),
            rlimits: process
                .rlimits()
                .as_deref()
                .unwrap_or_default()
                .iter()
                .map(|r| (rlimit_number(r.typ()), r.soft(), r.hard()))
                .collect(),
            uid: process.user().uid(),
            gid: process.user().gid(),
            groups: process.user().additional_gids().clone().unwrap_or_default(),
            caps,
            no_new_privs: process.no_new_privileges().unwrap_or(false),
            seccomp,
            cwd: process.cwd().clone(),
            args,
            env: process.env().clone().unwrap_or_default(),
            terminal: process.terminal() == Some(true),
            init: crate::spec::init::wants_embedded_init(spec),
            chroot,
        })
    }
}

/// A failed step: what was being done and the error.
#[derive(Debug)]
pub(crate) struct StepError {
    pub step: String,
    pub source: io::Error,
    /// The failure was the final exec (exit 126/127, not 125).
    pub exec: bool,
}

fn step<T>(r: io::Result<T>, what: impl FnOnce() -> String) -> Result<T, StepError> {
    r.map_err(|source| {
        let mut step = what();
        // Only the errno crosses to the parent: the step says what ELOOP means here.
        if source.raw_os_error() == Some(libc::ELOOP) {
            step.push_str(
                ", whose path in the image resolves through more than 40 symbolic links \
                 (ELOOP; the image is broken or hostile, fix or remove the link chain)",
            );
        }
        StepError {
            step,
            source,
            exec: false,
        }
    })
}

/// Remounts `path` with `flags` added to the flags it must keep.
fn remount(sys: &dyn Syscall, path: &Path, flags: u64) -> io::Result<()> {
    let locked = sys.locked_flags(path)?;
    sys.mount(
        None,
        path,
        None,
        libc::MS_REMOUNT | libc::MS_BIND | flags | locked,
        None,
    )
}

/// The flags `mount_setattr` can apply to a whole tree of mounts.
const RECURSIVE_FLAGS: u64 = libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;

/// Makes a recursive bind at `dest` read-only, nosuid, nodev, noexec as `flags` say, on every
/// mount of the tree: a remount changes only the top one, and the host's submounts (the cgroup
/// hierarchies under a bound `/sys`) would stay writable.
fn restrict_tree(sys: &dyn Syscall, dest: InRoot<'_>, flags: u64) -> io::Result<()> {
    if flags & RECURSIVE_FLAGS != 0 {
        sys.set_recursive(dest, flags & RECURSIVE_FLAGS)?;
    }
    Ok(())
}

/// Every path is resolved inside the root filesystem by the kernel, and every mount goes
/// through the resolved handle: a hostile image's symlinks (a chain of more than 40 included,
/// which fails with ELOOP) cannot point a mount or a created file at the host.
fn do_mount(sys: &dyn Syscall, rootfs: &Path, m: &PlannedMount) -> Result<(), StepError> {
    let dest = InRoot::new(rootfs, &m.destination);
    let what = || {
        format!(
            "mounting {} on {}",
            m.source.as_deref().unwrap_or(Path::new("-")).display(),
            m.destination.display()
        )
    };
    if let Some(bind) = m.options.bind {
        let source = m.source.clone().unwrap_or_default();
        let is_dir = std::fs::metadata(&source).map_or(true, |md| md.is_dir());
        if is_dir {
            step(sys.mkdir_all(dest), what)?;
        } else {
            step(sys.create_file(dest), what)?;
        }
        step(sys.mount_in(Some(&source), dest, None, bind, None), what)?;
        if m.options.flags != 0 {
            step(sys.remount_in(dest, m.options.flags), what)?;
        }
        let recursive = m.options.recursive
            | if bind & libc::MS_REC != 0 {
                m.options.flags
            } else {
                0
            };
        step(restrict_tree(sys, dest, recursive), what)?;
    } else {
        step(sys.mkdir_all(dest), what)?;
        let fstype = m.fstype.as_deref().unwrap_or("none");
        let r = sys.mount_in(
            m.source.as_deref(),
            dest,
            Some(fstype),
            m.options.flags,
            m.options.data.as_deref(),
        );
        match r {
            // sysfs needs the network namespace's owner; without it, bind the host's read-only,
            // submounts included.
            Err(e) if fstype == "sysfs" && e.raw_os_error() == Some(libc::EPERM) => {
                step(
                    sys.mount_in(
                        Some(Path::new("/sys")),
                        dest,
                        None,
                        libc::MS_BIND | libc::MS_REC,
                        None,
                    ),
                    what,
                )?;
                step(sys.remount_in(dest, RECURSIVE_FLAGS), what)?;
                step(restrict_tree(sys, dest, RECURSIVE_FLAGS), what)?;
            }
            other => step(other, what)?,
        }
    }
    if let Some(p) = m.options.propagation {
        step(sys.mount_in(None, dest, None, p, None), what)?;
    }
    Ok(())
}

fn setup_dev(sys: &dyn Syscall, plan: &InitPlan) -> Result<(), StepError> {
    let root = plan.rootfs.as_path();
    if plan.bind_devices {
        // Nodes the spec did not bind already (runc adds /dev/tty the same way).
        for (path, _, _) in DEFAULT_DEVICES {
            if plan.mounts.iter().any(|m| m.destination == Path::new(path)) {
                continue;
            }
            let dest = InRoot::new(root, Path::new(path));
            let what = || format!("binding {path}");
            step(sys.create_file(dest), what)?;
            step(
                sys.mount_in(Some(Path::new(path)), dest, None, libc::MS_BIND, None),
                what,
            )?;
        }
    } else {
        for (path, mode, major, minor, uid, gid) in &plan.devices {
            let dest = InRoot::new(root, path);
            let what = || format!("creating device {}", path.display());
            step(sys.mknod_char(dest, *mode, *major, *minor), what)?;
            step(sys.chown(dest, *uid, *gid), what)?;
        }
    }
    for (target, link) in [
        ("/proc/self/fd", "/dev/fd"),
        ("/proc/self/fd/0", "/dev/stdin"),
        ("/proc/self/fd/1", "/dev/stdout"),
        ("/proc/self/fd/2", "/dev/stderr"),
        ("pts/ptmx", "/dev/ptmx"),
        ("/proc/kcore", "/dev/core"),
    ] {
        match sys.symlink(Path::new(target), InRoot::new(root, Path::new(link))) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
                return step(Err(e), || format!("linking {link}"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Finds the program like execvp, inside the container (after pivot_root).
fn resolve_program(args0: &str, env: &[String]) -> PathBuf {
    if args0.contains('/') {
        return PathBuf::from(args0);
    }
    let path = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(crate::spec::DEFAULT_PATH);
    for dir in path.split(':').filter(|d| !d.is_empty()) {
        let candidate = Path::new(dir).join(args0);
        if candidate.is_file() {
            return candidate;
        }
    }
    PathBuf::from(args0)
}

/// Sets the container up and executes its process; returns only on failure. With `console`
/// (a terminal was asked for), the pty's master is sent over that socket.
pub(crate) fn setup_and_exec(
    sys: &dyn Syscall,
    plan: &InitPlan,
    console: Option<BorrowedFd<'_>>,
) -> StepError {
    if let Err(e) = setup(sys, plan, console) {
        return e;
    }
    exec_process(sys, plan)
}

/// Executes the plan's process; returns only on failure.
pub(crate) fn exec_process(sys: &dyn Syscall, plan: &InitPlan) -> StepError {
    let program = resolve_program(&plan.args[0], &plan.env);
    let source = sys.exec(&program, &plan.args, &plan.env);
    StepError {
        step: plan.args[0].clone(),
        source,
        exec: true,
    }
}

pub(crate) fn setup(
    sys: &dyn Syscall,
    plan: &InitPlan,
    console: Option<BorrowedFd<'_>>,
) -> Result<(), StepError> {
    if let Some(chroot) = plan.chroot {
        return setup_chroot(sys, plan, chroot);
    }
    let root = &plan.rootfs;
    step(
        sys.mount(
            None,
            Path::new("/"),
            None,
            libc::MS_REC | libc::MS_PRIVATE,
            None,
        ),
        || "making / private".into(),
    )?;
    // pivot_root needs the new root to be a mount point.
    step(
        sys.mount(Some(root), root, None, libc::MS_BIND | libc::MS_REC, None),
        || format!("binding the root filesystem {}", root.display()),
    )?;
    for m in &plan.mounts {
        do_mount(sys, root, m)?;
    }
    setup_dev(sys, plan)?;

    // pivot_root(".", ".") stacks the old root on the new one; detaching it leaves only ours.
    step(sys.chdir(root), || "entering the root filesystem".into())?;
    step(sys.pivot_root(Path::new("."), Path::new(".")), || {
        "pivot_root".into()
    })?;
    step(sys.umount(Path::new("."), true), || {
        "detaching the old root".into()
    })?;
    step(sys.chdir(Path::new("/")), || "chdir /".into())?;

    for path in &plan.masked {
        let what = || format!("masking {}", path.display());
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => step(
                sys.mount(
                    Some(Path::new("tmpfs")),
                    path,
                    Some("tmpfs"),
                    libc::MS_RDONLY,
                    None,
                ),
                what,
            )?,
            Ok(_) => step(
                sys.mount(
                    Some(Path::new("/dev/null")),
                    path,
                    None,
                    libc::MS_BIND,
                    None,
                ),
                what,
            )?,
            Err(_) => {}
        }
    }
    // The working directory is made while still root and before the root becomes read-only,
    // as runc does (prepareRootfs, then the read-only remount): an image's WORKDIR that its
    // layers lack works with --read-only, as in podman. Resolved under `/` like every other
    // path the runtime creates, so that no magic link (`/proc/self/root/...`) can take it
    // elsewhere.
    if std::fs::metadata(&plan.cwd).is_err() {
        step(
            sys.mkdir_all(InRoot::new(Path::new("/"), &plan.cwd)),
            || format!("creating the working directory {}", plan.cwd.display()),
        )?;
    }
    for path in &plan.readonly {
        if std::fs::symlink_metadata(path).is_err() {
            continue;
        }
        let what = || format!("making {} read-only", path.display());
        step(
            sys.mount(Some(path), path, None, libc::MS_BIND | libc::MS_REC, None),
            what,
        )?;
        step(remount(sys, path, libc::MS_RDONLY), what)?;
    }
    if plan.readonly_root {
        step(remount(sys, Path::new("/"), libc::MS_RDONLY), || {
            "making / read-only".into()
        })?;
    }
    if let Some(h) = &plan.hostname {
        step(sys.sethostname(h), || format!("setting the hostname {h}"))?;
    }
    if plan.new_netns {
        step(sys.loopback_up(), || "bringing up lo".into())?;
    }
    // While still root: the pty comes from the container's own devpts instance (so `tty`
    // prints /dev/pts/0), as runc and podman do it.
    if let Some(socket) = console {
        step(sys.setup_console(socket), || {
            "setting up the terminal".into()
        })?;
    }
    for (resource, soft, hard) in &plan.rlimits {
        step(sys.setrlimit(*resource, *soft, *hard), || {
            format!("setting rlimit {resource}")
        })?;
    }
    enter_process(sys, plan)
}

/// `chroot` and `rootfs` isolation: bind mounts only (the caller's `/proc`, `/sys`, `/dev`
/// and the RUN's own), each resolved inside the root as [`do_mount`] does, then chroot. With
/// no mount namespace nothing is mounted, but the mount targets are made all the same, so
/// that the step's layer is the one the `oci` isolation gives.
///
/// With a mount namespace the root is bound onto itself and moved over `/` before the chroot
/// (runc's `--no-pivot` and buildah's chroot isolation do the same): a RUN with
/// `CAP_SYS_CHROOT` that chroots into a subdirectory and walks `..` from the directory it kept
/// then stops at the top of the moved mount, which covers the job container's `/`, instead of
/// walking out into the job container's file system (the classic chroot escape).
fn setup_chroot(sys: &dyn Syscall, plan: &InitPlan, chroot: ChrootPlan) -> Result<(), StepError> {
    let root = &plan.rootfs;
    if chroot.mount_ns {
        step(
            sys.mount(
                None,
                Path::new("/"),
                None,
                libc::MS_REC | libc::MS_PRIVATE,
                None,
            ),
            || "making / private".into(),
        )?;
        // MS_MOVE needs a mount point; the RUN's mounts go on top of this bind, so they move
        // with it.
        step(
            sys.mount(Some(root), root, None, libc::MS_BIND | libc::MS_REC, None),
            || format!("binding the root filesystem {}", root.display()),
        )?;
        for m in &plan.mounts {
            do_mount(sys, root, m)?;
        }
        step(sys.chdir(root), || "entering the root filesystem".into())?;
        step(
            sys.mount(
                Some(Path::new(".")),
                Path::new("/"),
                None,
                libc::MS_MOVE,
                None,
            ),
            || format!("moving the root filesystem {} over /", root.display()),
        )?;
        step(sys.chroot(Path::new(".")), || {
            format!("chroot {}", root.display())
        })?;
    } else {
        for m in &plan.mounts {
            let dest = InRoot::new(root, &m.destination);
            let what = || format!("creating the mount target {}", m.destination.display());
            let is_dir = m
                .source
                .as_deref()
                .is_none_or(|s| std::fs::metadata(s).map_or(true, |md| md.is_dir()));
            if m.options.bind.is_some() && !is_dir {
                step(sys.create_file(dest), what)?;
            } else {
                step(sys.mkdir_all(dest), what)?;
            }
        }
        // No mount namespace: nothing may be mounted, so the RUN's root is a plain
        // directory of the job container's file system (see SECURITY.md for what a RUN
        // with CAP_SYS_CHROOT can reach from it).
        step(sys.chroot(root), || format!("chroot {}", root.display()))?;
    }
    step(sys.chdir(Path::new("/")), || "chdir /".into())?;
    for (resource, soft, hard) in &plan.rlimits {
        // The job container's limits may be lower than podman's defaults ask for: keep them.
        let _ = sys.setrlimit(*resource, *soft, *hard);
    }
    if std::fs::metadata(&plan.cwd).is_err() {
        step(
            sys.mkdir_all(InRoot::new(Path::new("/"), &plan.cwd)),
            || format!("creating the working directory {}", plan.cwd.display()),
        )?;
    }
    enter_process(sys, plan)
}

/// The last steps shared by a container's first process and `exec`: capabilities, identity,
/// working directory, `no_new_privs`, seccomp (last, so that it filters only the process).
pub(crate) fn enter_process(sys: &dyn Syscall, plan: &InitPlan) -> Result<(), StepError> {
    let c = plan.caps;
    step(sys.drop_bounding(c.bounding), || {
        "dropping capabilities from the bounding set".into()
    })?;
    step(sys.set_keepcaps(true), || {
        "keeping capabilities across setuid".into()
    })?;
    step(sys.set_ids(plan.uid, plan.gid, &plan.groups), || {
        format!("switching to uid {} gid {}", plan.uid, plan.gid)
    })?;
    step(sys.set_keepcaps(false), || "resetting keepcaps".into())?;
    step(sys.capset(c.effective, c.permitted, c.inheritable), || {
        "setting capabilities".into()
    })?;
    step(sys.raise_ambient(c.ambient), || {
        "raising ambient capabilities".into()
    })?;
    step(sys.chdir(&plan.cwd), || {
        format!("entering the working directory {}", plan.cwd.display())
    })?;
    if plan.no_new_privs {
        step(sys.set_no_new_privs(), || "setting no_new_privs".into())?;
    }
    if !plan.seccomp.is_empty() {
        step(sys.apply_seccomp(&plan.seccomp), || {
            "loading the seccomp filter".into()
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{SpecOptions, generate};
    use crate::syscall::fake::Recording;

    fn plan() -> (tempfile::TempDir, InitPlan) {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("etc")).unwrap();
        std::fs::write(
            root.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\n",
        )
        .unwrap();
        let mut o = SpecOptions::new(root.path(), "box");
        o.rootless = true;
        o.command = Some(vec!["sh".into(), "-c".into(), "true".into()]);
        let spec = generate(None, &o).unwrap();
        let plan = InitPlan::from_spec(&spec, Path::new("/bundle"), true).unwrap();
        (root, plan)
    }

    #[test]
    fn order_mounts_then_pivot_then_identity_then_seccomp_last() {
        let (_root, plan) = plan();
        let fake = Recording::default();
        let err = setup_and_exec(&fake, &plan, None);
        assert!(err.exec, "the fake's exec fails: {}", err.step);
        let ops = fake.ops();
        let pos = |prefix: &str| {
            ops.iter()
                .position(|o| o.starts_with(prefix))
                .unwrap_or_else(|| panic!("{prefix} missing: {ops:#?}"))
        };
        let root = plan.rootfs.display().to_string();
        assert!(ops[0].starts_with("mount - / -"), "{}", ops[0]);
        assert!(pos(&format!("mount proc {root}/proc proc")) < pos("pivot_root"));
        assert!(pos(&format!("mount /dev/null {root}/dev/null")) < pos("pivot_root"));
        assert!(
            pos("pivot_root") < pos("mount tmpfs /proc/acpi")
                || !std::path::Path::new("/proc/acpi").exists()
        );
        assert!(pos("sethostname box") > pos("pivot_root"));
        assert!(pos("lo up") < pos("ids 0:0"));
        assert!(pos("bounding") < pos("ids 0:0"));
        assert!(pos("ids 0:0") < pos("capset 0x800405fb 0x800405fb 0x0"));
        assert!(pos("no_new_privs") < pos("seccomp 3"));
        assert!(pos("seccomp") < pos("exec"));
        // Nothing is mounted outside the root filesystem before pivot_root.
        for o in &ops[1..pos("pivot_root")] {
            if let Some(rest) = o.strip_prefix("mount ") {
                let target = rest.split(' ').nth(1).unwrap();
                assert!(target.starts_with(&root), "{o}");
            }
        }
    }

    /// Issue 11, finding 5: with the host's network, /sys is the host's bound recursively; its
    /// submounts (the cgroup hierarchies) are made read-only too, not only the top mount.
    #[test]
    fn host_sys_bind_is_read_only_recursively() {
        let (root, _) = plan();
        let mut o = SpecOptions::new(root.path(), "box");
        o.network = crate::spec::NetworkMode::Host;
        o.command = Some(vec!["true".into()]);
        let spec = generate(None, &o).unwrap();
        let plan = InitPlan::from_spec(&spec, Path::new("/"), false).unwrap();
        let fake = Recording::default();
        let _ = setup_and_exec(&fake, &plan, None);
        let ops = fake.ops();
        let sys = format!("{}/sys", root.path().display());
        let bind = ops
            .iter()
            .position(|o| {
                o.starts_with(&format!(
                    "mount /sys {sys} - {:#x}",
                    libc::MS_BIND | libc::MS_REC
                ))
            })
            .unwrap_or_else(|| panic!("no recursive bind of /sys: {ops:#?}"));
        let all = libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
        let setattr = ops
            .iter()
            .position(|o| *o == format!("setattr-recursive {sys} {all:#x}"))
            .unwrap_or_else(|| panic!("/sys is not made read-only recursively: {ops:#?}"));
        assert!(bind < setattr && setattr < pos_of(&ops, "pivot_root"));

        // The same when sysfs cannot be mounted fresh and the host's is bound instead.
        let mut fresh = plan.clone();
        for m in &mut fresh.mounts {
            if m.destination == Path::new("/sys") {
                m.options = super::mounts::parse(&["ro".to_string()]);
                m.fstype = Some("sysfs".into());
                m.source = Some("sysfs".into());
            }
        }
        let fake = Recording {
            mount_errno: Some(("sysfs", libc::EPERM)),
            ..Recording::default()
        };
        let _ = setup_and_exec(&fake, &fresh, None);
        let ops = fake.ops();
        assert!(
            ops.contains(&format!("setattr-recursive {sys} {all:#x}")),
            "{ops:#?}"
        );
    }

    fn pos_of(ops: &[String], prefix: &str) -> usize {
        ops.iter().position(|o| o.starts_with(prefix)).unwrap()
    }

    /// Issue 12: chroot isolation with a mount namespace moves the root over `/` and chroots
    /// into it (runc's no-pivot), so `..` from a directory a RUN kept after a nested chroot
    /// stops at the root; without a mount namespace only the plain chroot is possible.
    #[test]
    fn chroot_isolation_moves_the_root_over_slash_before_the_chroot() {
        let (_root, mut plan) = plan();
        let root = plan.rootfs.display().to_string();
        plan.chroot = Some(ChrootPlan { mount_ns: true });
        let fake = Recording::default();
        let _ = setup_and_exec(&fake, &plan, None);
        let ops = fake.ops();
        let bind = format!("mount {root} {root} - {:#x}", libc::MS_BIND | libc::MS_REC);
        let bind = ops
            .iter()
            .position(|o| o.starts_with(&bind))
            .unwrap_or_else(|| panic!("the root is not bound onto itself: {ops:#?}"));
        let chdir = ops
            .iter()
            .position(|o| *o == format!("chdir {root}"))
            .unwrap_or_else(|| panic!("no chdir into the root: {ops:#?}"));
        let moved = ops
            .iter()
            .position(|o| o.starts_with(&format!("mount . / - {:#x}", libc::MS_MOVE)))
            .unwrap_or_else(|| panic!("the root is not moved over /: {ops:#?}"));
        let chroot = pos_of(&ops, "chroot ");
        assert_eq!(ops[chroot], "chroot .");
        assert!(bind < chdir && chdir < moved && moved < chroot, "{ops:#?}");
        assert!(!ops.iter().any(|o| o.starts_with("pivot_root")), "{ops:#?}");
        // Every other mount lands on the bind, before the move.
        for o in &ops[bind + 1..moved] {
            if let Some(rest) = o.strip_prefix("mount ") {
                let target = rest.split(' ').nth(1).unwrap();
                assert!(target.starts_with(&root), "{o}");
            }
        }

        plan.chroot = Some(ChrootPlan { mount_ns: false });
        let fake = Recording::default();
        let _ = setup_and_exec(&fake, &plan, None);
        let ops = fake.ops();
        assert!(!ops.iter().any(|o| o.starts_with("mount ")), "{ops:#?}");
        assert_eq!(ops[pos_of(&ops, "chroot ")], format!("chroot {root}"));
    }

    #[test]
    fn terminal_is_set_up_after_pivot_root_before_identity() {
        let (root, _) = plan();
        let mut o = SpecOptions::new(root.path(), "box");
        o.terminal = true;
        o.command = Some(vec!["sh".into()]);
        let spec = generate(None, &o).unwrap();
        let plan = InitPlan::from_spec(&spec, Path::new("/"), true).unwrap();
        assert!(plan.terminal);
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let fake = Recording::default();
        let _ = setup_and_exec(&fake, &plan, Some(std::os::fd::AsFd::as_fd(&a)));
        let ops = fake.ops();
        let pos = |op: &str| ops.iter().position(|o| o.starts_with(op)).unwrap();
        assert!(pos("pivot_root") < pos("console"));
        assert!(pos("console") < pos("ids 0:0"));
    }
}
