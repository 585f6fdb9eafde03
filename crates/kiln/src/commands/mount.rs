//! `kiln mount [CTR...]` and `kiln umount CTR...|--all`: mount a working container's file
//! system and print where (`buildah mount`). A rootless user must be inside `kiln unshare`,
//! whose mount namespace keeps the mount. A container of the copy driver (no overlay here) has
//! a plain directory as its root: it is printed, nothing is mounted, and it is always listed.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use wharf_build::builder;

use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct MountArgs {
    /// Working container names or IDs; none lists the mounted ones
    pub containers: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct UmountArgs {
    /// Unmount every working container
    #[arg(short, long, conflicts_with = "containers")]
    pub all: bool,
    /// Working container names or IDs
    pub containers: Vec<String>,
}

pub fn mount(cli: &Cli, args: &MountArgs) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let mut out = std::io::stdout().lock();
    if args.containers.is_empty() {
        for c in builder::list(&store)? {
            if c.is_mounted() {
                writeln!(out, "{} {}", c.record.name, c.merged().display())?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let many = args.containers.len() > 1;
    for key in &args.containers {
        let ctr = builder::find(&store, key)?;
        let path = builder::mount(&store, &ctr).with_context(|| format!("mounting {key:?}"))?;
        if many {
            writeln!(out, "{} {}", ctr.record.name, path.display())?;
        } else {
            writeln!(out, "{}", path.display())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn umount(cli: &Cli, args: &UmountArgs) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let list = if args.all {
        builder::list(&store)?
            .into_iter()
            .filter(|c| builder::is_mounted(&c.merged()))
            .collect()
    } else if args.containers.is_empty() {
        bail!("at least one container name or ID must be specified (or use --all)");
    } else {
        args.containers
            .iter()
            .map(|c| builder::find(&store, c))
            .collect::<Result<Vec<_>, _>>()?
    };
    for ctr in list {
        builder::umount(&ctr).with_context(|| format!("unmounting {:?}", ctr.record.name))?;
        println!("{}", ctr.record.id);
    }
    Ok(ExitCode::SUCCESS)
}
