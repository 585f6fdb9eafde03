//! `kiln`: build container images from Dockerfiles, rootless and daemonless. The binary is thin:
//! clap definitions in [`cli`], one module per subcommand in [`commands`], each calling a library.
#![forbid(unsafe_code)]
// A binary's job is its output; the print lints guard the library crates.
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod cli;
pub mod commands;

use std::process::ExitCode;

use clap::Parser as _;

/// Parses the command line and runs the chosen subcommand.
pub fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    cli.global.init_logging();
    wharf_cli::main_with(125, || commands::dispatch(&cli))
}
