//! Terminals: the container's pty (opened inside its devpts, made its controlling terminal),
//! window sizes, and the SIGWINCH handler that copies the caller's size onto the pty.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};

/// Opens a new pty in the devpts mounted at `/dev/pts` (through `/dev/ptmx`, which points at
/// `pts/ptmx` in a container): returns (master, slave), both close-on-exec.
pub(crate) fn open_pty() -> io::Result<(OwnedFd, OwnedFd)> {
    use nix::fcntl::OFlag;
    let master = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)?;
    nix::pty::grantpt(&master)?;
    nix::pty::unlockpt(&master)?;
    let name = nix::pty::ptsname_r(&master)?;
    let slave = nix::fcntl::open(
        name.as_str(),
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )?;
    // SAFETY: `open` returned a fresh descriptor that nothing else owns.
    let slave = unsafe { OwnedFd::from_raw_fd(slave) };
    // SAFETY: `posix_openpt` returned a fresh descriptor; `PtyMaster` gives up ownership here.
    let master = unsafe { OwnedFd::from_raw_fd(std::os::fd::IntoRawFd::into_raw_fd(master)) };
    Ok((master, slave))
}

/// Makes `slave` the controlling terminal of a new session led by the calling process, and
/// its standard input, output and error.
pub(crate) fn make_controlling(slave: &OwnedFd) -> io::Result<()> {
    nix::unistd::setsid()?;
    // SAFETY: TIOCSCTTY takes an int argument (0: do not steal from another session).
    if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) } < 0 {
        return Err(io::Error::last_os_error());
    }
    for fd in 0..3 {
        nix::unistd::dup2(slave.as_raw_fd(), fd)?;
    }
    Ok(())
}

/// (rows, columns) of the terminal on `fd`.
pub(crate) fn window_size(fd: BorrowedFd<'_>) -> io::Result<(u16, u16)> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` into the valid, writable `ws`.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &raw mut ws) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((ws.ws_row, ws.ws_col))
}

/// Sets the window size of the terminal on `fd` (the kernel signals its foreground group).
pub(crate) fn set_window_size(fd: BorrowedFd<'_>, rows: u16, cols: u16) -> io::Result<()> {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one `winsize` from the valid `ws`.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &raw const ws) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

static RESIZE_FROM: AtomicI32 = AtomicI32::new(-1);
static RESIZE_TO: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_winch(_sig: libc::c_int) {
    let (from, to) = (
        RESIZE_FROM.load(Ordering::Relaxed),
        RESIZE_TO.load(Ordering::Relaxed),
    );
    if from < 0 || to < 0 {
        return;
    }
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: ioctl is async-signal-safe; `ws` is a valid winsize on this handler's stack.
    unsafe {
        if libc::ioctl(from, libc::TIOCGWINSZ, &raw mut ws) == 0 {
            libc::ioctl(to, libc::TIOCSWINSZ, &raw const ws);
        }
    }
}

/// On SIGWINCH, copies the window size of `from` (our terminal) onto `to` (the container's pty
/// master). Both descriptors must stay open while the handler is installed.
pub(crate) fn resize_on_sigwinch(from: RawFd, to: RawFd) -> io::Result<()> {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    RESIZE_FROM.store(from, Ordering::Relaxed);
    RESIZE_TO.store(to, Ordering::Relaxed);
    let action = SigAction::new(
        SigHandler::Handler(on_winch),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    // SAFETY: the handler only loads atomics and calls ioctl, both async-signal-safe.
    unsafe { sigaction(Signal::SIGWINCH, &action) }?;
    Ok(())
}

/// Takes ownership of a descriptor received over `SCM_RIGHTS`.
pub(crate) fn owned_received(fd: RawFd) -> OwnedFd {
    // SAFETY: the kernel installed `fd` in this process for this message only; nothing else
    // owns or closes it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}
