//! `kiln system prune` and `kiln system check`: store maintenance.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::Cli;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Remove dangling images, then unreferenced blobs and unpacked layers
    Prune(PruneArgs),
    /// Re-hash every blob and check every reference in the store
    Check,
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
        Command::Check => {
            let r = store.fsck().context("checking the store")?;
            for p in &r.problems {
                writeln!(out, "problem: {p}")?;
            }
            writeln!(
                out,
                "checked {} blobs ({}) and {} references: {}",
                r.blobs_checked,
                wharf_cli::human::size(r.bytes_checked),
                r.references_checked,
                if r.is_clean() {
                    "ok".to_owned()
                } else {
                    format!("{} problems", r.problems.len())
                }
            )?;
            Ok(if r.is_clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
