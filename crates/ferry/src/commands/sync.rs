//! `ferry sync --src docker|dir|yaml --dest docker|dir SRC DST`: skopeo-sync(1).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use wharf_transport::{SyncDest, SyncEvent, SyncOptions, SyncSource};

use super::common::runtime;
use super::transfer::TransferArgs;
use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source: a repository or image (docker), a directory (dir), or a YAML file (yaml)
    pub source: String,
    /// Destination: a registry with optional repository prefix (docker), or a directory (dir)
    pub destination: String,
    /// Transport of SOURCE: docker, dir or yaml
    #[arg(short = 's', long = "src", value_name = "TRANSPORT", value_parser = ["docker", "dir", "yaml"])]
    pub src: String,
    /// Transport of DESTINATION: docker or dir
    #[arg(short = 'd', long = "dest", value_name = "TRANSPORT", value_parser = ["docker", "dir"])]
    pub dest: String,
    /// Keep the full source path (registry host included) below DESTINATION
    #[arg(long)]
    pub scoped: bool,
    /// Append this to every destination tag
    #[arg(long, value_name = "SUFFIX", default_value = "")]
    pub append_suffix: String,
    /// Copy every image of a multi-architecture index, and the index
    #[arg(short, long)]
    pub all: bool,
    /// List what would be copied; copy nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Go on after an image fails; fail at the end
    #[arg(long)]
    pub keep_going: bool,
    /// Write "DIGEST REFERENCE" of every synced image to this file
    #[arg(long, value_name = "PATH")]
    pub digestfile: Option<PathBuf>,
    /// Print nothing while copying
    #[arg(short, long)]
    pub quiet: bool,
    /// Large blob transfers in flight at once; blobs up to 1 MiB and existence checks run
    /// up to 32 at once beside them (their cost is round trips, not bytes)
    #[arg(long, value_name = "N", default_value_t = 6)]
    pub image_parallel_copies: usize,
    #[command(flatten)]
    pub transfer: TransferArgs,
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let from = SyncSource::parse(&args.src).context("--src")?;
    let to = SyncDest::parse(&args.dest).context("--dest")?;
    let src_opts = args.transfer.source_options(cli)?;
    let dst_opts = args.transfer.destination_options(cli)?;
    let opts = SyncOptions {
        scoped: args.scoped,
        append_suffix: args.append_suffix.clone(),
        dry_run: args.dry_run,
        keep_going: args.keep_going,
        copy: wharf_transport::CopyOptions {
            all: args.all,
            parallel: args.image_parallel_copies.max(1),
            progress: wharf_cli::progress::Display::detect(args.quiet).progress(),
            ..args.transfer.copy_options(cli, None)?
        },
    };
    let quiet = args.quiet;
    let on = move |e: &SyncEvent<'_>| {
        let line = match e {
            SyncEvent::Copying {
                n,
                total,
                from,
                to,
                dry_run: true,
            } => format!("Would have copied image ref {n}/{total}: {from} -> {to}"),
            SyncEvent::Copying { .. } if quiet => return,
            SyncEvent::Copying {
                n, total, from, to, ..
            } => {
                format!("Copying image ref {n}/{total}: {from} -> {to}")
            }
            SyncEvent::Failed { from, error } => format!("Error copying ref {from}: {error:#}"),
        };
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    };
    let rt = runtime()?;
    let plan = rt
        .block_on(wharf_transport::sync::plan(
            from,
            &args.source,
            to,
            &args.destination,
            &src_opts,
            &opts,
        ))
        .with_context(|| format!("listing the images of {}", args.source))?;
    // Repositories that could not be listed (only with --keep-going): reported, then the rest.
    for e in &plan.failed {
        let mut line = format!("Error: {e}");
        let mut cause = std::error::Error::source(e);
        while let Some(c) = cause {
            line = format!("{line}: {c}");
            cause = c.source();
        }
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
    let report = rt.block_on(wharf_transport::sync::sync(&plan, &dst_opts, &opts, &on))?;
    if let Some(path) = &args.digestfile
        && !args.dry_run
    {
        let mut text = Vec::new();
        for (d, r) in &report.synced {
            writeln!(text, "{d} {r}")?;
        }
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let verb = if args.dry_run {
        "Would have synced"
    } else {
        "Synced"
    };
    let _ = writeln!(
        std::io::stderr().lock(),
        "{verb} {} images from {} sources",
        plan.images.len() - report.failed.len(),
        plan.sources
    );
    if !plan.failed.is_empty() {
        anyhow::bail!(
            "sync failed for {} of {} images and could not list {} repositories (errors above)",
            report.failed.len(),
            plan.images.len(),
            plan.failed.len()
        );
    }
    if !report.failed.is_empty() {
        anyhow::bail!(
            "sync failed for {} of {} images (errors above)",
            report.failed.len(),
            plan.images.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}
