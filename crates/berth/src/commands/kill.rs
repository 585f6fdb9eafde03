//! `berth kill [-s SIGNAL] CONTAINER...`: send a signal to running containers.

use std::process::ExitCode;

use nix::sys::signal::Signal;

use crate::cli::Cli;
use crate::container::{self, Found};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Signal name (`TERM`, `SIGKILL`) or number
    #[arg(short, long, default_value = "KILL")]
    pub signal: String,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// Parses `9`, `KILL` or `SIGKILL`.
pub fn parse_signal(s: &str) -> anyhow::Result<Signal> {
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| anyhow::anyhow!("invalid signal number {n}"));
    }
    let upper = s.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse()
        .map_err(|_| anyhow::anyhow!("invalid signal {s:?}"))
}

/// Sends `sig` to the container's process.
pub fn signal(f: &Found, sig: Signal) -> anyhow::Result<()> {
    let pid = f
        .state
        .pid
        .filter(|_| f.running())
        .ok_or_else(|| anyhow::anyhow!("container {} is not running", f.record.name))?;
    // SIGKILL cannot be relayed: it ends the embedded runtime's relay process at once, and
    // the container's PID 1 then only dies through its parent-death signal. Killing the PID
    // namespace's init directly kills every process in it, whatever happened to the relay.
    let mut init_killed = false;
    if sig == Signal::SIGKILL
        && f.record.runtime == "embedded"
        && let Some(init) = wharf_sandbox::runtime::container_init_pid(pid)
    {
        init_killed = nix::sys::signal::kill(nix::unistd::Pid::from_raw(init), sig).is_ok();
    }
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig) {
        // The relay exits as soon as its child does: it may be gone already.
        Err(nix::errno::Errno::ESRCH) if init_killed => Ok(()),
        r => r.map_err(|e| anyhow::anyhow!("sending {sig} to container {}: {e}", f.record.name)),
    }
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let sig = parse_signal(&args.signal)?;
    for c in &args.containers {
        let f = container::find(&store, c)?;
        signal(&f, sig)?;
        println!("{c}");
    }
    Ok(ExitCode::SUCCESS)
}
