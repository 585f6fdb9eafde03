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
    if matches!(cli.command, cli::Command::Build(_)) {
        // RUN and overlay mounts need (namespaced) root: enter the user namespace first.
        match wharf_sandbox::maybe_reexec_in_userns() {
            Ok(Some(code)) => return code,
            Ok(None) => {}
            Err(e) => {
                eprintln!("Error: {e}");
                return ExitCode::from(e.exit_code());
            }
        }
    }
    wharf_cli::main_with(125, || commands::dispatch(&cli))
}
