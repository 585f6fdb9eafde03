//! `berth stop [-t SECS] CONTAINER...`: the stop signal, then SIGKILL after the timeout.

use std::process::ExitCode;
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::cli::Cli;
use crate::container::{self, Found};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Seconds to wait before killing the container
    #[arg(short = 't', long = "time", default_value_t = 10)]
    pub time: u64,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// Stops `f` and waits until its exit is recorded.
pub fn stop(f: &Found, time: u64) -> anyhow::Result<()> {
    if !f.running() {
        container::clean_up_after_dead_monitor(f);
        return Ok(());
    }
    let sig = super::kill::parse_signal(&f.record.stop_signal).unwrap_or(Signal::SIGTERM);
    super::kill::signal(f, sig)?;
    let mut now = container::wait_exited(f, Some(Duration::from_secs(time)))?;
    if now.running() {
        super::kill::signal(&now, Signal::SIGKILL)?;
        now = container::wait_exited(&now, None)?;
    }
    container::clean_up_after_dead_monitor(&now);
    Ok(())
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    for c in &args.containers {
        stop(&container::find(&store, c)?, args.time)?;
        println!("{c}");
    }
    Ok(ExitCode::SUCCESS)
}
