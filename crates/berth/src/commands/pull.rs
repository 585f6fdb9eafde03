//! `berth pull [--tls-verify] IMAGE`: copy an image into the local store (podman's syntax: a
//! bare name is a registry image, any transport reference works).

use std::process::ExitCode;

pub use wharf_cli::pull::PullArgs as Args;

use crate::cli::Cli;

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    wharf_cli::pull::pull(
        &store,
        args,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr(),
    )?;
    Ok(ExitCode::SUCCESS)
}
