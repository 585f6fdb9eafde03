//! `kiln unshare [CMD...]`: run a command (default: `$SHELL`) in the rootless user + mount
//! namespace kiln uses, like `buildah unshare`; `kiln mount` works inside it.

use std::process::ExitCode;

pub use wharf_cli::unshare::Args;

use crate::cli::Cli;

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    wharf_cli::unshare::run(&cli.global, args)
}
