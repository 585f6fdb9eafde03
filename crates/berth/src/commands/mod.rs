//! One module per subcommand; each is a page or less that calls a library.

pub mod images;
pub mod import;
pub mod pull;
pub mod rmi;

use std::process::ExitCode;

use anyhow::Context as _;
use wharf_store::Store;

use crate::cli::{Cli, Command};

/// Opens the store named by `--root` / `WHARF_ROOT`, or the default one.
pub fn open_store(cli: &Cli) -> anyhow::Result<Store> {
    let root = match &cli.global.root {
        Some(r) => r.clone(),
        None => wharf_store::default_root()?,
    };
    Store::open(&root).with_context(|| format!("opening the store at {}", root.display()))
}

pub fn dispatch(cli: &Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Import(a) => import::run(cli, a),
        Command::Images(a) => images::run(cli, a),
        Command::Rmi(a) => rmi::run(cli, a),
        Command::Pull(a) => pull::run(cli, a),
    }
}
