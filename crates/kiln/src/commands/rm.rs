//! `kiln rm CTR... | --all`: remove working containers, printing each one's ID (`buildah rm`).

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use wharf_build::builder;

use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Remove every working container
    #[arg(short, long, conflicts_with = "containers")]
    pub all: bool,
    /// Names or IDs of working containers
    pub containers: Vec<String>,
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let list = if args.all {
        builder::list(&store)?
    } else if args.containers.is_empty() {
        bail!("container ID must be specified (or use --all)");
    } else {
        args.containers
            .iter()
            .map(|c| builder::find(&store, c))
            .collect::<Result<Vec<_>, _>>()?
    };
    for ctr in list {
        builder::remove(&ctr)
            .with_context(|| format!("removing container {:?}", ctr.record.name))?;
        println!("{}", ctr.record.id);
    }
    Ok(ExitCode::SUCCESS)
}
