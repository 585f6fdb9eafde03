//! `ferry manifest-digest FILE`: the digest of a manifest file, as a registry computes it.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Manifest file
    pub manifest: PathBuf,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.manifest)
        .with_context(|| format!("reading {}", args.manifest.display()))?;
    // A registry digests the exact bytes it is sent, so no re-serialisation happens here; the
    // parse only refuses files that are not manifests at all, as skopeo does.
    wharf_oci::RawManifest::parse(bytes.clone(), None)
        .with_context(|| format!("{} is not an image manifest", args.manifest.display()))?;
    writeln!(std::io::stdout(), "{}", wharf_oci::digest::sha256(&bytes))?;
    Ok(ExitCode::SUCCESS)
}
