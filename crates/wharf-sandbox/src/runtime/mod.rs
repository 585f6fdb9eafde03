//! The embedded OCI runtime: runs a spec in the foreground without an external runtime binary.
//!
//! Process layout, as runc's: the caller (P) forks C1, which unshares the spec's namespaces
//! (user first, so that it owns the others) and waits while P writes its ID maps; C1 then forks
//! C2, the container's PID 1, which sets the container up (module `init`) and executes the process.
//! C1 waits for C2 and exits with its status; P waits for C1. C2 reports a set-up failure on a
//! close-on-exec pipe: if the pipe closes empty, exec happened.
//!
//! Call it inside the rootless user namespace ([`crate::maybe_reexec_in_userns`]) or as root,
//! preferably before starting threads: the forked children allocate, which glibc makes safe
//! after fork, but they must not meet locks held by other threads.

mod exec;
mod init;
mod mounts;
pub(crate) mod path;
mod pid1;
mod seccomp;

use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

use oci_spec::runtime::{LinuxIdMapping, LinuxNamespaceType, Spec};

use crate::error::SandboxError;
use crate::sys::{namespace, process};
use crate::syscall::{LinuxSyscall, Syscall};

pub use exec::{ExecOptions, command_in_namespaces_of, container_init_pid, exec};
use init::InitPlan;

fn ns_flag(t: LinuxNamespaceType) -> libc::c_int {
    match t {
        LinuxNamespaceType::User => libc::CLONE_NEWUSER,
        LinuxNamespaceType::Mount => libc::CLONE_NEWNS,
        LinuxNamespaceType::Pid => libc::CLONE_NEWPID,
        LinuxNamespaceType::Ipc => libc::CLONE_NEWIPC,
        LinuxNamespaceType::Uts => libc::CLONE_NEWUTS,
        LinuxNamespaceType::Network => libc::CLONE_NEWNET,
        LinuxNamespaceType::Cgroup => libc::CLONE_NEWCGROUP,
        LinuxNamespaceType::Time => libc::CLONE_NEWTIME,
    }
}

fn map_text(maps: &[LinuxIdMapping]) -> String {
    let entries: Vec<crate::idmap::IdMapEntry> = maps
        .iter()
        .map(|m| crate::idmap::IdMapEntry {
            container: m.container_id(),
            host: m.host_id(),
            size: m.size(),
        })
        .collect();
    crate::idmap::map_file_text(&entries)
}

/// The variable that holds the path of the executable as installed once
/// [`reexec_sealed`] runs a copy of it (companion programs are found next to it).
pub const INSTALLED_EXE_ENV: &str = "_WHARF_INSTALLED_EXE";

