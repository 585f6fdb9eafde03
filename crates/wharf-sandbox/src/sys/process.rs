//! Process creation for namespace entry: a forked child that unshares namespaces, waits for its
//! parent to write its ID maps, then executes a program.
//!
//! The child runs between `fork` and `execve` in a copy of a possibly multi-threaded parent, so
//! it only makes async-signal-safe calls (raw syscalls on prepared buffers, no allocation).

use std::ffi::{CString, c_char, c_int, c_uint};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;

/// A program and its argument and environment vectors, prepared before `fork` so the child
/// does not allocate.
pub(crate) struct PreparedExec {
    path: CString,
    // The pointer arrays below point into these; they must live as long as the struct.
    _argv: Vec<CString>,
    _envp: Vec<CString>,
    argv_ptrs: Vec<*const c_char>,
    envp_ptrs: Vec<*const c_char>,
}

impl PreparedExec {
    pub(crate) fn new(path: CString, argv: Vec<CString>, envp: Vec<CString>) -> Self {
        let mut argv_ptrs: Vec<*const c_char> = argv.iter().map(|a| a.as_ptr()).collect();
        argv_ptrs.push(std::ptr::null());
        let mut envp_ptrs: Vec<*const c_char> = envp.iter().map(|a| a.as_ptr()).collect();
        envp_ptrs.push(std::ptr::null());
        Self {
            path,
            _argv: argv,
            _envp: envp,
            argv_ptrs,
            envp_ptrs,
        }
    }
}

/// A child that has been forked and is (or will shortly be) waiting for [`NsChild::release`].
pub(crate) struct NsChild {
    pub(crate) pid: i32,
    ready_r: OwnedFd,
    go_w: Option<OwnedFd>,
}

/// What the child reports on the ready pipe: 0 after `unshare` succeeded, else the errno.
fn write_all_raw(fd: c_int, buf: &[u8]) -> bool {
    let mut done = 0;
    while done < buf.len() {
        // SAFETY: `buf[done..]` is a valid readable region of `buf.len() - done` bytes, and
        // `write` is async-signal-safe.
        let n = unsafe { libc::write(fd, buf[done..].as_ptr().cast(), buf.len() - done) };
        if n < 0 {
            // SAFETY: reading errno through libc's thread-local pointer is async-signal-safe.
            if unsafe { *libc::__errno_location() } == libc::EINTR {
                continue;
            }
            return false;
        }
        done += n as usize;
    }
    true
}

/// Forks a child that unshares `flags` (a `CLONE_NEW*` set), makes its mount tree private when
/// `CLONE_NEWNS` is among them, reports to the parent, waits for [`NsChild::release`], and then
/// executes `exec`. Exit codes of the child on its own failures: 125 (setup), 126 (exec failed),
/// 127 (program not found).
pub(crate) fn fork_into_namespaces(exec: &PreparedExec, flags: c_int) -> io::Result<NsChild> {
    let (ready_r, ready_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let (go_r, go_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: fork has no memory-safety preconditions; in the child we only call
    // async-signal-safe functions on data prepared before the fork (see `child_main`).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        child_main(
            exec,
            flags,
            parent,
            ready_w.as_raw_fd(),
            go_r.as_raw_fd(),
            go_w.as_raw_fd(),
        );
    }
    drop(ready_w);
    drop(go_r);
    Ok(NsChild {
        pid,
        ready_r,
        go_w: Some(go_w),
    })
}

