//! `kiln pull [--tls-verify] IMAGE`: copy an image into the local store (buildah's syntax: a
//! bare name is a registry image, any transport reference works).

use std::process::ExitCode;

pub use wharf_cli::pull::PullArgs as Args;

use crate::cli::Cli;

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    wharf_cli::pull::pull_command(&super::open_store(cli)?, args)
}