/// Re-executes the calling program (same arguments and environment) from a read-only clone of
/// its executable (a detached read-only bind mount of the same file), or, where this process
/// cannot make one (rootless outside the user namespace), from a sealed in-memory copy; unless
/// it already runs from one of those or from a read-only mount. Returns only in the process
/// that should carry on. Call it at the start of `main` of every command that starts or enters
/// containers, before any thread starts.
///
/// Why: the processes that set a container up are forks of this program, and the first
/// program they execute is the container's. If that is `/proc/self/exe` (the image's
/// entrypoint, or a `#!/proc/self/exe` script the container put in place of the command
/// `berth exec` runs), the container runs this very file, can open it through
/// `/proc/PID/exe` and, once it is no longer busy, overwrite it on the host (CVE-2019-5736,
/// the reason for runc's own sealed copy). From the clone, `/proc/self/exe` is on a read-only
/// mount (`EROFS`); from a copy, it is the copy, which nobody can write.
pub fn reexec_sealed() -> Result<(), SandboxError> {
    use std::os::unix::ffi::OsStrExt as _;
    let fail = |step| move |source| SandboxError::SealedExe { step, source };
    let mut exe = std::fs::File::open("/proc/self/exe").map_err(SandboxError::CurrentExe)?;
    if process::is_sealed(exe.as_fd()) || process::on_read_only_mount(exe.as_fd()) {
        // After our own re-exec the process is named after the descriptor ("3"): `ps` shows
        // the program again. (A binary installed on a read-only mount needs no re-exec.)
        if let Some(name) = std::env::var_os(INSTALLED_EXE_ENV)
            .as_deref()
            .map(std::path::Path::new)
            .and_then(std::path::Path::file_name)
            .and_then(|n| std::ffi::CString::new(n.as_bytes()).ok())
        {
            let _ = nix::sys::prctl::set_name(&name);
        }
        return Ok(());
    }
    let installed = std::fs::read_link("/proc/self/exe").map_err(SandboxError::CurrentExe)?;
    // First choice: the same file through a detached read-only bind mount. No copy (the
    // binary is tens of MB with its line tables: copying it cost ~40 ms per command and its
    // size in memory for as long as the container ran). Where the mount namespace is not
    // ours (rootless outside the user namespace), a sealed memfd copy, as runc does.
    //
    // The clone is made of the file as this mount namespace sees it: after the rootless
    // re-exec, `/proc/self/exe` still names a mount of the namespace it was opened in, which
    // `open_tree` refuses (EINVAL). The same file (same device and inode) opened by its path
    // is on our own mount.
    let ours = std::fs::File::open(&installed).ok().filter(|f| {
        use std::os::unix::fs::MetadataExt as _;
        match (f.metadata(), exe.metadata()) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    });
    let source = ours.as_ref().map_or(exe.as_fd(), AsFd::as_fd);
    let target = match crate::sys::mount::read_only_clone(source) {
        Ok(ro) => ro,
        Err(e) => {
            tracing::debug!(error = %e, "no read-only clone of the executable; copying it");
            let copy = process::sealable_memfd(c"wharf-exe").map_err(fail("creating a memfd"))?;
            let mut copy = std::fs::File::from(copy);
            std::io::copy(&mut exe, &mut copy).map_err(fail("copying the executable"))?;
            process::seal(copy.as_fd()).map_err(fail("sealing the copy"))?;
            OwnedFd::from(copy)
        }
    };
    drop(exe);
    let nul = |what: &str| SandboxError::NulByte {
        what: what.to_string(),
    };
    let args = std::env::args_os()
        .map(|a| std::ffi::CString::new(a.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| nul("the re-executed command line"))?;
    let mut env = Vec::new();
    for (k, v) in std::env::vars_os().filter(|(k, _)| k != INSTALLED_EXE_ENV) {
        let mut kv = k.as_bytes().to_vec();
        kv.push(b'=');
        kv.extend_from_slice(v.as_bytes());
        env.push(std::ffi::CString::new(kv).map_err(|_| nul("the environment"))?);
    }
    let mut kv = format!("{INSTALLED_EXE_ENV}=").into_bytes();
    kv.extend_from_slice(installed.as_os_str().as_bytes());
    env.push(std::ffi::CString::new(kv).map_err(|_| nul("the executable's path"))?);
    Err(fail("executing the copy")(process::fexec(
        target.as_fd(),
        &args,
        &env,
    )))
}

/// The executable as installed: [`INSTALLED_EXE_ENV`] after [`reexec_sealed`], else
/// `/proc/self/exe`.
pub fn installed_exe() -> Option<std::path::PathBuf> {
    std::env::var_os(INSTALLED_EXE_ENV)
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::current_exe().ok())
}

/// Runs the bundle in `dir` (its `config.json`) in the foreground; returns the exit code of
/// the container's process (128+N when killed by signal N).
pub fn run_bundle(dir: &Path) -> Result<u8, SandboxError> {
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|source| SandboxError::Read {
        path: path.clone(),
        source,
    })?;
    let spec: Spec =
        serde_json::from_str(&text).map_err(|source| SandboxError::InvalidSpec { path, source })?;
    run(&spec, dir)
}

/// Runs `spec` in the foreground with stdio inherited; relative paths in the spec are relative
/// to `bundle`. Set-up failures are errors (exit code 125, see [`SandboxError::exit_code`]); a
/// command that is missing or not executable is [`SandboxError::ContainerExec`] (127/126).
/// SIGINT and SIGQUIT from the terminal are left to the container while it runs.
pub fn run(spec: &Spec, bundle: &Path) -> Result<u8, SandboxError> {
    let container = start(spec, bundle)?;
    let _guard = process::ignore_terminal_signals();
    container.wait()
}

/// Runs `f` (typically [`Container::wait`]) with SIGINT and SIGQUIT ignored in this process, so
/// that a terminal's ^C reaches only the container, which decides what to do with it.
pub fn with_terminal_signals_ignored<T>(f: impl FnOnce() -> T) -> T {
    let _guard = process::ignore_terminal_signals();
    f()
}

