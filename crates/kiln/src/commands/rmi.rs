//! `kiln rmi IMAGE...`: remove images from local storage.

use std::process::ExitCode;

pub use wharf_cli::images::RmiArgs as Args;

use crate::cli::Cli;

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let failed = wharf_cli::images::rmi(&store, args, &mut std::io::stdout().lock())?;
    for e in &failed {
        eprintln!("Error: {e:#}");
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
