//! The monitor of a detached container (conmon's role): a re-execution of `berth` in the same
//! user and mount namespace as `run -d` (so the overlay mount stays alive with it), in its own
//! process group. It starts the container with its output on pipes, writes that output to
//! `ctr.log` in k8s-file format (`<RFC 3339 time> stdout|stderr F|P <text>`), records the pid,
//! then the exit code in `state.json`, and finally unmounts (and removes with `--rm`).

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::fd::{AsRawFd as _, OwnedFd};
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use wharf_store::Store;

use crate::cli::Cli;
use crate::commands::run::{Prepared, exit_code};
use crate::container::{self, State};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The container's directory
    pub dir: PathBuf,
}

/// `run -d`: starts the monitor and waits for its report ("ok" or "err CODE MESSAGE").
pub fn start_detached(_cli: &Cli, _store: &Store, p: &Prepared) -> anyhow::Result<ExitCode> {
    use std::os::unix::process::CommandExt as _;
    let spawned = std::process::Command::new("/proc/self/exe")
        .arg("container-monitor")
        .arg(&p.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            p.finish(true);
            return Err(e).context("starting the container monitor");
        }
    };
    // One line: the container's relay process keeps a copy of the pipe open until it ends.
    let mut report = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut report);
    }
    if report.trim() == "ok" {
        println!("{}", p.record.id);
        return Ok(ExitCode::SUCCESS);
    }
    let _ = child.wait();
    p.finish(true);
    let (code, message) = report
        .trim()
        .strip_prefix("err ")
        .and_then(|r| r.split_once(' '))
        .map_or((125, "the container monitor failed"), |(c, m)| {
            (c.parse().unwrap_or(125), m)
        });
    Err(wharf_cli::ExitError {
        code,
        message: message.to_string(),
    }
    .into())
}

enum Running {
    Embedded(wharf_sandbox::runtime::Container),
    External(std::process::Child),
    /// Started detached by an external runtime (`-t`); this monitor is its subreaper.
    Adopted(i32),
}

/// The hidden `berth container-monitor DIR` entry.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let dir = &args.dir;
    let found = container::load(dir)?;
    let bundle_dir = dir.join("bundle");
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .context("opening /dev/null")?;
    // Standard output is the report pipe to `run -d`; keep it aside.
    let mut report = std::fs::File::from(
        std::os::fd::AsFd::as_fd(&std::io::stdout())
            .try_clone_to_owned()
            .context("dup")?,
    );
    nix::unistd::dup2(null.as_raw_fd(), 0).context("dup2")?;
    let pipe = || -> anyhow::Result<(OwnedFd, OwnedFd)> {
        Ok(nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?)
    };
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;

    let spec = read_spec(&bundle_dir)?;
    let tty = super::tty::wants_terminal(&spec);
    let mut master = None;
    let started = if found.record.runtime == "embedded" {
        nix::unistd::dup2(out_w.as_raw_fd(), 1).context("dup2")?;
        nix::unistd::dup2(err_w.as_raw_fd(), 2).context("dup2")?;
        let r = wharf_sandbox::runtime::start(&spec, &bundle_dir);
        nix::unistd::dup2(null.as_raw_fd(), 1).context("dup2")?;
        nix::unistd::dup2(null.as_raw_fd(), 2).context("dup2")?;
        r.map(|mut c| {
            master = c.take_console();
            Running::Embedded(c)
        })
        .map_err(|e| (e.exit_code(), format!("{:#}", anyhow::Error::new(e))))
    } else if tty {
        start_external_tty(&found.record, dir, &mut master)
    } else {
        let mut cmd = crate::commands::run::external_in(&found.record, dir);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(out_w.try_clone()?))
            .stderr(Stdio::from(err_w.try_clone()?));
        let r = cmd.spawn().map(Running::External).map_err(|e| {
            (
                125,
                format!("starting the OCI runtime {}: {e}", found.record.runtime),
            )
        });
        drop(cmd);
        r
    };
    drop((out_w, err_w));
    let mut running = match started {
        Ok(r) => r,
        Err((code, msg)) => {
            let _ = writeln!(report, "err {code} {}", msg.replace('\n', " "));
            return Ok(ExitCode::from(code));
        }
    };
    if let Running::External(child) = &mut running {
        // `run -d` returns once the container exists (so that `exec` can follow at once).
        wait_until_running(child, &found.record, dir);
    }
    let pid = match &running {
        Running::Embedded(c) => c.pid(),
        Running::External(c) => i32::try_from(c.id()).unwrap_or_default(),
        Running::Adopted(pid) => *pid,
    };
    let mut state = State {
        status: "running".into(),
        pid: Some(pid),
        monitor_pid: Some(i32::try_from(std::process::id()).unwrap_or_default()),
        started: Some(container::now()),
        ..State::default()
    };
    container::write_json(dir, container::STATE, &state)?;
    let _ = writeln!(report, "ok");
    drop(report);
    // From here on, the small monitor does the rest in this process's place (and pid): the
    // container stays its child (adopted ones too: the subreaper flag survives the exec).
    // Only where nothing but waiting and logging is left: an external runtime must be told to
    // delete its container (a killed `runc run` leaves it running, holding the log pipes), a
    // private network's helper must be stopped, a cgroup removed, and a --rm container's
    // anonymous volumes removed. Those containers keep
    // this full monitor; the default one (embedded runtime, no network helper, no limits)
    // gets the small one.
    let needs_cleanup = found.record.runtime != "embedded"
        || dir.join("netns").exists()
        || (found.record.remove && !found.record.anonymous_volumes.is_empty())
        || spec
            .linux()
            .as_ref()
            .is_some_and(|l| l.cgroups_path().is_some());
    if let Some(program) = small_monitor().filter(|_| !needs_cleanup) {
        let adopted = matches!(running, Running::Adopted(_));
        // Its standard streams: stdout pipe, stderr pipe, pty master (all numbered >= 3 now).
        let streams = [
            out_r.as_raw_fd(),
            err_r.as_raw_fd(),
            master
                .as_ref()
                .map_or(null.as_raw_fd(), std::os::fd::AsRawFd::as_raw_fd),
        ];
        for (target, fd) in (0..).zip(streams) {
            nix::unistd::dup2(fd, target).context("dup2")?;
        }
        let mut cmd = std::process::Command::new(&program);
        cmd.arg(format!("dir={}", dir.display()))
            .arg(format!("pid={pid}"))
            .arg(format!(
                "started={}",
                state.started.as_deref().unwrap_or_default()
            ))
            .arg(format!("driver={}", found.record.driver));
        if found.record.remove {
            cmd.arg("remove=1");
        }
        if adopted {
            cmd.arg("adopted=1")
                .arg(format!("runtime={}", found.record.runtime))
                .arg(format!("id={}", found.record.id));
        }
        let e = std::os::unix::process::CommandExt::exec(&mut cmd);
        // Not executable after all: monitor from here, with berth's own code.
        nix::unistd::dup2(null.as_raw_fd(), 0).context("dup2")?;
        nix::unistd::dup2(null.as_raw_fd(), 1).context("dup2")?;
        nix::unistd::dup2(null.as_raw_fd(), 2).context("dup2")?;
        let _ = e;
    }

    let log = Arc::new(Mutex::new(
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(container::LOG))
            .context("opening the container log")?,
    ));
    let copiers: Vec<_> = [(out_r, "stdout"), (err_r, "stderr")]
        .into_iter()
        .chain(master.map(|m| (m, "stdout")))
        .map(|(fd, stream)| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || copy_log(fd, stream, &log))
        })
        .collect();
    let code = match running {
        Running::Embedded(c) => c.wait().unwrap_or(125),
        Running::External(mut c) => c.wait().map_or(125, exit_code),
        Running::Adopted(pid) => {
            let code = wharf_sandbox::runtime::wait_pid(pid).unwrap_or(125);
            super::tty::delete_external(dir, &found.record.runtime, &found.record.id);
            code
        }
    };
    // A killed `runc run` leaves its container running (and holding the log pipes).
    if found.record.runtime != "embedded" {
        crate::commands::run::external_delete(&found.record, dir);
        crate::commands::rm::remove_leftover_cgroup(dir);
    }
    for c in copiers {
        let _ = c.join();
    }
    // Before the state says exited: `rm` may remove the directory right after.
    wharf_sandbox::network::teardown(dir);
    state.status = "exited".into();
    state.exit_code = Some(i32::from(code));
    state.finished = Some(container::now());
    container::write_json(dir, container::STATE, &state)?;
    if let Ok(driver) = wharf_sandbox::overlay::Driver::by_name(&found.record.driver) {
        let _ = driver.unmount(&dir.join("merged"));
    }
    if found.record.remove {
        let _ = std::fs::remove_dir_all(dir);
        container::remove_anonymous_volumes(dir, &found.record);
    }
    Ok(ExitCode::SUCCESS)
}