/// Keeps SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH until
/// [`forward_signals`] names the process to pass them to: call it before starting a
/// container, so that a stop request during the start is passed on, not fatal.
pub fn defer_signals() -> Result<(), SandboxError> {
    process::defer_signals().map_err(SandboxError::Fork)
}

/// Makes the calling process pass SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and
/// SIGWINCH on to `pid` (a [`Container::pid`], or an external runtime that forwards them
/// itself), as `podman run --sig-proxy` does, including those kept since [`defer_signals`].
pub fn forward_signals(pid: i32) -> Result<(), SandboxError> {
    process::forward_signals_to(pid).map_err(|source| SandboxError::Wait { pid, source })
}

/// Makes the calling process the reaper of its orphaned descendants, so that it can wait for
/// a container that an external runtime started detached (`runc run -d`), as conmon does.
pub fn become_subreaper() -> Result<(), SandboxError> {
    process::set_child_subreaper().map_err(SandboxError::Fork)
}

/// Waits for `pid`, a child (or, after [`become_subreaper`], an adopted descendant); its exit
/// code (128+N when killed by signal N).
pub fn wait_pid(pid: i32) -> Result<u8, SandboxError> {
    process::wait_exit_code(pid).map_err(|source| SandboxError::Wait { pid, source })
}

/// A started container (its process has been executed).
#[derive(Debug)]
pub struct Container {
    /// The relay process (C1): signals sent to it are passed on to the container's PID 1.
    pid: i32,
    /// The cgroup holding the limits, removed once the container has exited.
    cgroup: Option<crate::cgroup::Cgroup>,
    /// The master side of the container's pty, when the spec asks for a terminal.
    console: Option<OwnedFd>,
}

impl Container {
    /// The pid of the process to signal or wait for (it relays SIGTERM, SIGINT, SIGHUP,
    /// SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH to the container's PID 1; SIGKILL kills both).
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The master side of the container's terminal (`process.terminal`), once: relay it with
    /// [`crate::console::relay`].
    pub fn take_console(&mut self) -> Option<OwnedFd> {
        self.console.take()
    }

    /// Sends `signal` (a `libc::SIG*` number) to the container.
    pub fn signal(&self, signal: i32) -> Result<(), SandboxError> {
        let sig =
            nix::sys::signal::Signal::try_from(signal).map_err(|_| SandboxError::InvalidInput {
                what: "signal",
                value: signal.to_string(),
                reason: "not a signal number".into(),
            })?;
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid), sig).map_err(|e| {
            SandboxError::Wait {
                pid: self.pid,
                source: e.into(),
            }
        })
    }

    /// Waits for the container's process; its exit code (128+N when killed by signal N).
    pub fn wait(self) -> Result<u8, SandboxError> {
        let code = process::wait_exit_code(self.pid).map_err(|source| SandboxError::Wait {
            pid: self.pid,
            source,
        });
        if let Some(cg) = &self.cgroup {
            cg.remove();
        }
        code
    }

    /// The directories of the container's cgroup (empty without limits).
    pub fn cgroup_dirs(&self) -> &[std::path::PathBuf] {
        self.cgroup
            .as_ref()
            .map_or(&[], crate::cgroup::Cgroup::dirs)
    }
}

/// Starts `spec` and returns once its process has been executed (or with the set-up error).
/// The caller waits with [`Container::wait`] and decides about signals.
pub fn start(spec: &Spec, bundle: &Path) -> Result<Container, SandboxError> {
    if !nix::unistd::geteuid().is_root() {
        return Err(SandboxError::NeedsUserNamespace);
    }
    let rootless = crate::overlay::in_child_userns();
    let plan = InitPlan::from_spec(spec, bundle, rootless)?;
    let linux = spec.linux().as_ref();
    let mut flags = 0;
    // An existing network namespace (a private network's, see `crate::network`) is joined
    // before the user namespace is created, while this process still has its privileges there.
    let mut netns = None;
    for ns in linux
        .and_then(|l| l.namespaces().as_ref())
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        match ns.path() {
            Some(path) if ns.typ() == LinuxNamespaceType::Network => {
                let file = std::fs::File::open(path).map_err(|source| SandboxError::Read {
                    path: path.clone(),
                    source,
                })?;
                netns = Some(OwnedFd::from(file));
                continue;
            }
            Some(_) => {
                return Err(SandboxError::Unsupported {
                    what: format!("joining an existing {:?} namespace", ns.typ()),
                });
            }
            None => {}
        }
        flags |= ns_flag(ns.typ());
    }
    let uid_map = map_text(
        linux
            .and_then(|l| l.uid_mappings().as_deref())
            .unwrap_or_default(),
    );
    let gid_map = map_text(
        linux
            .and_then(|l| l.gid_mappings().as_deref())
            .unwrap_or_default(),
    );

    // Limits from `linux.resources` go into `linux.cgroupsPath`, made before any process exists.
    let cgroup =
        match linux.and_then(|l| Some((l.cgroups_path().as_ref()?, l.resources().as_ref()?))) {
            Some((path, resources)) => {
                let limits = crate::cgroup::Limits::from_oci(resources);
                (!limits.is_empty())
                    .then(|| crate::cgroup::Cgroup::create(&path.to_string_lossy(), &limits))
                    .transpose()?
            }
            None => None,
        };
    let started = start_in(
        &plan,
        flags,
        netns.as_ref(),
        &uid_map,
        &gid_map,
        cgroup.as_ref(),
    );
    match started {
        Ok((pid, console)) => Ok(Container {
            pid,
            cgroup,
            console,
        }),
        Err(e) => {
            if let Some(cg) = &cgroup {
                cg.remove();
            }
            Err(e)
        }
    }
}

