//! `berth rm [-f] CONTAINER...`: remove containers (`-f` kills running ones first).

use std::process::ExitCode;

use crate::cli::Cli;
use wharf_container as container;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Kill running containers first
    #[arg(short, long)]
    pub force: bool,
    /// Also remove the containers' anonymous volumes (made for the image's `VOLUME`s)
    #[arg(short, long)]
    pub volumes: bool,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    for c in &args.containers {
        let f = container::find(&store, c)?;
        container::control::remove(&f, args.force, args.volumes)?;
        println!("{c}");
    }
    Ok(ExitCode::SUCCESS)
}
