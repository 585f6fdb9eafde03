//! Namespaces: unshare(2) and the UTS hostname.

use std::io;

/// unshare(2) with a set of `CLONE_NEW*` flags.
pub(crate) fn unshare(flags: libc::c_int) -> io::Result<()> {
    nix::sched::unshare(nix::sched::CloneFlags::from_bits_retain(flags)).map_err(io::Error::from)
}

/// sethostname(2) in the calling process's UTS namespace.
pub(crate) fn sethostname(name: &str) -> io::Result<()> {
    nix::unistd::sethostname(name).map_err(io::Error::from)
}

/// setns(2) into the network namespace `fd` refers to (an open `/proc/PID/ns/net` or a file
/// bound to one).
pub(crate) fn setns_net(fd: &std::os::fd::OwnedFd) -> io::Result<()> {
    nix::sched::setns(fd, nix::sched::CloneFlags::CLONE_NEWNET).map_err(io::Error::from)
}

/// setns(2): joins the namespace `fd` refers to (an open `/proc/PID/ns/*` file).
pub(crate) fn setns(fd: std::os::fd::BorrowedFd<'_>) -> io::Result<()> {
    nix::sched::setns(fd, nix::sched::CloneFlags::empty()).map_err(io::Error::from)
}

/// Whether unshare(2) with `flags` works here, tried in a throwaway child (a process cannot
/// leave a namespace it entered); the child's errno comes back as its exit code.
pub(crate) fn probe_unshare(flags: libc::c_int) -> io::Result<()> {
    use super::process::{Forked, exit_now, fork, wait_exit_code};
    match fork()? {
        Forked::Child => {
            let code = match unshare(flags) {
                Ok(()) => 0,
                Err(e) => e.raw_os_error().unwrap_or(libc::EIO).clamp(1, 255),
            };
            exit_now(code)
        }
        Forked::Parent(pid) => match wait_exit_code(pid)? {
            0 => Ok(()),
            errno => Err(io::Error::from_raw_os_error(i32::from(errno))),
        },
    }
}

/// chroot(2): the calling process's root becomes `path`.
pub(crate) fn chroot(path: &std::path::Path) -> io::Result<()> {
    nix::unistd::chroot(path).map_err(io::Error::from)
}
