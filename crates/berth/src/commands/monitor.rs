//! The monitor of a detached container (conmon's role), in three acts of one process: a
//! re-execution of `berth` in the same user and mount namespace as `run -d` (so the overlay
//! mount stays alive with it), in its own process group, starts the container with its output
//! on pipes and records its pid; it then executes `berth-monitor`, which writes that output to
//! `ctr.log` and waits for the container; that in turn executes `berth container-cleanup`, which
//! does what a container's end requires ([`container::finish`]). One implementation of each
//! part, whatever the runtime, network or volumes.

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::fd::{AsRawFd as _, OwnedFd};
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};

use anyhow::Context as _;
use wharf_store::Store;

use crate::cli::Cli;
use crate::commands::run::Prepared;
use wharf_container::{self as container, State};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The container's directory
    pub dir: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct CleanupArgs {
    /// The container's directory
    pub dir: PathBuf,
    /// The container's exit code (128+N for signal N), when known
    #[arg(long)]
    pub exit_code: Option<i32>,
}

/// `run -d`: starts the monitor and waits for its report ("ok" or "err CODE MESSAGE").
pub fn start_detached(_cli: &Cli, _store: &Store, p: &Prepared) -> anyhow::Result<ExitCode> {
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

/// The hidden `berth container-monitor DIR` entry: starts the container, reports to `run -d`,
/// then becomes `berth-monitor` (the one monitor), which logs and waits, and at the end
/// becomes `berth container-cleanup` ([`container::finish`]).
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let dir = &args.dir;
    let found = container::load(dir)?;
    let bundle_dir = dir.join("bundle");
    // Standard output is the report pipe to `run -d`; keep it aside.
    let mut report = std::fs::File::from(
        std::os::fd::AsFd::as_fd(&std::io::stdout())
            .try_clone_to_owned()
            .context("dup")?,
    );
    // Both programs the container's end depends on must be there before it starts.
    let (Some(program), Some(berth)) = (small_monitor(), wharf_sandbox::runtime::installed_exe())
    else {
        let exe = wharf_sandbox::runtime::installed_exe().unwrap_or_default();
        let _ = writeln!(
            report,
            "err 125 berth-monitor is not installed next to {}: a detached container needs it \
             (hint: install both binaries of the berth package, e.g. cargo install --path \
             crates/berth)",
            exe.display()
        );
        return Ok(ExitCode::from(125));
    };
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .context("opening /dev/null")?;
    nix::unistd::dup2(null.as_raw_fd(), 0).context("dup2")?;
    let pipe = || -> anyhow::Result<(OwnedFd, OwnedFd)> {
        Ok(nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?)
    };
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;

    let spec = wharf_container::runtime::read_spec(&bundle_dir)?;
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
        let mut cmd = wharf_container::runtime::run_command(&found.record, dir);
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
        wharf_container::runtime::wait_until_running(child, &found.record, dir);
    }
    let pid = match &running {
        Running::Embedded(c) => c.pid(),
        Running::External(c) => i32::try_from(c.id()).unwrap_or_default(),
        Running::Adopted(pid) => *pid,
    };
    let state = State::started(
        pid,
        Some(i32::try_from(std::process::id()).unwrap_or_default()),
    );
    container::write_json(dir, container::STATE, &state)?;
    let _ = writeln!(report, "ok");
    drop(report);
    // From here on `berth-monitor` does the rest in this process's place (and pid), so that
    // what stays resident for the container's lifetime is small: the container stays its
    // child (adopted ones too: the subreaper flag survives the exec). Its standard streams:
    // stdout pipe, stderr pipe, pty master (all numbered >= 3 now).
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
    let e = std::process::Command::new(&program)
        .arg(format!("dir={}", dir.display()))
        .arg(format!("pid={pid}"))
        .arg(format!("berth={}", berth.display()))
        .exec();
    // Not executable after all (removed since the check): nobody will log this container, but
    // its end is still recorded by the next command that looks at it (the monitor is gone).
    drop(running);
    Err(e).with_context(|| format!("executing {}", program.display()))
}

/// The hidden `berth container-cleanup DIR --exit-code N` entry, which `berth-monitor`
/// becomes once the container has ended.
pub fn cleanup(args: &CleanupArgs) -> anyhow::Result<ExitCode> {
    let found = container::load(&args.dir)?;
    container::finish(&args.dir, &found.record, args.exit_code)?;
    Ok(ExitCode::SUCCESS)
}

/// `-t` with an external runtime: started detached, its process adopted by this monitor.
fn start_external_tty(
    record: &container::Record,
    dir: &std::path::Path,
    master: &mut Option<OwnedFd>,
) -> Result<Running, (u8, String)> {
    let started =
        wharf_container::runtime::start_with_terminal(dir, &record.runtime, &record.id, None)
            .map_err(|e| (e.exit_code(), format!("{:#}", anyhow::Error::new(e))))?;
    *master = Some(started.master);
    Ok(Running::Adopted(started.pid))
}

/// `berth-monitor` next to this executable, when installed there.
fn small_monitor() -> Option<PathBuf> {
    // Next to the installed berth, not its sealed copy (`/memfd:...`).
    let exe = wharf_sandbox::runtime::installed_exe()?;
    let candidate = exe.parent()?.join("berth-monitor");
    candidate.is_file().then_some(candidate)
}
