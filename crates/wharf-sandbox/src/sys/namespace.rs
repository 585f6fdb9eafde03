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
