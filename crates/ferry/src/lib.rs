//! `ferry`: inspect, copy and sync container images across registries, archives and directories,
//! with skopeo's command and flag names. The binary is thin: clap definitions in [`cli`], one
//! module per subcommand in [`commands`].
#![forbid(unsafe_code)]
// A binary's job is its output; the print lints guard the library crates.
#![allow(clippy::print_stdout, clippy::print_stderr)]
// Doc comments here are CLI help text (`REPO[:TAG]`), not links to items.
#![allow(rustdoc::broken_intra_doc_links)]

pub mod cli;
pub mod commands;

use std::process::ExitCode;

use clap::Parser as _;

/// Parses the command line and runs the chosen subcommand.
pub fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    cli.global.init_logging();
    wharf_cli::run_command(wharf_cli::Needs::default(), 1, || commands::dispatch(&cli))
}
