//! One module per subcommand; each is a page or less that calls a library.

pub mod build;
pub mod images;
pub mod inspect;
pub mod lint;
pub mod parse;
pub mod pull;
pub mod push;
pub mod rmi;
pub mod system;
pub mod tag;

use std::process::ExitCode;

use wharf_store::Store;

use crate::cli::{Cli, Command};

/// Opens the store named by `--root` / `WHARF_ROOT`, or the default one.
pub fn open_store(cli: &Cli) -> anyhow::Result<Store> {
    cli.global.open_store()
}

pub fn dispatch(cli: &Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Build(a) => build::run(cli, a),
        Command::Images(a) => images::run(cli, a),
        Command::Pull(a) => pull::run(cli, a),
        Command::Push(a) => push::run(cli, a),
        Command::Inspect(a) => inspect::run(cli, a),
        Command::Tag(a) => tag::run(cli, a),
        Command::Rmi(a) => rmi::run(cli, a),
        Command::Parse(a) => parse::run(a),
        Command::Lint(a) => lint::run(a),
        Command::System(c) => system::run(cli, c),
    }
}
