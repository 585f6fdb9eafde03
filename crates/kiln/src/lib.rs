//! `kiln`: build container images from Dockerfiles, rootless and daemonless. The binary is thin:
//! clap definitions in [`cli`], one module per subcommand in [`commands`], each calling a library.
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
    let needs = wharf_cli::Needs {
        // RUN, overlay mounts and files owned by subordinate IDs need (namespaced) root.
        // `kiln mount` does not: its mount would end with the namespace.
        userns: matches!(
            cli.command,
            cli::Command::Build(_)
                | cli::Command::From(_)
                | cli::Command::Rm(_)
                | cli::Command::Run(_)
                | cli::Command::Copy(_)
                | cli::Command::Add(_)
                | cli::Command::Commit(_)
                // Unpacked layers hold files of subordinate IDs: only the namespace can read
                // (check) and remove (prune, repair) all of them.
                | cli::Command::System(_)
        ),
        // Commands that start or enter containers run from a sealed copy of this executable,
        // so that a container never reaches the installed file (CVE-2019-5736).
        sealed: matches!(cli.command, cli::Command::Build(_) | cli::Command::Run(_)),
    };
    wharf_cli::run_command(needs, 125, || commands::dispatch(&cli))
}
