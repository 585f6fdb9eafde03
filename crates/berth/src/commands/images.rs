//! `berth images`: list images in local storage.

use std::process::ExitCode;

pub use wharf_cli::images::ListArgs as Args;

use crate::cli::Cli;

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    wharf_cli::images::list(&store, args, &mut std::io::stdout().lock())?;
    Ok(ExitCode::SUCCESS)
}
