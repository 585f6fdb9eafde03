//! `berth kill [-s SIGNAL] CONTAINER...`: send a signal to running containers.

use std::process::ExitCode;

use crate::cli::Cli;
use wharf_container::control::{parse_signal, signal};
use wharf_container::{self as container};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Signal name (`TERM`, `SIGKILL`) or number
    #[arg(short, long, default_value = "KILL")]
    pub signal: String,
    #[arg(required = true)]
    pub containers: Vec<String>,
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