fn start_in(
    plan: &InitPlan,
    flags: libc::c_int,
    netns: Option<&OwnedFd>,
    uid_map: &str,
    gid_map: &str,
    cgroup: Option<&crate::cgroup::Cgroup>,
) -> Result<(i32, Option<OwnedFd>), SandboxError> {
    let cloexec = nix::fcntl::OFlag::O_CLOEXEC;
    let pipe = || nix::unistd::pipe2(cloexec).map_err(|e| SandboxError::Fork(e.into()));
    let (ready_r, ready_w) = pipe()?;
    let (go_r, go_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    // The pty's master comes back over this pair (runc's console socket protocol).
    let console = if plan.terminal {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().map_err(SandboxError::Fork)?;
        Some((OwnedFd::from(ours), OwnedFd::from(theirs)))
    } else {
        None
    };

    match process::fork().map_err(SandboxError::Fork)? {
        process::Forked::Child => {
            drop((ready_r, go_w, err_r));
            let theirs = console.map(|(ours, theirs)| {
                drop(ours);
                theirs
            });
            first_child(plan, flags, netns, &ready_w, &go_r, err_w, theirs.as_ref())
        }
        process::Forked::Parent(pid) => {
            drop((ready_w, go_r, err_w));
            let ours = console.map(|(ours, theirs)| {
                drop(theirs);
                ours
            });
            let pid = parent(pid, flags, uid_map, gid_map, cgroup, ready_r, go_w, err_r)?;
            let Some(socket) = ours else {
                return Ok((pid, None));
            };
            // Sent before the exec, which has happened: the message is waiting.
            match crate::console::recv_fd(socket.as_fd()) {
                Ok(master) => Ok((pid, Some(master))),
                Err(source) => {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                    let _ = process::wait_exit_code(pid);
                    Err(SandboxError::ContainerSetup {
                        step: "receiving the terminal".into(),
                        source,
                    })
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn parent(
    pid: i32,
    flags: libc::c_int,
    uid_map: &str,
    gid_map: &str,
    cgroup: Option<&crate::cgroup::Cgroup>,
    ready_r: OwnedFd,
    go_w: OwnedFd,
    err_r: OwnedFd,
) -> Result<i32, SandboxError> {
    let fail = |e: SandboxError| {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
        let _ = process::wait_exit_code(pid);
        Err(e)
    };
    let mut status = [0u8; 4];
    if let Err(e) = std::fs::File::from(ready_r).read_exact(&mut status) {
        return fail(SandboxError::ChildLost(e));
    }
    let errno = i32::from_ne_bytes(status);
    if errno != 0 {
        return fail(SandboxError::ContainerSetup {
            step: "creating namespaces".into(),
            source: std::io::Error::from_raw_os_error(errno),
        });
    }
    if flags & libc::CLONE_NEWUSER != 0 {
        let sys = LinuxSyscall;
        for (file, text) in [("uid_map", uid_map), ("gid_map", gid_map)] {
            if text.is_empty() {
                continue;
            }
            let path = std::path::PathBuf::from(format!("/proc/{pid}/{file}"));
            if let Err(source) = sys.write_file(&path, text.as_bytes()) {
                return fail(SandboxError::IdMapWrite { path, source });
            }
        }
    }
    // C1 joins the cgroup before it forks the container's PID 1, which inherits it.
    if let Some(Err(e)) = cgroup.map(|cg| cg.add(pid)) {
        return fail(e.into());
    }
    if let Err(e) = nix::unistd::write(&go_w, &[0]) {
        return fail(SandboxError::ChildLost(e.into()));
    }
    drop(go_w);
    read_report(pid, err_r)
}

/// Reads the set-up report of the container's process: closed empty by its exec.
fn read_report(pid: i32, err_r: OwnedFd) -> Result<i32, SandboxError> {
    let mut report = String::new();
    let _ = std::fs::File::from(err_r).read_to_string(&mut report);
    if report.is_empty() {
        return Ok(pid);
    }
    let _ = process::wait_exit_code(pid);
    // "<exec 0|1> <errno> <step>"
    let mut parts = report.splitn(3, ' ');
    let exec = parts.next() == Some("1");
    let errno = parts
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(libc::EIO);
    let step = parts.next().unwrap_or_default().to_string();
    let source = std::io::Error::from_raw_os_error(errno);
    Err(if exec {
        SandboxError::ContainerExec {
            program: step,
            source,
        }
    } else {
        SandboxError::ContainerSetup { step, source }
    })
}

/// C1: unshare, wait for the maps, fork the container's PID 1, relay its exit status.
fn first_child(
    plan: &InitPlan,
    flags: libc::c_int,
    netns: Option<&OwnedFd>,
    ready_w: &OwnedFd,
    go_r: &OwnedFd,
    err_w: OwnedFd,
    console: Option<&OwnedFd>,
) -> ! {
    let _ = process::die_with_parent();
    // Before any namespace is entered: the container's PID 1 is forked from here and runs the
    // host binary until its exec (or for good, as `--init`); non-dumpable, the container
    // cannot ptrace it nor open its `/proc/PID/{exe,fd,mem}` (CVE-2019-5736). The exec of
    // the container's program makes that process dumpable again, as its own.
    let status = process::set_non_dumpable()
        .and_then(|()| netns.map_or(Ok(()), namespace::setns_net))
        // No namespace at all (`rootfs` isolation): not even unshare(0), which Docker's
        // default seccomp profile refuses without CAP_SYS_ADMIN.
        .and_then(|()| {
            if flags == 0 {
                Ok(())
            } else {
                namespace::unshare(flags)
            }
        })
        .err()
        .and_then(|e| e.raw_os_error())
        .map_or(0, |e| if e == 0 { libc::EIO } else { e });
    if nix::unistd::write(ready_w, &status.to_ne_bytes()).is_err() || status != 0 {
        process::exit_now(125);
    }
    let mut go = [1u8];
    if nix::unistd::read(go_r.as_raw_fd(), &mut go) != Ok(1) || go[0] != 0 {
        process::exit_now(125);
    }
    match process::fork() {
        Err(_) => process::exit_now(125),
        Ok(process::Forked::Child) => {
            let _ = process::die_with_parent();
            process::default_signals();
            if plan.init {
                if let Err(e) = init::setup(&LinuxSyscall, plan, console.map(AsFd::as_fd)) {
                    report_and_exit(&e, &err_w)
                }
                pid1::run(plan, err_w)
            }
            let e = init::setup_and_exec(&LinuxSyscall, plan, console.map(AsFd::as_fd));
            report_and_exit(&e, &err_w)
        }
        Ok(process::Forked::Parent(pid)) => {
            drop(err_w);
            // Signals sent to C1 (berth stop, kill) go on to the container's PID 1.
            let _ = process::forward_signals_to(pid);
            let code = process::wait_exit_code(pid).unwrap_or(125);
            process::exit_now(i32::from(code))
        }
    }
}

/// Writes a failed step to the report pipe ("<exec 0|1> <errno> <step>") and exits with
/// podman's code for it (127 not found, 126 not executable, 125 set-up).
fn report_and_exit(e: &init::StepError, err_w: &OwnedFd) -> ! {
    let code = match (e.exec, e.source.kind()) {
        (true, std::io::ErrorKind::NotFound) => 127,
        (true, _) => 126,
        _ => 125,
    };
    let msg = format!(
        "{} {} {}",
        u8::from(e.exec),
        e.source.raw_os_error().unwrap_or(libc::EIO),
        e.step
    );
    let _ = nix::unistd::write(err_w, msg.as_bytes());
    process::exit_now(code)
}
