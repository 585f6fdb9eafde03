//! `exec` into a running container of the embedded runtime: C1 joins the namespaces of the
//! container's PID 1 through `/proc/PID/ns/*` (user first, which grants the rights to join the
//! others), then forks C2, which lands in the container's PID namespace, takes the spec's
//! capabilities, `no_new_privs` and seccomp filter, and executes the command. C1 makes itself
//! non-dumpable before it joins anything, so the container can neither ptrace C2 nor open its
//! `/proc` entries while C2 still runs the host binary. As with
//! [`super::start`], C1 relays signals and the exit status; set-up failures come back on a
//! close-on-exec pipe.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use oci_spec::runtime::Spec;

use super::init::{self, InitPlan, StepError};
use super::{Container, process};
use crate::error::SandboxError;
use crate::sys::namespace;
use crate::syscall::LinuxSyscall;

/// What to run in the container, besides what its spec fixes (capabilities, seccomp,
/// `no_new_privs`, environment).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOptions {
    pub args: Vec<String>,
    /// `KEY=VALUE` entries over the spec's environment.
    pub env: Vec<String>,
    /// `name`, `uid`, `uid:gid`, resolved in the container's `/etc/passwd`; the spec's user
    /// when `None`.
    pub user: Option<String>,
    /// The spec's working directory when `None`.
    pub cwd: Option<PathBuf>,
    /// A new pty from the container's devpts: [`Container::take_console`].
    pub terminal: bool,
}

/// The namespaces joined, user first.
const NAMESPACES: [&str; 7] = ["user", "mnt", "pid", "ipc", "uts", "net", "cgroup"];

/// The container's PID 1 under the relay process `relay` ([`Container::pid`]): its only child.
pub fn container_init_pid(relay: i32) -> Option<i32> {
    let wanted = relay.to_string();
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: i32 = e.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
        // "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
        let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?;
        (ppid == wanted).then_some(pid)
    })
}

/// Makes `cmd` run in the user and mount namespaces of `pid` (an external runtime's
/// `exec` must run where its `run` did: berth's rootless namespace of that container).
pub fn command_in_namespaces_of(
    pid: i32,
    cmd: &mut std::process::Command,
) -> Result<(), SandboxError> {
    let fds = open_namespaces(pid, &["user", "mnt"])?;
    process::join_before_exec(cmd, fds);
    Ok(())
}

/// Opens the namespaces of `pid` that differ from the caller's (joining one's own user
/// namespace is an error).
fn open_namespaces(pid: i32, which: &[&str]) -> Result<Vec<OwnedFd>, SandboxError> {
    let mut fds = Vec::new();
    for ns in which {
        let path = PathBuf::from(format!("/proc/{pid}/ns/{ns}"));
        let theirs = std::fs::metadata(&path).map_err(|source| SandboxError::Read {
            path: path.clone(),
            source,
        })?;
        let ours = std::fs::metadata(format!("/proc/self/ns/{ns}")).ok();
        if ours.is_some_and(|o| o.ino() == theirs.ino() && o.dev() == theirs.dev()) {
            continue;
        }
        let f = File::open(&path).map_err(|source| SandboxError::Read { path, source })?;
        fds.push(OwnedFd::from(f));
    }
    Ok(fds)
}

