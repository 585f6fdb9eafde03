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
    /// Run a command in a new container
    Run(Box<commands::run::Args>),
    /// Run a command in a running container
    Exec(commands::exec::Args),
    /// List containers
    Ps(commands::ps::Args),
    /// List a container's published ports, or the host address of one of them
    Port(commands::port::Args),
    /// Print a detached container's output
    Logs(commands::logs::Args),
    /// Stop running containers (the stop signal, then SIGKILL after a timeout)
    Stop(commands::stop::Args),
    /// Send a signal to running containers
    Kill(commands::kill::Args),
    /// Remove containers
    Rm(commands::rm::Args),
    /// Wait for containers to exit and print their exit codes
    Wait(commands::wait::Args),
    /// Show a container's or an image's configuration as JSON
    Inspect(commands::inspect::Args),
    /// Show the storage driver, rootless mode, runtimes and store root
    Info(commands::info::Args),
    /// Run a command in berth's rootless user and mount namespace
    Unshare(commands::unshare::Args),
    /// Manage named volumes
    Volume(commands::volume::Args),
    /// Watch a detached container (internal)
    #[command(hide = true, name = "container-monitor")]
    ContainerMonitor(commands::monitor::Args),
    /// Record a detached container's end and clean up after it (internal)
    #[command(hide = true, name = "container-cleanup")]
    ContainerCleanup(commands::monitor::CleanupArgs),
}
