//! `kiln commit [--format oci|docker] [--rm] [--squash] [--iidfile F] [--timestamp S] CTR
//! [IMAGE]`: write the working container as an image in the store and print its ID
//! (`buildah commit`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use wharf_build::ManifestFormat;
use wharf_build::builder::{self, CommitOptions};

use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Image format [default: the one given to `kiln from`, else oci]
    #[arg(short, long, value_name = "FORMAT", value_parser = ["oci", "docker"])]
    pub format: Option<String>,
    /// Remove the working container after committing
    #[arg(long)]
    pub rm: bool,
    /// Write the whole file system as a single layer
    #[arg(long)]
    pub squash: bool,
    /// Write the image ID to this file
    #[arg(long, value_name = "FILE")]
    pub iidfile: Option<PathBuf>,
    /// Created time of the image and its new history entry, and the latest mtime in the new
    /// layer, in seconds since the epoch [default: $SOURCE_DATE_EPOCH]
    #[arg(long, value_name = "SECONDS")]
    pub timestamp: Option<i64>,
    /// Print only the image ID, no progress
    #[arg(short, long)]
    pub quiet: bool,
    /// Working container name or ID
    pub container: String,
    /// Name for the image (a name without a registry goes under localhost/)
    pub image: Option<String>,
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let ctr = builder::find(&store, &args.container)?;
    let timestamp = match args.timestamp {
        Some(t) => Some(t),
        None => match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(v) if !v.is_empty() => Some(
                v.parse()
                    .with_context(|| format!("invalid SOURCE_DATE_EPOCH {v:?}"))?,
            ),
            _ => None,
        },
    };
    let opts = CommitOptions {
        names: args.image.iter().cloned().collect(),
        format: args.format.as_deref().and_then(ManifestFormat::parse),
        squash: args.squash,
        timestamp,
        ..CommitOptions::default()
    };
    if !args.quiet {
        eprintln!(
            "Committing {} as {}",
            ctr.record.name,
            args.image.as_deref().unwrap_or("an unnamed image")
        );
    }
    let done = builder::commit(&store, &ctr, &opts)
        .with_context(|| format!("committing container {:?}", args.container))?;
    for w in &done.warnings {
        eprintln!("WARN: {w}");
    }
    let id = done.image_id.digest().to_owned();
    if let Some(f) = &args.iidfile {
        std::fs::write(f, done.image_id.to_string())
            .with_context(|| format!("writing {}", f.display()))?;
    }
    if args.rm {
        builder::remove(&ctr)
            .with_context(|| format!("removing container {:?}", args.container))?;
    }
    println!("{id}");
    Ok(ExitCode::SUCCESS)
}
