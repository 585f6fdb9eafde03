//! `berth rm [-f] CONTAINER...`: remove containers (`-f` kills running ones first).

use std::process::ExitCode;

use anyhow::Context as _;
use nix::sys::signal::Signal;

use crate::cli::Cli;
use crate::container;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Kill running containers first
    #[arg(short, long)]
    pub force: bool,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    for c in &args.containers {
        let f = container::find(&store, c)?;
        if f.running() {
            anyhow::ensure!(
                args.force,
                "container {} is running; hint: berth stop {c}, or berth rm -f {c}",
                f.record.name
            );
            super::kill::signal(&f, Signal::SIGKILL)?;
            container::wait_exited(&f, None)?;
        }
        // A monitor removes a --rm container itself once it has exited.
        if f.dir.exists() {
            std::fs::remove_dir_all(&f.dir)
                .with_context(|| format!("removing {}", f.dir.display()))?;
        }
        println!("{c}");
    }
    Ok(ExitCode::SUCCESS)
}
