//! The command line of `ferry`, with skopeo's command and flag names.

use clap::{Parser, Subcommand};
use wharf_cli::GlobalArgs;

use crate::commands;

/// Inspect, copy and sync container images between registries, archives and directories
#[derive(Debug, Parser)]
#[command(name = "ferry", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compute the digest of a manifest file
    ManifestDigest(commands::manifest_digest::Args),
}
