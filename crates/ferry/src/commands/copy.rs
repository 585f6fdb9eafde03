//! `ferry copy SRC DST`: copy an image between any two transports.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use wharf_transport::{CopyOptions, Destination, Source};

use super::common::{parse_ref, runtime, store_for};
use super::transfer::TransferArgs;
use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source image reference
    pub source: String,
    /// Destination image reference
    pub destination: String,
    /// Copy every image of a multi-architecture index
    #[arg(short, long)]
    pub all: bool,
    /// How to copy an index: system (one image), all, index-only (not supported)
    #[arg(long, value_parser = ["system", "all"])]
    pub multi_arch: Option<String>,
    /// Write the digest of the copied manifest to this file
    #[arg(long, value_name = "PATH")]
    pub digestfile: Option<PathBuf>,
    /// Print nothing while copying
    #[arg(short, long)]
    pub quiet: bool,
    /// Large blob transfers in flight at once; blobs up to 1 MiB and existence checks run
    /// up to 32 at once beside them (their cost is round trips, not bytes)
    #[arg(long, value_name = "N", default_value_t = 6)]
    pub image_parallel_copies: usize,
    /// The identity signatures name (a full docker reference); default: the destination
    #[arg(long, value_name = "REFERENCE")]
    pub sign_identity: Option<String>,
    #[command(flatten)]
    pub transfer: TransferArgs,
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let (src_ref, dst_ref) = (parse_ref(&args.source)?, parse_ref(&args.destination)?);
    let store = store_for(cli, &[&src_ref, &dst_ref])?;
    let src_opts = args.transfer.source_options(cli)?;
    let dst_opts = args.transfer.destination_options(cli)?;
    let src = Source::open(&src_ref, &src_opts, store.as_ref())
        .with_context(|| format!("opening {src_ref}"))?;
    let dst = Destination::open(&dst_ref, &dst_opts, store.as_ref())
        .with_context(|| format!("opening {dst_ref}"))?;
    let progress = wharf_cli::progress::Display::detect(args.quiet).progress();
    let all = args.all || args.multi_arch.as_deref() == Some("all");
    let opts = CopyOptions {
        all,
        parallel: args.image_parallel_copies.max(1),
        progress,
        ..args
            .transfer
            .copy_options(cli, args.sign_identity.as_deref())?
    };
    if !args.quiet {
        println!("Getting image source signatures");
    }
    let report = runtime()?
        .block_on(wharf_transport::copy(&src, &dst, &opts))
        .with_context(|| format!("copying {src_ref} to {dst_ref}"))?;
    if let (Some(path), Some(d)) = (&args.digestfile, &report.manifest_digest) {
        std::fs::write(path, d.to_string())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
