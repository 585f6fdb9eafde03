//! One module per subcommand; each is a page or less that calls a library.

pub mod manifest_digest;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub fn dispatch(cli: &Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::ManifestDigest(a) => manifest_digest::run(a),
    }
}
