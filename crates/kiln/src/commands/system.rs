//! `kiln system prune` and `kiln system check`: store maintenance.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::Cli;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Remove dangling images, then unreferenced blobs and unpacked layers
    Prune(PruneArgs),
    /// Re-hash every blob, check every reference and every unpacked layer in the store
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Compare unpacked layers by file metadata (inode, size, mtime, ctime) instead of
    /// re-hashing every file: catches any change made through the filesystem, not one made
    /// below it (to the disk device)
    #[arg(long)]
    pub quick: bool,
    /// Remove damaged unpacked layers; they are unpacked again from their blobs when next used
    #[arg(long)]
    pub repair: bool,
}

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// Keep nameless images; only remove content no image references
    #[arg(long)]
    pub keep_dangling: bool,
}

pub fn run(cli: &Cli, cmd: &Command) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let mut out = std::io::stdout().lock();
    match cmd {
        Command::Prune(a) => {
            if !a.keep_dangling {
                let removed = store.prune_dangling().context("pruning dangling images")?;
                writeln!(out, "removed {} dangling images", removed.len())?;
            }
            let r = store.gc().context("collecting garbage")?;
            writeln!(
                out,
                "removed {} blobs ({}) and {} unpacked layers",
                r.removed_blobs.len(),
                wharf_cli::human::size(r.freed_bytes),
                r.removed_layers.len()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check(a) => {
            let depth = if a.quick {
                wharf_store::TreeCheck::Fast
            } else {
                wharf_store::TreeCheck::Full
            };
            let r = store.fsck_with(depth).context("checking the store")?;
            let mut left = 0;
            for p in &r.problems {
                match p {
                    wharf_store::FsckProblem::ChangedLayer { chain, path, .. } if a.repair => {
                        store
                            .remove_layer_tree(chain)
                            .with_context(|| format!("removing {}", path.display()))?;
                        writeln!(out, "repaired: {p}")?;
                    }
                    _ => {
                        left += 1;
                        writeln!(out, "problem: {p}")?;
                    }
                }
            }
            writeln!(
                out,
                "checked {} blobs ({}), {} references and {} unpacked layers{}: {}",
                r.blobs_checked,
                wharf_cli::human::size(r.bytes_checked),
                r.references_checked,
                r.layers_checked,
                if r.layers_unrecorded > 0 {
                    format!(
                        " ({} more unpacked before records existed, not checked)",
                        r.layers_unrecorded
                    )
                } else {
                    String::new()
                },
                if left == 0 {
                    "ok".to_owned()
                } else {
                    format!("{left} problems")
                }
            )?;
            Ok(if left == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
