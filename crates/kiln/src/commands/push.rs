//! `kiln push [--tls-verify] IMAGE [DEST]`: copy a local image anywhere (buildah's syntax: DEST is
//! any transport reference, a bare name is a registry, `docker://IMAGE` by default).

use std::path::PathBuf;
use std::process::ExitCode;

use wharf_cli::registry::{Push, RegistryArgs};
use wharf_transport::ManifestFormat;

use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Local image name or ID
    pub image: String,
    /// Destination reference [default: docker://IMAGE]
    pub destination: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Manifest format: oci or v2s2
    #[arg(short, long, value_parser = ["oci", "v2s2", "docker"])]
    pub format: Option<String>,
    /// Write the pushed manifest's digest to this file
    #[arg(long, value_name = "PATH")]
    pub digestfile: Option<PathBuf>,
    /// Print nothing while pushing
    #[arg(short, long)]
    pub quiet: bool,
    /// The identity signatures name (a full docker reference); default: the destination
    #[arg(long, value_name = "REFERENCE")]
    pub sign_identity: Option<String>,
    #[command(flatten)]
    pub sign: wharf_cli::signing::SignArgs,
    /// Push the image's referrers too (signatures, SBOMs, attestations stored with it); by
    /// default they are pushed when the image keeps its digest; --referrers=false skips them
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub referrers: Option<bool>,
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let record = store.resolve(&args.image)?;
    let dst_ref = wharf_transport::shorthand::push_target(
        record.name.as_deref().unwrap_or(&args.image),
        args.destination.as_deref(),
    )?;
    let sign = args.sign.options(
        args.registry.policy.registries_d.as_deref(),
        args.sign_identity.as_deref(),
    )?;
    wharf_cli::registry::push(
        &store,
        &Push {
            name: &args.image,
            destination: &dst_ref,
            registry: &args.registry,
            format: args.format.as_deref().and_then(ManifestFormat::parse),
            quiet: args.quiet,
            digestfile: args.digestfile.as_deref(),
            sign,
            referrers: args.referrers,
        },
        &mut std::io::stderr(),
    )?;
    Ok(ExitCode::SUCCESS)
}
