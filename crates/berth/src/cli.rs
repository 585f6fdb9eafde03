//! The command line of `berth`, with podman's command and flag names.

use clap::{Parser, Subcommand};
use wharf_cli::GlobalArgs;

use crate::commands;

/// Run container images rootless, without a daemon
#[derive(Debug, Parser)]
#[command(name = "berth", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an image from a root filesystem tarball
    Import(commands::import::Args),
    /// List images in local storage
    Images(commands::images::Args),
    /// Remove one or more images from local storage
    Rmi(commands::rmi::Args),
    /// Copy an image from a registry or any transport into local storage
    Pull(commands::pull::Args),
}
