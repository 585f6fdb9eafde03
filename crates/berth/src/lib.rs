//! `berth`: run container images rootless, without a daemon, with podman's command and flag
//! names. The binary is thin: clap definitions in [`cli`], one module per subcommand in
//! [`commands`].
#![forbid(unsafe_code)]
// A binary's job is its output; the print lints guard the library crates.
#![allow(clippy::print_stdout, clippy::print_stderr)]
// Doc comments here are CLI help text (`NAME[:TAG]`), not links to items.
#![allow(rustdoc::broken_intra_doc_links)]

pub mod cli;
pub mod commands;

use std::process::ExitCode;

use clap::Parser as _;

/// Parses the command line and runs the chosen subcommand.
pub fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    cli.global.init_logging();
    let needs = wharf_cli::Needs {
        // Commands that mount or remove container files run as root of the user namespace.
        userns: matches!(
            cli.command,
            cli::Command::Run(_)
                | cli::Command::Rm(_)
                | cli::Command::Info(_)
                | cli::Command::Import(_)
                | cli::Command::Volume(_)
        ),
        // Commands that start or enter containers run from a sealed copy of this executable,
        // so that a container never reaches the installed file (CVE-2019-5736).
        sealed: matches!(cli.command, cli::Command::Run(_) | cli::Command::Exec(_)),
    };
    wharf_cli::run_command(needs, 125, || commands::dispatch(&cli))
}