/// `-t` with an external runtime: started detached, its process adopted by this monitor.
fn start_external_tty(
    record: &container::Record,
    dir: &std::path::Path,
    master: &mut Option<OwnedFd>,
) -> Result<Running, (u8, String)> {
    let started =
        super::tty::start_external(dir, &record.runtime, &record.id, None).map_err(|e| {
            let code = e
                .downcast_ref::<wharf_cli::ExitError>()
                .map_or(125, |x| x.code);
            (code, format!("{e:#}"))
        })?;
    *master = Some(started.master);
    Ok(Running::Adopted(started.pid))
}

/// Polls `RUNTIME state ID` until the container runs, the runtime exits, or 10 s pass.
fn wait_until_running(
    child: &mut std::process::Child,
    record: &container::Record,
    dir: &std::path::Path,
) {
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(10) {
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        let state = std::process::Command::new(&record.runtime)
            .arg("--root")
            .arg(dir.join("runtime"))
            .args(["state", &record.id])
            .stderr(Stdio::null())
            .output();
        if let Ok(out) = state
            && let Ok(v) = serde_json::from_slice::<serde_json::Value>(&out.stdout)
            && v["status"] == "running"
        {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// `berth-monitor` next to this executable, when installed there.
fn small_monitor() -> Option<PathBuf> {
    // Next to the installed berth, not its sealed copy (`/memfd:...`).
    let exe = wharf_sandbox::runtime::installed_exe()?;
    let candidate = exe.parent()?.join("berth-monitor");
    candidate.is_file().then_some(candidate)
}

pub fn read_spec(bundle: &std::path::Path) -> anyhow::Result<oci_spec::runtime::Spec> {
    let path = bundle.join("config.json");
    let text = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&text).with_context(|| format!("parsing {}", path.display()))
}

/// Copies one stream into the log, a line at a time: `F` for a full line, `P` for a partial
/// one (the stream ended without a newline).
fn copy_log(fd: OwnedFd, stream: &str, log: &Mutex<std::fs::File>) {
    let mut reader = BufReader::new(std::fs::File::from(fd));
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let tag = if line.last() == Some(&b'\n') {
            line.pop();
            "F"
        } else {
            "P"
        };
        let mut entry = format!("{} {stream} {tag} ", container::now()).into_bytes();
        entry.extend_from_slice(&line);
        entry.push(b'\n');
        if let Ok(mut f) = log.lock() {
            let _ = f.write_all(&entry);
        }
    }
}
