//! `berth run -t` in the foreground: the container's pty master comes back to berth (from the
//! embedded runtime over a socket pair, from runc over `--console-socket`); berth's terminal
//! goes raw with `-i` (restored on every exit path), input and output are relayed, and window
//! size changes follow berth's terminal.

use std::os::fd::{AsFd as _, OwnedFd};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Context as _;
use wharf_sandbox::console::{self, ConsoleSocket, RawMode};

use crate::commands::run::{Prepared, sandbox_err};
use wharf_container::runtime::exit_code;
use wharf_container::{self as container, State};

/// Whether the container's spec asks for a terminal.
pub fn wants_terminal(spec: &oci_spec::runtime::Spec) -> bool {
    spec.process()
        .as_ref()
        .and_then(oci_spec::runtime::Process::terminal)
        == Some(true)
}

/// A container that an external runtime started detached with a terminal.
pub struct ExternalTty {
    /// The container's process (adopted by the caller, a subreaper).
    pub pid: i32,
    pub master: OwnedFd,
}

/// `RUNTIME --root DIR/runtime create --pid-file DIR/pid --console-socket SOCKET -b DIR/bundle
/// ID`, the terminal's size set from `size_from` (when a terminal), then `RUNTIME start ID`.
/// runc hands a console socket's terminal over only when it detaches, so the caller becomes
/// the subreaper that adopts the container's process and waits for it (conmon's way).
pub fn start_external(
    dir: &Path,
    runtime: &str,
    id: &str,
    size_from: Option<std::os::fd::BorrowedFd<'_>>,
) -> anyhow::Result<ExternalTty> {
    wharf_sandbox::runtime::become_subreaper().map_err(sandbox_err)?;
    let socket = ConsoleSocket::bind(&socket_path(id)?).context("console socket")?;
    let pid_file = dir.join("container.pid");
    let mut child = Command::new(runtime)
        .arg("--root")
        .arg(dir.join("runtime"))
        .arg("create")
        .arg("--pid-file")
        .arg(&pid_file)
        .arg("--console-socket")
        .arg(socket.path())
        .arg("-b")
        .arg(dir.join("bundle"))
        .arg(id)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .with_context(|| format!("starting the OCI runtime {runtime}"))?;
    let master = receive_master(&socket, &mut child)?;
    let status = child.wait().context("waiting for the OCI runtime")?;
    if !status.success() {
        return Err(wharf_cli::ExitError {
            code: 125,
            message: format!("the OCI runtime {runtime} failed to start the container"),
        }
        .into());
    }
    if let Some(from) = size_from {
        console::follow_window_size(from, master.as_fd()).context("window size")?;
    }
    let started = Command::new(runtime)
        .arg("--root")
        .arg(dir.join("runtime"))
        .args(["start", id])
        .stdin(std::process::Stdio::null())
        .status()
        .with_context(|| format!("starting the OCI runtime {runtime}"))?;
    if !started.success() {
        wharf_container::runtime::delete(dir, runtime, id);
        return Err(wharf_cli::ExitError {
            code: 125,
            message: format!("the OCI runtime {runtime} failed to start the container"),
        }
        .into());
    }
    let text = std::fs::read_to_string(&pid_file)
        .with_context(|| format!("reading {}", pid_file.display()))?;
    let pid = text
        .trim()
        .parse()
        .with_context(|| format!("bad pid {text:?} in {}", pid_file.display()))?;
    Ok(ExternalTty { pid, master })
}

/// Where the console socket of container `id` listens: in the caller's private runtime
/// directory, where no other user can connect first and hand over a terminal of their own
/// (which would then receive what is typed); not in the store, whose paths can be longer than
/// a unix socket address allows (108 bytes).
pub fn socket_path(id: &str) -> anyhow::Result<std::path::PathBuf> {
    let dir = wharf_sandbox::runtime_dir::ensure()?;
    Ok(dir.join(format!("console-{}.sock", &id[..id.len().min(16)])))
}

/// Waits for the runtime to connect to `socket` and send the pty master, while `child` lives.
pub fn receive_master(
    socket: &ConsoleSocket,
    child: &mut std::process::Child,
) -> anyhow::Result<OwnedFd> {
    socket.set_nonblocking(true).context("console socket")?;
    loop {
        match socket.receive() {
            Ok(fd) => return Ok(fd),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e).context("receiving the terminal from the OCI runtime"),
        }
        if let Some(status) = child.try_wait().context("waiting for the OCI runtime")? {
            let code = exit_code(status);
            return Err(wharf_cli::ExitError {
                code,
                message: "the OCI runtime exited before handing over the terminal".into(),
            }
            .into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub fn foreground(p: &Prepared, interactive: bool) -> anyhow::Result<u8> {
    let stdin = std::io::stdin();
    let _raw = if interactive && console::is_terminal(stdin.as_fd()) {
        Some(RawMode::enter(stdin.as_fd()).context("putting the terminal into raw mode")?)
    } else {
        None
    };
    let input = if interactive {
        Some(stdin.as_fd().try_clone_to_owned().context("dup stdin")?)
    } else {
        None
    };
    let mut stdout = std::io::stdout();
    if p.record.runtime == "embedded" {
        let mut c =
            wharf_sandbox::runtime::start(&p.bundle.spec, &p.bundle.dir).map_err(sandbox_err)?;
        let master = c
            .take_console()
            .context("the runtime did not hand over the terminal")?;
        let state = State::started(c.pid(), None);
        wharf_sandbox::runtime::forward_signals(c.pid()).map_err(sandbox_err)?;
        console::follow_window_size(stdin.as_fd(), master.as_fd()).context("window size")?;
        container::write_json(&p.dir, container::STATE, &state)?;
        console::relay(&master, input, &mut stdout).context("relaying the terminal")?;
        c.wait().map_err(sandbox_err)
    } else {
        let started = start_external(&p.dir, &p.record.runtime, &p.record.id, Some(stdin.as_fd()))?;
        let state = State::started(started.pid, None);
        wharf_sandbox::runtime::forward_signals(started.pid).map_err(sandbox_err)?;
        // SIGWINCH resizes the pty instead of being forwarded.
        console::follow_window_size(stdin.as_fd(), started.master.as_fd())
            .context("window size")?;
        container::write_json(&p.dir, container::STATE, &state)?;
        let relayed = console::relay(&started.master, input, &mut stdout);
        let code = wharf_sandbox::runtime::wait_pid(started.pid).map_err(sandbox_err);
        wharf_container::runtime::delete(&p.dir, &p.record.runtime, &p.record.id);
        relayed.context("relaying the terminal")?;
        code
    }
}
