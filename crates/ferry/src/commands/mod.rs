//! One module per subcommand; each is a page or less that calls a library.

pub mod common;
pub mod copy;
pub mod delete;
pub mod generate_sigstore_key;
pub mod inspect;
pub mod list_tags;
pub mod login;
pub mod manifest_digest;
pub mod standalone;
pub mod sync;
pub mod transfer;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub fn dispatch(cli: &Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::ManifestDigest(a) => manifest_digest::run(a),
        Command::Inspect(a) => inspect::run(cli, a),
        Command::Copy(a) => copy::run(cli, a),
        Command::Sync(a) => sync::run(cli, a),
        Command::ListTags(a) => list_tags::run(cli, a),
        Command::Delete(a) => delete::run(cli, a),
        Command::Login(a) => login::login(a),
        Command::Logout(a) => login::logout(a),
        Command::GenerateSigstoreKey(a) => generate_sigstore_key::run(a),
        Command::StandaloneSign(a) => standalone::sign(a),
        Command::StandaloneVerify(a) => standalone::verify(a),
    }
}
