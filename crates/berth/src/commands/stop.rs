//! `berth stop [-t SECS] CONTAINER...`: the stop signal, then SIGKILL after the timeout.

use std::process::ExitCode;
use std::time::Duration;

use crate::cli::Cli;
use wharf_container::{self as container};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Seconds to wait before killing the container
    #[arg(short = 't', long = "time", default_value_t = 10)]
    pub time: u64,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    for c in &args.containers {
        container::control::stop(&container::find(&store, c)?, Duration::from_secs(args.time))?;
        println!("{c}");
    }
    Ok(ExitCode::SUCCESS)
}