fn child_main(
    exec: &PreparedExec,
    flags: c_int,
    parent: c_int,
    ready_w: c_int,
    go_r: c_int,
    go_w: c_int,
) -> ! {
    // SAFETY: every call below is a plain syscall wrapper from the async-signal-safe list (or
    // prctl/unshare/mount, raw syscalls without locks); all pointers come from `exec` or static
    // C string literals, which outlive the calls; `_exit` never returns.
    unsafe {
        libc::close(go_w);
        // Die with the parent: nobody would wait for us, nor write our maps.
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        );
        if libc::getppid() != parent {
            libc::_exit(125);
        }
        let mut status: i32 = 0;
        if libc::unshare(flags) != 0 {
            status = *libc::__errno_location();
        } else if flags & libc::CLONE_NEWNS != 0 {
            // Mounts made inside must not propagate back to the host, nor host mounts in.
            let root = c"/";
            if libc::mount(
                std::ptr::null(),
                root.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) != 0
            {
                status = *libc::__errno_location();
            }
        }
        if !write_all_raw(ready_w, &status.to_ne_bytes()) || status != 0 {
            libc::_exit(125);
        }
        let mut go = [1u8; 1];
        let n = loop {
            let n = libc::read(go_r, go.as_mut_ptr().cast(), 1);
            if n < 0 && *libc::__errno_location() == libc::EINTR {
                continue;
            }
            break n;
        };
        if n != 1 || go[0] != 0 {
            libc::_exit(125);
        }
        libc::execve(
            exec.path.as_ptr(),
            exec.argv_ptrs.as_ptr(),
            exec.envp_ptrs.as_ptr(),
        );
        let code = if *libc::__errno_location() == libc::ENOENT {
            127
        } else {
            126
        };
        libc::_exit(code);
    }
}

impl NsChild {
    /// Waits until the child has unshared its namespaces; returns the child's error otherwise.
    pub(crate) fn wait_ready(&self) -> io::Result<()> {
        let mut buf = [0u8; 4];
        let mut got = 0;
        while got < buf.len() {
            match nix::unistd::read(self.ready_r.as_raw_fd(), &mut buf[got..]) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "child exited before reporting",
                    ));
                }
                Ok(n) => got += n,
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        match i32::from_ne_bytes(buf) {
            0 => Ok(()),
            errno => Err(io::Error::from_raw_os_error(errno)),
        }
    }

    /// Lets the child go on to `execve` (`ok`) or makes it exit 125 (`!ok`).
    pub(crate) fn release(&mut self, ok: bool) -> io::Result<()> {
        if let Some(w) = self.go_w.take() {
            let byte = [u8::from(!ok)];
            nix::unistd::write(&w, &byte)?;
        }
        Ok(())
    }

    /// Kills the child (used when the parent cannot finish its part).
    pub(crate) fn kill(&self) {
        let _ = nix::sys::signal::kill(Pid::from_raw(self.pid), nix::sys::signal::Signal::SIGKILL);
    }
}

/// Waits for `pid` and returns its exit code the way a shell reports it (128+N for signal N).
pub(crate) fn wait_exit_code(pid: i32) -> io::Result<u8> {
    loop {
        match waitpid(Pid::from_raw(pid), None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(code as u8),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(128u8.wrapping_add(sig as u8)),
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Ignores SIGINT and SIGQUIT in the calling process while a foreground child runs, as
/// `system(3)` does: the terminal delivers them to the whole process group, the child decides.
/// Returns a guard that restores the previous dispositions.
pub(crate) fn ignore_terminal_signals() -> SignalGuard {
    use nix::sys::signal::{SigHandler, Signal, signal};
    // SAFETY: installing SIG_IGN runs no handler code, so no async-signal-safety concern.
    let int = unsafe { signal(Signal::SIGINT, SigHandler::SigIgn) }.ok();
    // SAFETY: as above.
    let quit = unsafe { signal(Signal::SIGQUIT, SigHandler::SigIgn) }.ok();
    SignalGuard { int, quit }
}

pub(crate) struct SignalGuard {
    int: Option<nix::sys::signal::SigHandler>,
    quit: Option<nix::sys::signal::SigHandler>,
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        use nix::sys::signal::{Signal, signal};
        if let Some(h) = self.int {
            // SAFETY: restores the disposition that was installed before; a handler that was
            // valid then is still valid.
            let _ = unsafe { signal(Signal::SIGINT, h) };
        }
        if let Some(h) = self.quit {
            // SAFETY: as above.
            let _ = unsafe { signal(Signal::SIGQUIT, h) };
        }
    }
}

/// Which side of a fork this is.
pub(crate) enum Forked {
    Child,
    Parent(i32),
}

/// fork(2). The child may allocate: glibc's fork resets the allocator's locks in the child;
/// it must not touch locks other threads could hold (stdio, the environment).
pub(crate) fn fork() -> io::Result<Forked> {
    // SAFETY: see above; callers in this crate only run the container set-up code in the
    // child, which takes no locks besides the allocator's, then exec or _exit.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(pid)),
    }
}

/// _exit(2): leave a forked child without running the parent's atexit handlers or destructors.
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and has no preconditions.
    unsafe { libc::_exit(code) }
}

