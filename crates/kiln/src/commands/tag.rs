//! `kiln tag IMAGE NAME...`: add names to a local image.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Image name, ID or digest
    pub image: String,
    /// New names; a name without a registry goes under localhost/
    #[arg(required = true)]
    pub names: Vec<String>,
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    for name in &args.names {
        store
            .tag(&args.image, name)
            .with_context(|| format!("tagging {} as {name}", args.image))?;
    }
    Ok(ExitCode::SUCCESS)
}
