//! `kiln push [--tls-verify] IMAGE [DEST]`: copy a local image anywhere (buildah's syntax: DEST is
//! any transport reference, a bare name is a registry, `docker://IMAGE` by default).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use wharf_registry::{ClientOptions, Credentials, RetryPolicy};
use wharf_transport::{CopyOptions, Destination, Format, ImageRef, Source};

use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Local image name or ID
    pub image: String,
    /// Destination reference [default: docker://IMAGE]
    pub destination: Option<String>,
    /// Require HTTPS and verify certificates (`--tls-verify=false` allows plain HTTP)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub tls_verify: Option<bool>,
    /// Credentials USER:PASSWORD for the registry
    #[arg(long, value_name = "USER:PASSWORD")]
    pub creds: Option<String>,
    /// Use certificates (*.crt, *.cert, *.key) in DIR
    #[arg(long, value_name = "DIR")]
    pub cert_dir: Option<PathBuf>,
    /// Auth file
    #[arg(long, env = "REGISTRY_AUTH_FILE", value_name = "PATH")]
    pub authfile: Option<PathBuf>,
    /// Manifest format: oci or v2s2
    #[arg(short, long, value_parser = ["oci", "v2s2", "docker"])]
    pub format: Option<String>,
    /// Write the pushed manifest's digest to this file
    #[arg(long, value_name = "PATH")]
    pub digestfile: Option<PathBuf>,
    /// Print nothing while pushing
    #[arg(short, long)]
    pub quiet: bool,
    /// Retry a failed transfer this many times
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retry: u32,
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let record = store.resolve(&args.image)?;
    let dst_ref = wharf_transport::shorthand::push_target(
        record.name.as_deref().unwrap_or(&args.image),
        args.destination.as_deref(),
    )?;
    let opts = ClientOptions {
        tls_verify: args.tls_verify,
        creds: args
            .creds
            .as_deref()
            .map(Credentials::parse)
            .transpose()
            .context("--creds")?,
        cert_dir: args.cert_dir.clone(),
        authfile: args.authfile.clone(),
        retry: RetryPolicy {
            times: args.retry,
            ..RetryPolicy::default()
        },
        ..ClientOptions::default()
    };
    let src_ref = ImageRef::Store {
        name: args.image.clone(),
    };
    let src = Source::open(&src_ref, &opts, Some(&store))?;
    let dst = Destination::open(&dst_ref, &opts, Some(&store))?;
    let copy = CopyOptions {
        format: args.format.as_deref().and_then(Format::parse),
        all: true,
        retry_times: args.retry,
        ..CopyOptions::default()
    };
    if !args.quiet {
        eprintln!("Pushing {} to {dst_ref}", args.image);
    }
    let report = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(wharf_transport::copy(&src, &dst, &copy))
        .with_context(|| format!("pushing {} to {dst_ref}", args.image))?;
    if let (Some(path), Some(d)) = (&args.digestfile, &report.manifest_digest) {
        std::fs::write(path, d.to_string())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
