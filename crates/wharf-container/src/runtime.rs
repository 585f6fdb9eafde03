//! The external OCI runtime driver (runc, crun, youki: runc's command line), beside the
//! embedded runtime of `wharf-sandbox`. A container's runtime state lives in its own directory
//! (`DIR/runtime`, runc's `--root`), so that nothing outside the container's directory holds it.

use std::os::fd::{AsFd as _, BorrowedFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};

use wharf_sandbox::console::ConsoleSocket;

use crate::ContainerError;
use crate::error::{Ctx as _, bail, ensure};
use crate::record::Record;

/// The runtime `--runtime NAME` asks for: `embedded` (also when not given), a path, or a
/// program found in `PATH`.
pub fn program(name: Option<&str>) -> Result<String, ContainerError> {
    let Some(name) = name.filter(|n| *n != "embedded") else {
        return Ok("embedded".into());
    };
    if name.contains('/') {
        ensure!(
            Path::new(name).is_file(),
            "OCI runtime {name} does not exist"
        );
        return Ok(name.into());
    }
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()));
    if !found {
        bail!(
            "OCI runtime {name:?} not found in PATH; hint: install the Debian package {name}, or \
             leave --runtime out to use the embedded runtime"
        );
    }
    Ok(name.into())
}

/// `--init`: the embedded runtime's own init, or a static init from the host for an external
/// runtime.
pub fn init_mode(runtime: &str) -> Result<wharf_sandbox::spec::init::InitMode, ContainerError> {
    use wharf_sandbox::spec::init::{InitMode, find_init_binary};
    if runtime == "embedded" {
        return Ok(InitMode::Embedded);
    }
    match find_init_binary() {
        Some(path) => Ok(InitMode::Binary(path)),
        None => bail!(
            "--init with --runtime {runtime} needs an init binary on the host (catatonit, \
             tini-static or tini in PATH); hint: apt-get install catatonit, or leave --runtime \
             out to use the embedded runtime's own init"
        ),
    }
}

/// A warning for the user about `runtime` on this host, if there is one to give.
pub fn host_warning(runtime: &str) -> Option<&'static str> {
    (runtime == "crun" && Path::new("/sys/fs/cgroup/unified").is_dir()).then_some(
        "crun 1.8 refuses hybrid cgroup hosts like this one (\"cgroups in hybrid mode not \
         supported\"); use --runtime runc or the embedded runtime",
    )
}

/// `RUNTIME --root DIR/runtime` for the container in `dir`.
fn base(runtime: &str, dir: &Path) -> Command {
    let mut cmd = Command::new(runtime);
    cmd.arg("--root").arg(dir.join("runtime"));
    cmd
}

/// `RUNTIME --root DIR/runtime run -b DIR/bundle ID` for the container in `dir`: the runtime
/// process stays the container's parent and exits with it.
pub fn run_command(record: &Record, dir: &Path) -> Command {
    let mut cmd = base(&record.runtime, dir);
    cmd.arg("run")
        .arg("-b")
        .arg(dir.join("bundle"))
        .arg(&record.id);
    cmd
}

