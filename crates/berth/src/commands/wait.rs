//! `berth wait CONTAINER...`: wait for containers to exit and print their exit codes.

use std::process::ExitCode;

use crate::cli::Cli;
use wharf_container as container;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(required = true)]
    pub containers: Vec<String>,
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    for c in &args.containers {
        let f = container::wait_exited(&container::find(&store, c)?, None)?;
        println!("{}", f.state.exit_code.unwrap_or(-1));
    }
    Ok(ExitCode::SUCCESS)
}
