//! A container's terminal (`-t`) as seen from the caller: the pty master arrives over a unix
//! socket with `SCM_RIGHTS` (runc's `--console-socket` protocol, which the embedded runtime
//! speaks too); the caller's own terminal goes raw while it relays both ways, and window size
//! changes follow it (SIGWINCH -> `TIOCSWINSZ`).

use std::io::{self, Read as _, Write as _};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;

use nix::sys::socket::{ControlMessage, ControlMessageOwned, MsgFlags, recvmsg, sendmsg};
use nix::sys::termios::{self, SetArg, Termios};

/// Sends `fd` over the connected unix socket `socket`, as runc's console socket does.
pub fn send_fd(socket: BorrowedFd<'_>, fd: BorrowedFd<'_>) -> io::Result<()> {
    let fds = [fd.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let payload = [io::IoSlice::new(b"console")];
    sendmsg::<()>(socket.as_raw_fd(), &payload, &cmsg, MsgFlags::empty(), None)?;
    Ok(())
}

/// Receives one file descriptor sent with `SCM_RIGHTS` on `socket`.
pub fn recv_fd(socket: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let mut buf = [0u8; 256];
    let mut iov = [io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<()>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )?;
    for c in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = c
            && let Some(fd) = fds.first()
        {
            return Ok(owned(*fd));
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        "no file descriptor in the console socket's message",
    ))
}

fn owned(fd: RawFd) -> OwnedFd {
    // A descriptor just received over SCM_RIGHTS belongs to nobody else.
    crate::sys::tty::owned_received(fd)
}

/// Whether `fd` is a terminal.
pub fn is_terminal(fd: BorrowedFd<'_>) -> bool {
    nix::unistd::isatty(fd.as_raw_fd()).unwrap_or(false)
}

/// The caller's terminal in raw mode; the previous mode comes back on drop (also on errors
/// and panics that unwind).
pub struct RawMode {
    fd: OwnedFd,
    saved: Termios,
}

impl RawMode {
    /// Puts the terminal on `fd` into raw mode.
    pub fn enter(fd: BorrowedFd<'_>) -> io::Result<Self> {
        let fd = fd.try_clone_to_owned()?;
        let saved = termios::tcgetattr(&fd)?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(&fd, SetArg::TCSANOW, &raw)?;
        Ok(Self { fd, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(&self.fd, SetArg::TCSADRAIN, &self.saved);
    }
}

/// A duplicate of the first of standard input, output and error that is a terminal (the one
/// whose size a container's terminal follows: input may be /dev/null without `-i`).
pub fn stdio_terminal() -> Option<OwnedFd> {
    [
        io::stdin().as_fd().try_clone_to_owned(),
        io::stdout().as_fd().try_clone_to_owned(),
        io::stderr().as_fd().try_clone_to_owned(),
    ]
    .into_iter()
    .flatten()
    .find(|fd| is_terminal(fd.as_fd()))
}

/// The window size (rows, columns) of the first terminal among the standard streams.
pub fn stdio_window_size() -> Option<(u16, u16)> {
    stdio_terminal().and_then(|fd| crate::sys::tty::window_size(fd.as_fd()).ok())
}

/// Copies the window size of the terminal `from` onto the pty `to` now, and on every SIGWINCH
/// the calling process receives from now on. `to` must stay open meanwhile.
pub fn follow_window_size(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> io::Result<()> {
    if let Ok((rows, cols)) = crate::sys::tty::window_size(from) {
        crate::sys::tty::set_window_size(to, rows, cols)?;
    }
    crate::sys::tty::resize_on_sigwinch(from.as_raw_fd(), to.as_raw_fd())
}

/// Relays a container's pty: `input` (when given) to the master on a background thread, the
/// master to `output` until the container's side is closed. Returns when the output is done;
/// the input thread is left blocked on its read (the caller is about to exit).
pub fn relay(
    master: &OwnedFd,
    input: Option<OwnedFd>,
    output: &mut dyn io::Write,
) -> io::Result<()> {
    if let Some(input) = input {
        let mut to = std::fs::File::from(master.try_clone()?);
        std::thread::spawn(move || {
            let mut from = std::fs::File::from(input);
            let mut buf = [0u8; 4096];
            loop {
                match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
        });
    }
    copy_out(master.as_fd(), output)
}

/// Copies the master's output until the slave side is gone (EIO) or end of file.
pub fn copy_out(master: BorrowedFd<'_>, output: &mut dyn io::Write) -> io::Result<()> {
    let mut from = std::fs::File::from(master.try_clone_to_owned()?);
    let mut buf = [0u8; 8192];
    loop {
        match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                output.write_all(&buf[..n])?;
                output.flush()?;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // The last process holding the slave has exited.
            Err(e) if e.raw_os_error() == Some(libc::EIO) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// A listening console socket for an external runtime (`runc --console-socket PATH`).
pub struct ConsoleSocket {
    listener: std::os::unix::net::UnixListener,
    path: std::path::PathBuf,
}

impl ConsoleSocket {
    /// Listens on `path` (replacing a stale socket file), connectable by the owner only.
    /// `path` belongs in the caller's private [`crate::runtime_dir`]: whoever connects first
    /// gets to hand over the terminal.
    pub fn bind(path: &std::path::Path) -> io::Result<Self> {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::remove_file(path);
        let listener = std::os::unix::net::UnixListener::bind(path)?;
        let socket = Self {
            listener,
            path: path.to_path_buf(),
        };
        // Whatever the umask gave it (the directory already keeps others out).
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        Ok(socket)
    }

    /// Makes [`ConsoleSocket::receive`] return `WouldBlock` instead of waiting for a connection.
    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        self.listener.set_nonblocking(on)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Accepts the runtime's connection and receives the pty master.
    pub fn receive(&self) -> io::Result<OwnedFd> {
        let (stream, _): (UnixStream, _) = self.listener.accept()?;
        recv_fd(stream.as_fd())
    }
}

impl Drop for ConsoleSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