/// `RUNTIME delete --force ID`: when `runc run` itself was killed (`rm -f`), its container's
/// processes and cgroup would stay behind. Best effort: nothing to delete is fine.
pub fn delete(dir: &Path, runtime: &str, id: &str) {
    let _ = base(runtime, dir)
        .args(["delete", "--force", id])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Whether `RUNTIME state ID` says the container runs.
pub fn is_running(record: &Record, dir: &Path) -> bool {
    let out = base(&record.runtime, dir)
        .args(["state", &record.id])
        .stderr(Stdio::null())
        .output();
    out.ok()
        .and_then(|o| serde_json::from_slice::<serde_json::Value>(&o.stdout).ok())
        .is_some_and(|v| v["status"] == "running")
}

/// Polls `RUNTIME state ID` until the container runs, `child` (its `run`) exits, or 10 s pass.
pub fn wait_until_running(child: &mut std::process::Child, record: &Record, dir: &Path) {
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(10) {
        if !matches!(child.try_wait(), Ok(None)) || is_running(record, dir) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// A container that an external runtime started detached with a terminal.
pub struct ExternalTty {
    /// The container's process (adopted by the caller, a subreaper).
    pub pid: i32,
    pub master: OwnedFd,
}

/// `RUNTIME --root DIR/runtime create --pid-file DIR/container.pid --console-socket SOCKET -b
/// DIR/bundle ID`, the terminal's size set from `size_from` (when a terminal), then `RUNTIME
/// start ID`. runc hands a console socket's terminal over only when it detaches, so the
/// caller becomes the subreaper that adopts the container's process and waits for it
/// (conmon's way).
pub fn start_with_terminal(
    dir: &Path,
    runtime: &str,
    id: &str,
    size_from: Option<BorrowedFd<'_>>,
) -> Result<ExternalTty, ContainerError> {
    wharf_sandbox::runtime::become_subreaper()?;
    let socket = ConsoleSocket::bind(&console_socket_path(id)?).ctx(|| "console socket".into())?;
    let pid_file = dir.join("container.pid");
    let failed = || ContainerError::Runtime {
        code: 125,
        message: format!("the OCI runtime {runtime} failed to start the container"),
    };
    let mut child = base(runtime, dir)
        .arg("create")
        .arg("--pid-file")
        .arg(&pid_file)
        .arg("--console-socket")
        .arg(socket.path())
        .arg("-b")
        .arg(dir.join("bundle"))
        .arg(id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .ctx(|| format!("starting the OCI runtime {runtime}"))?;
    let master = receive_master(&socket, &mut child)?;
    let status = child.wait().ctx(|| "waiting for the OCI runtime".into())?;
    if !status.success() {
        return Err(failed());
    }
    if let Some(from) = size_from {
        wharf_sandbox::console::follow_window_size(from, master.as_fd())
            .ctx(|| "window size".into())?;
    }
    let started = base(runtime, dir)
        .args(["start", id])
        .stdin(Stdio::null())
        .status()
        .ctx(|| format!("starting the OCI runtime {runtime}"))?;
    if !started.success() {
        delete(dir, runtime, id);
        return Err(failed());
    }
    let text =
        std::fs::read_to_string(&pid_file).ctx(|| format!("reading {}", pid_file.display()))?;
    let pid = text
        .trim()
        .parse()
        .ctx(|| format!("bad pid {text:?} in {}", pid_file.display()))?;
    Ok(ExternalTty { pid, master })
}

/// Where the console socket of container `id` listens: in the caller's private runtime
/// directory, where no other user can connect first and hand over a terminal of their own
/// (which would then receive what is typed); not in the store, whose paths can be longer than
/// a unix socket address allows (108 bytes).
fn console_socket_path(id: &str) -> Result<std::path::PathBuf, ContainerError> {
    let dir = wharf_sandbox::runtime_dir::ensure().ctx(|| "the runtime directory".into())?;
    Ok(dir.join(format!("console-{}.sock", &id[..id.len().min(16)])))
}

/// Waits for the runtime to connect to `socket` and send the pty master, while `child` lives.
fn receive_master(
    socket: &ConsoleSocket,
    child: &mut std::process::Child,
) -> Result<OwnedFd, ContainerError> {
    socket
        .set_nonblocking(true)
        .ctx(|| "console socket".into())?;
    loop {
        match socket.receive() {
            Ok(fd) => return Ok(fd),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => {
                return Err(e).ctx(|| "receiving the terminal from the OCI runtime".into());
            }
        }
        if let Some(status) = child
            .try_wait()
            .ctx(|| "waiting for the OCI runtime".into())?
        {
            return Err(ContainerError::Runtime {
                code: exit_code(status),
                message: "the OCI runtime exited before handing over the terminal".into(),
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// What `berth exec` runs in a container of an external runtime.
#[derive(Debug, Clone, Default)]
pub struct ExecRequest {
    pub command: Vec<String>,
    /// `KEY=VALUE` on top of the container's environment.
    pub env: Vec<String>,
    /// `UID[:GID]` (an external runtime takes no names).
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub tty: bool,
    pub detach: bool,
}

/// `RUNTIME --root DIR/runtime exec [-t] [-d] [--env E]... [--user U] [--cwd D] ID CMD...` for
/// the container `found`. With a terminal the process goes to the runtime as a file
/// (`--process`, returned to be kept until the runtime has read it), which alone can carry the
/// terminal's size: set by the runtime before the process starts, where its own resize after
/// the start races with the process's first look (`stty size` saw 0 0).
pub fn exec_command(
    found: &crate::Found,
    req: &ExecRequest,
) -> Result<(Command, Option<tempfile::NamedTempFile>), ContainerError> {
    let mut cmd = base(&found.record.runtime, &found.dir);
    cmd.arg("exec");
    if req.detach {
        cmd.arg("-d");
    }
    if let Some(u) = &req.user {
        ensure!(
            u.split(':').all(|p| p.parse::<u32>().is_ok()),
            "with --runtime {}, exec -u takes UID[:GID], not {u:?}",
            found.record.runtime
        );
    }
    let process_file = if req.tty {
        let file = tempfile::Builder::new()
            .prefix("exec-")
            .suffix(".json")
            .tempfile_in(&found.dir)
            .ctx(|| format!("creating a process file in {}", found.dir.display()))?;
        write_process(found, req, file.path())?;
        cmd.arg("--process").arg(file.path());
        Some(file)
    } else {
        for e in &req.env {
            cmd.arg("--env").arg(e);
        }
        if let Some(u) = &req.user {
            cmd.arg("--user").arg(u);
        }
        if let Some(w) = &req.workdir {
            cmd.arg("--cwd").arg(w);
        }
        None
    };
    cmd.arg(&found.record.id);
    if process_file.is_none() {
        cmd.args(&req.command);
    }
    Ok((cmd, process_file))
}

/// The exec'd process for `RUNTIME exec --process PATH`: the container's process with the
/// command, `-e`, `-u UID[:GID]`, `-w`, a terminal, and the size of the caller's terminal.
fn write_process(
    found: &crate::Found,
    req: &ExecRequest,
    path: &Path,
) -> Result<(), ContainerError> {
    let spec = read_spec(&found.dir.join("bundle"))?;
    let mut process = spec.process().clone().unwrap_or_default();
    process.set_args(Some(req.command.clone()));
    let base = process.env().clone().unwrap_or_default();
    process.set_env(Some(wharf_sandbox::spec::merge_env_lists(&base, &req.env)));
    if let Some(w) = &req.workdir {
        process.set_cwd(w.into());
    }
    if let Some(u) = &req.user {
        let mut ids = u.split(':').map(str::parse::<u32>);
        if let Some(Ok(uid)) = ids.next() {
            process.user_mut().set_uid(uid);
        }
        if let Some(Ok(gid)) = ids.next() {
            process.user_mut().set_gid(gid);
        }
    }
    process.set_terminal(Some(req.tty));
    if let Some((rows, cols)) = wharf_sandbox::console::stdio_window_size() {
        let size = oci_spec::runtime::BoxBuilder::default()
            .height(u64::from(rows))
            .width(u64::from(cols))
            .build()
            .ctx(|| "the terminal size".into())?;
        process.set_console_size(Some(size));
    }
    let json = serde_json::to_vec(&process).ctx(|| "serialising the process".into())?;
    std::fs::write(path, json).ctx(|| format!("writing {}", path.display()))
}

/// `RUNTIME exec`'s exit code as podman gives it: the runtime's own failures (255) are told
/// apart by their message (`stderr`): 127 for a command not found, 126 for one that cannot be
/// executed.
pub fn exec_exit_code(code: u8, stderr: &str) -> u8 {
    match code {
        255 if stderr.contains("executable file not found") || stderr.contains("no such file") => {
            127
        }
        255 if stderr.contains("permission denied") => 126,
        c => c,
    }
}

/// A process's end as a shell's exit code: its code, or 128+N for signal N.
pub fn exit_code(status: std::process::ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(c), _) => u8::try_from(c & 0xff).unwrap_or(125),
        (None, Some(s)) => u8::try_from(128 + (s & 0x7f)).unwrap_or(125),
        _ => 125,
    }
}

/// Kills what is left in the container's cgroup and removes it. An external runtime deletes
/// its cgroup itself, but not when it was killed first (`rm -f` of a busy machine showed
/// runc's directories staying behind); this is the last chance, while `bundle/config.json`
/// still says where the cgroup is.
pub fn remove_leftover_cgroup(dir: &Path) {
    let Ok(bytes) = std::fs::read(dir.join("bundle/config.json")) else {
        return;
    };
    let Ok(spec) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return;
    };
    if let Some(path) = spec["linux"]["cgroupsPath"].as_str() {
        let cg = wharf_sandbox::cgroup::Cgroup::existing(path);
        cg.kill_all();
        cg.remove();
    }
}

/// The OCI runtime spec of the container's bundle (`bundle/config.json`).
pub fn read_spec(bundle: &Path) -> Result<oci_spec::runtime::Spec, ContainerError> {
    let path = bundle.join("config.json");
    let text = std::fs::read(&path).ctx(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&text).ctx(|| format!("parsing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_as_a_shell_gives_them() {
        use std::os::unix::process::ExitStatusExt as _;
        assert_eq!(exit_code(std::process::ExitStatus::from_raw(3 << 8)), 3);
        // Killed by SIGKILL (9).
        assert_eq!(exit_code(std::process::ExitStatus::from_raw(9)), 137);
    }

    #[test]
    fn runtime_programs() {
        assert_eq!(program(None).unwrap(), "embedded");
        assert_eq!(program(Some("embedded")).unwrap(), "embedded");
        let err = program(Some("no-such-runtime-x")).unwrap_err().to_string();
        assert!(
            err.contains("not found in PATH") && err.contains("hint"),
            "{err}"
        );
        assert!(program(Some("/no/such/runc")).is_err());
    }
}