/// PR_SET_PDEATHSIG: the calling process gets SIGKILL when its parent exits.
pub(crate) fn die_with_parent() -> io::Result<()> {
    // SAFETY: PR_SET_PDEATHSIG takes a signal number and no pointers.
    if unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        )
    } < 0
    {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Resets SIGINT/SIGQUIT/SIGTERM/SIGPIPE to their defaults (an ignored signal stays ignored
/// across exec, and the container's process must start with default dispositions).
pub(crate) fn default_signals() {
    use nix::sys::signal::{SigHandler, Signal, signal};
    for s in [
        Signal::SIGINT,
        Signal::SIGQUIT,
        Signal::SIGTERM,
        Signal::SIGPIPE,
    ] {
        // SAFETY: SIG_DFL runs no handler code.
        let _ = unsafe { signal(s, SigHandler::SigDfl) };
    }
}

/// Switches to `uid`/`gid` with supplementary `groups` (setgroups, setresgid, setresuid).
pub(crate) fn set_ids(uid: u32, gid: u32, groups: &[u32]) -> io::Result<()> {
    use nix::unistd::{Gid, Uid, setgroups, setresgid, setresuid};
    let groups: Vec<Gid> = groups.iter().map(|g| Gid::from_raw(*g)).collect();
    if let Err(e) = setgroups(&groups) {
        // A single-ID user namespace denies setgroups for good: when the process has no group
        // beyond those asked for and the one it switches to, nothing is left to drop. (Read
        // with getgroups, not /proc/self/setgroups: after a chroot there may be no /proc.)
        let harmless = nix::unistd::getgroups().is_ok_and(|have| {
            have.iter()
                .all(|g| g.as_raw() == gid || groups.iter().any(|w| w == g))
        });
        if !(e == nix::errno::Errno::EPERM && harmless) {
            return Err(e.into());
        }
    }
    let g = Gid::from_raw(gid);
    setresgid(g, g, g)?;
    let u = Uid::from_raw(uid);
    setresuid(u, u, u)?;
    Ok(())
}

/// execve(2) of the container's process; returns only on failure. Every descriptor above the
/// standard streams is marked close-on-exec first: whatever the caller had open (a directory
/// of the host, `/` itself) must not cross into the container, and the set-up report pipe,
/// already close-on-exec, still tells the parent that the exec happened by closing.
pub(crate) fn exec(path: &std::ffi::CStr, args: &[CString], env: &[CString]) -> io::Error {
    if let Err(e) = cloexec_from(3) {
        return e;
    }
    match nix::unistd::execve(path, args, env) {
        Err(e) => e.into(),
        Ok(never) => match never {},
    }
}

/// setrlimit(2) for the calling process; `resource` is a `RLIMIT_*` number.
pub(crate) fn setrlimit(resource: u32, soft: u64, hard: u64) -> io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: `limit` is a valid rlimit structure that lives for the call.
    if unsafe { libc::setrlimit(resource as _, &raw const limit) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

static FORWARD_TO: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// Signals that arrived before there was a process to pass them to (bit N: signal N).
static PENDING: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

extern "C" fn forward(sig: libc::c_int) {
    let pid = FORWARD_TO.load(std::sync::atomic::Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe and takes no pointers.
        unsafe { libc::kill(pid, sig) };
    } else if (0..64).contains(&sig) {
        PENDING.fetch_or(1 << sig, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The signals a relay process passes on to the container.
pub(crate) const FORWARDED: [libc::c_int; 7] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
];

/// Makes the calling (single-threaded) process keep [`FORWARDED`] signals until
/// [`forward_signals_to`] names their receiver, instead of dying of them: a `berth run` told
/// to stop while its container starts passes the signal on rather than leaving the container
/// behind. Handlers (unlike ignored signals) are reset by exec, so a program started
/// meanwhile gets the default dispositions.
pub(crate) fn defer_signals() -> io::Result<()> {
    FORWARD_TO.store(0, std::sync::atomic::Ordering::SeqCst);
    install_forwarder()
}

/// Makes the calling (single-threaded) process pass [`FORWARDED`] signals on to `pid`,
/// including those that arrived since [`defer_signals`].
pub(crate) fn forward_signals_to(pid: i32) -> io::Result<()> {
    FORWARD_TO.store(pid, std::sync::atomic::Ordering::SeqCst);
    install_forwarder()?;
    let pending = PENDING.swap(0, std::sync::atomic::Ordering::SeqCst);
    for sig in FORWARDED {
        if pending & (1 << sig) != 0 {
            // SAFETY: kill takes no pointers.
            unsafe { libc::kill(pid, sig) };
        }
    }
    Ok(())
}

fn install_forwarder() -> io::Result<()> {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    let action = SigAction::new(
        SigHandler::Handler(forward),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for sig in FORWARDED {
        let sig = Signal::try_from(sig)?;
        // SAFETY: the handler only loads an atomic and calls kill, both async-signal-safe.
        unsafe { sigaction(sig, &action) }?;
    }
    Ok(())
}

/// PR_SET_CHILD_SUBREAPER: orphaned descendants (a container an external runtime started
/// detached) are reparented to the calling process, which can then wait for them.
pub(crate) fn set_child_subreaper() -> io::Result<()> {
    // SAFETY: PR_SET_CHILD_SUBREAPER takes an integer flag and no pointers.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Makes `cmd`'s child join the namespaces `fds` (open `/proc/PID/ns/*` files, user first)
/// between fork and exec.
pub(crate) fn join_before_exec(cmd: &mut std::process::Command, fds: Vec<OwnedFd>) {
    use std::os::unix::process::CommandExt as _;
    let raw: Vec<c_int> = fds.iter().map(AsRawFd::as_raw_fd).collect();
    let keep = std::sync::Arc::new(fds);
    // SAFETY: the closure runs in the forked child before exec and only calls setns(2), an
    // async-signal-safe syscall, on descriptors kept open by `keep` (moved into the closure,
    // so they outlive the spawn); it does not allocate.
    unsafe {
        cmd.pre_exec(move || {
            let _ = &keep;
            for fd in &raw {
                if libc::setns(*fd, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

/// Moves the calling process into its own process group and makes that group the foreground
/// of the terminal on stdin (what a shell does for a job; tini does it for its child), so
/// that ^C from the terminal reaches the command, not its init.
pub(crate) fn take_terminal_foreground() -> io::Result<()> {
    use nix::sys::signal::{SigHandler, Signal, signal};
    nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0))?;
    // A background group calling tcsetpgrp gets SIGTTOU unless it ignores it.
    // SAFETY: SIG_IGN runs no handler code.
    let previous = unsafe { signal(Signal::SIGTTOU, SigHandler::SigIgn) }?;
    let r = nix::unistd::tcsetpgrp(std::io::stdin(), nix::unistd::getpgrp());
    // SAFETY: restores the disposition that was installed before.
    let _ = unsafe { signal(Signal::SIGTTOU, previous) };
    r.map_err(io::Error::from)
}

/// Marks every descriptor from `first` up close-on-exec: `close_range(2)` with
/// `CLOSE_RANGE_CLOEXEC` (Linux 5.11), else one `fcntl` per descriptor listed in
/// `/proc/self/fd`. An error here must stop the exec: a descriptor left inheritable is a leak.
pub(crate) fn cloexec_from(first: c_int) -> io::Result<()> {
    let first = c_uint::try_from(first).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: close_range takes two integers and a flag word and no pointers; with
    // CLOSE_RANGE_CLOEXEC it closes nothing, so no descriptor owned elsewhere is invalidated.
    let r = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if r == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    if !matches!(err.raw_os_error(), Some(libc::ENOSYS | libc::EINVAL)) {
        return Err(err);
    }
    // Older kernels: the directory's own descriptor is among those listed, and marking it
    // close-on-exec too is harmless.
    for entry in std::fs::read_dir("/proc/self/fd")? {
        let Some(fd) = entry?
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<c_int>().ok())
        else {
            continue;
        };
        if fd < first as c_int {
            continue;
        }
        // SAFETY: F_GETFD/F_SETFD take an integer; an fd that closed meanwhile gives EBADF.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        // SAFETY: as above.
        if flags >= 0 && unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Closes every descriptor from `first` up (a process that stays in the container, such as
/// `--init`'s PID 1, keeps nothing the caller had open). Best effort: a failure leaves them to
/// [`set_non_dumpable`], which already keeps the container from reaching them.
pub(crate) fn close_from(first: c_int) {
    let Ok(first) = c_uint::try_from(first) else {
        return;
    };
    // SAFETY: close_range takes integers only; the caller owns every descriptor from `first`
    // up (it is a forked child about to run the container's code, holding no Rust handles
    // to them that are used afterwards).
    let _ = unsafe { libc::syscall(libc::SYS_close_range, first, c_uint::MAX, 0 as c_uint) };
}

/// PR_SET_DUMPABLE 0: the calling process (and its forks, until one of them executes a
/// program) can no longer be ptraced, nor can its `/proc/PID/{exe,mem,fd,environ,...}` be
/// opened, by processes of the same user without CAP_SYS_PTRACE over it. A runtime process
/// that enters a container's PID namespace is a fork of the host binary: without this, a
/// process in the container could attach to it, or open `/proc/PID/exe` and so reach the host
/// binary (CVE-2019-5736). Changing credentials keeps it at 0 (`suid_dumpable`); the exec of
/// the container's program resets it, to the program's own.
pub(crate) fn set_non_dumpable() -> io::Result<()> {
    // SAFETY: PR_SET_DUMPABLE takes an integer and no pointers.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0 as libc::c_ulong, 0, 0, 0) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The seals of a copy of the executable: no write, resize or further change of the seals.
const EXE_SEALS: c_int =
    libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;

/// Whether `fd` is a memfd carrying every seal of [`EXE_SEALS`].
pub(crate) fn is_sealed(fd: BorrowedFd<'_>) -> bool {
    // SAFETY: F_GET_SEALS takes no argument; a file that is not a memfd gives EINVAL.
    let seals = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) };
    seals >= 0 && seals & EXE_SEALS == EXE_SEALS
}

/// Whether `fd`'s file is on a read-only mount: nothing reached through it can be written.
pub(crate) fn on_read_only_mount(fd: BorrowedFd<'_>) -> bool {
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `st` is a writable statvfs that fstatvfs fills on success only, after which it
    // is read.
    if unsafe { libc::fstatvfs(fd.as_raw_fd(), st.as_mut_ptr()) } != 0 {
        return false;
    }
    // SAFETY: fstatvfs succeeded, so `st` is initialized.
    let st = unsafe { st.assume_init() };
    st.f_flag & libc::ST_RDONLY != 0
}

/// A new close-on-exec, sealable, executable memfd named `name`.
pub(crate) fn sealable_memfd(name: &std::ffi::CStr) -> io::Result<OwnedFd> {
    use std::os::fd::FromRawFd as _;
    let base = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
    // MFD_EXEC (Linux 6.3) keeps `vm.memfd_noexec` from refusing the exec; older kernels do not
    // know the flag (EINVAL) and make every memfd executable.
    let mut last = io::Error::from_raw_os_error(libc::EINVAL);
    for flags in [base | libc::MFD_EXEC, base] {
        // SAFETY: `name` is a valid C string for the call; the flags are plain bits.
        let fd = unsafe { libc::memfd_create(name.as_ptr(), flags) };
        if fd >= 0 {
            // SAFETY: memfd_create returned a new descriptor that nothing else owns.
            return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
        }
        last = io::Error::last_os_error();
        if last.raw_os_error() != Some(libc::EINVAL) {
            break;
        }
    }
    Err(last)
}

/// Adds [`EXE_SEALS`] to the memfd `fd`.
pub(crate) fn seal(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: F_ADD_SEALS takes an integer set of seals.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, EXE_SEALS) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// fexecve(3) of `fd`; returns only on failure.
pub(crate) fn fexec(fd: BorrowedFd<'_>, args: &[CString], env: &[CString]) -> io::Error {
    match nix::unistd::fexecve(fd.as_raw_fd(), args, env) {
        Err(e) => e.into(),
        Ok(never) => match never {},
    }
}
