//! One module per subcommand; each is a page or less that calls a library.

pub mod build;
pub mod commit;
pub mod config;
pub mod containers;
pub mod copy;
pub mod from;
pub mod images;
pub mod inspect;
pub mod lint;
pub mod manifest;
pub mod mount;
pub mod parse;
pub mod pretty;
pub mod pull;
pub mod push;
pub mod rm;
pub mod rmi;
pub mod run;
pub mod system;
pub mod tag;
pub mod unshare;

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
        Command::From(a) => from::run(cli, a),
        Command::Containers(a) => containers::run(cli, a),
        Command::Rm(a) => rm::run(cli, a),
        Command::Run(a) => run::run(cli, a),
        Command::Copy(a) => copy::run(cli, a, false),
        Command::Add(a) => copy::run(cli, a, true),
        Command::Config(a) => config::run(cli, a),
        Command::Commit(a) => commit::run(cli, a),
        Command::Mount(a) => mount::mount(cli, a),
        Command::Umount(a) => mount::umount(cli, a),
        Command::Unshare(a) => unshare::run(cli, a),
        Command::Manifest(c) => manifest::run(cli, c),
    }
}
