//! One module per subcommand; each is a page or less that calls a library.

pub mod exec;
pub mod images;
pub mod import;
pub mod info;
pub mod inspect;
pub mod kill;
pub mod logs;
pub mod monitor;
pub mod port;
pub mod ps;
pub mod pull;
pub mod pull_policy;
pub mod rm;
pub mod rmi;
pub mod run;
pub mod stop;
pub mod tty;
pub mod unshare;
pub mod volume;
pub mod wait;

use std::process::ExitCode;

use wharf_store::Store;

use crate::cli::{Cli, Command};

/// Opens the store named by `--root` / `WHARF_ROOT`, or the default one.
pub fn open_store(cli: &Cli) -> anyhow::Result<Store> {
    cli.global.open_store()
}

pub fn dispatch(cli: &Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Import(a) => import::run(cli, a),
        Command::Images(a) => images::run(cli, a),
        Command::Rmi(a) => rmi::run(cli, a),
        Command::Pull(a) => pull::run(cli, a),
        Command::Run(a) => run::run(cli, a),
        Command::Exec(a) => exec::run(cli, a),
        Command::Ps(a) => ps::run(cli, a),
        Command::Port(a) => port::run(cli, a),
        Command::Logs(a) => logs::run(cli, a),
        Command::Stop(a) => stop::run(cli, a),
        Command::Kill(a) => kill::run(cli, a),
        Command::Rm(a) => rm::run(cli, a),
        Command::Wait(a) => wait::run(cli, a),
        Command::Inspect(a) => inspect::run(cli, a),
        Command::Info(a) => info::run(cli, a),
        Command::Unshare(a) => unshare::run(cli, a),
        Command::Volume(a) => volume::run(cli, a),
        Command::ContainerMonitor(a) => monitor::run(a),
        Command::ContainerCleanup(a) => monitor::cleanup(a),
    }
}
