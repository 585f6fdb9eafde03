//! `berth rmi IMAGE...`: remove images from local storage.

use std::process::ExitCode;

pub use wharf_cli::images::RmiArgs as Args;

use crate::cli::Cli;

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    wharf_cli::images::rmi_command(&super::open_store(cli)?, args)
}
