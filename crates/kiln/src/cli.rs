//! The command line of `kiln`, with buildah's command and flag names.

use clap::{Parser, Subcommand};
use wharf_cli::GlobalArgs;

use crate::commands;

/// Build container images from Dockerfiles, rootless and daemonless
#[derive(Debug, Parser)]
#[command(name = "kiln", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build an image from a Dockerfile and a context directory
    Build(commands::build::Args),
    /// List images in local storage
    Images(commands::images::Args),
    /// Copy an image from a registry or any transport into local storage
    Pull(commands::pull::Args),
    /// Copy a local image to a registry or any transport
    Push(commands::push::Args),
    /// Show an image's configuration and manifest as JSON
    Inspect(commands::inspect::Args),
    /// Add names to a local image
    Tag(commands::tag::Args),
    /// Remove one or more images from local storage
    Rmi(commands::rmi::Args),
    /// Print a Dockerfile's syntax tree in BuildKit's dump format
    Parse(commands::parse::Args),
    /// Check a Dockerfile against BuildKit's build checks
    Lint(commands::lint::Args),
    /// Maintain the local store
    #[command(subcommand)]
    System(commands::system::Command),
}
