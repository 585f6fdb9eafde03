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
    /// Create a working container from an image (or scratch) and print its name
    From(commands::from::Args),
    /// List working containers
    Containers(commands::containers::Args),
    /// Remove working containers
    Rm(commands::rm::Args),
    /// Run a command in a working container
    Run(commands::run::Args),
    /// Copy files into a working container
    Copy(commands::copy::Args),
    /// Copy files into a working container, unpacking local tar archives
    Add(commands::copy::Args),
    /// Change the image config of a working container
    Config(commands::config::Args),
    /// Write a working container as an image
    Commit(commands::commit::Args),
    /// Mount a working container's file system and print where (rootless: inside `kiln unshare`)
    Mount(commands::mount::MountArgs),
    /// Unmount working containers
    Umount(commands::mount::UmountArgs),
    /// Run a command in kiln's rootless user and mount namespace
    Unshare(commands::unshare::Args),
    /// Create, change, inspect and push manifest lists
    #[command(subcommand)]
    Manifest(commands::manifest::Command),
}