/// Runs `opts` in the running container whose PID 1 is `pid` and whose spec is `spec`
/// (relative paths against `bundle`). Returns once the command has been executed; wait with
/// [`Container::wait`]. A missing or non-executable command is
/// [`SandboxError::ContainerExec`] (127/126).
pub fn exec(
    spec: &Spec,
    bundle: &Path,
    pid: i32,
    opts: &ExecOptions,
) -> Result<Container, SandboxError> {
    let mut plan = InitPlan::from_spec(spec, bundle, true)?;
    if opts.args.is_empty() {
        return Err(SandboxError::InvalidInput {
            what: "command",
            value: String::new(),
            reason: "exec needs a command".into(),
        });
    }
    plan.args.clone_from(&opts.args);
    plan.env = crate::spec::merge_env_lists(&plan.env, &opts.env);
    if let Some(cwd) = &opts.cwd {
        plan.cwd.clone_from(cwd);
    }
    plan.terminal = opts.terminal;
    let namespaces = open_namespaces(pid, &NAMESPACES)?;

    let cloexec = nix::fcntl::OFlag::O_CLOEXEC;
    let (err_r, err_w) = nix::unistd::pipe2(cloexec).map_err(|e| SandboxError::Fork(e.into()))?;
    let console = if opts.terminal {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().map_err(SandboxError::Fork)?;
        Some((OwnedFd::from(ours), OwnedFd::from(theirs)))
    } else {
        None
    };
    match process::fork().map_err(SandboxError::Fork)? {
        process::Forked::Child => {
            drop(err_r);
            let theirs = console.map(|(ours, theirs)| {
                drop(ours);
                theirs
            });
            joiner(
                &plan,
                opts.user.as_deref(),
                &namespaces,
                err_w,
                theirs.as_ref(),
            )
        }
        process::Forked::Parent(child) => {
            drop((err_w, namespaces));
            let ours = console.map(|(ours, theirs)| {
                drop(theirs);
                ours
            });
            let pid = super::read_report(child, err_r)?;
            let mut c = super::Container {
                pid,
                cgroup: None,
                console: None,
            };
            if let Some(socket) = ours {
                match crate::console::recv_fd(socket.as_fd()) {
                    Ok(master) => c.console = Some(master),
                    Err(source) => {
                        let _ = c.signal(libc::SIGKILL);
                        let _ = c.wait();
                        return Err(SandboxError::ContainerSetup {
                            step: "receiving the terminal".into(),
                            source,
                        });
                    }
                }
            }
            Ok(c)
        }
    }
}

fn fail(step: &str, source: std::io::Error) -> StepError {
    StepError {
        step: step.to_string(),
        source,
        exec: false,
    }
}

/// C1: join the namespaces, fork the process (now in the container's PID namespace), relay.
fn joiner(
    plan: &InitPlan,
    user: Option<&str>,
    namespaces: &[OwnedFd],
    err_w: OwnedFd,
    console: Option<&OwnedFd>,
) -> ! {
    let _ = process::die_with_parent();
    // Before anything is joined: C2, forked below into the container's PID namespace, is a
    // copy of the host binary that the container must not be able to ptrace, nor reach through
    // `/proc/PID/exe` (CVE-2019-5736), until it has become the command.
    if let Err(e) = process::set_non_dumpable() {
        super::report_and_exit(&fail("making the runtime process non-dumpable", e), &err_w);
    }
    for fd in namespaces {
        if let Err(e) = namespace::setns(fd.as_fd()) {
            super::report_and_exit(&fail("joining the container's namespaces", e), &err_w);
        }
    }
    match process::fork() {
        Err(e) => super::report_and_exit(&fail("fork", e), &err_w),
        Ok(process::Forked::Child) => {
            let _ = process::die_with_parent();
            process::default_signals();
            let e = enter(plan, user, console);
            super::report_and_exit(&e, &err_w)
        }
        Ok(process::Forked::Parent(pid)) => {
            // The caller reads the report until every copy is closed: only C2's may stay
            // (closed by its exec), or `exec` would return, and relay a terminal, only once
            // the command has ended.
            drop(err_w);
            let _ = process::forward_signals_to(pid);
            let code = process::wait_exit_code(pid).unwrap_or(125);
            process::exit_now(i32::from(code))
        }
    }
}

/// C2, inside every namespace: the mount namespace's root is the container's root already.
fn enter(plan: &InitPlan, user: Option<&str>, console: Option<&OwnedFd>) -> StepError {
    let sys = LinuxSyscall;
    let mut plan = plan.clone();
    if let Some(user) = user {
        match crate::spec::resolve_user(Path::new("/"), user) {
            Ok(u) => {
                plan.uid = u.uid;
                plan.gid = u.gid;
                plan.groups = u.additional_gids;
                // A non-root user starts without effective capabilities, as in `run -u`.
                if u.uid != 0 {
                    plan.caps.effective = 0;
                    plan.caps.permitted = 0;
                    plan.caps.inheritable = 0;
                    plan.caps.ambient = 0;
                }
            }
            Err(e) => {
                return fail(
                    &format!("resolving the user {user}: {e}"),
                    std::io::Error::from_raw_os_error(libc::EINVAL),
                );
            }
        }
    }
    if let Some(socket) = console
        && let Err(e) = crate::syscall::Syscall::setup_console(&sys, socket.as_fd())
    {
        return fail("setting up the terminal", e);
    }
    if let Err(e) = init::enter_process(&sys, &plan) {
        return e;
    }
    init::exec_process(&sys, &plan)
}
