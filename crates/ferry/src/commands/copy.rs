//! `ferry copy SRC DST`: copy an image between any two transports.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use wharf_transport::{CopyOptions, Destination, Event, Format, Source};

use super::common::{client_options, parse_ref, runtime, store_for};
use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source image reference
    pub source: String,
    /// Destination image reference
    pub destination: String,
    /// Manifest format of the destination: oci or v2s2
    #[arg(short, long, value_parser = ["oci", "v2s2", "docker"])]
    pub format: Option<String>,
    /// Copy every image of a multi-architecture index
    #[arg(short, long)]
    pub all: bool,
    /// How to copy an index: system (one image), all, index-only (not supported)
    #[arg(long, value_parser = ["system", "all"])]
    pub multi_arch: Option<String>,
    /// Fail rather than change any manifest digest
    #[arg(long)]
    pub preserve_digests: bool,
    /// Write the digest of the copied manifest to this file
    #[arg(long, value_name = "PATH")]
    pub digestfile: Option<PathBuf>,
    /// Print nothing while copying
    #[arg(short, long)]
    pub quiet: bool,
    /// Blob transfers in flight at once
    #[arg(long, value_name = "N", default_value_t = 6)]
    pub image_parallel_copies: usize,
    /// Retry a failed transfer this many times
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retry_times: u32,
    /// Require HTTPS and verify certificates of the source registry
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub src_tls_verify: Option<bool>,
    /// Require HTTPS and verify certificates of the destination registry
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub dest_tls_verify: Option<bool>,
    /// Credentials for the source registry
    #[arg(long, value_name = "USER:PASSWORD")]
    pub src_creds: Option<String>,
    /// Credentials for the destination registry
    #[arg(long, value_name = "USER:PASSWORD")]
    pub dest_creds: Option<String>,
    /// Certificates for the source registry
    #[arg(long, value_name = "DIR")]
    pub src_cert_dir: Option<PathBuf>,
    /// Certificates for the destination registry
    #[arg(long, value_name = "DIR")]
    pub dest_cert_dir: Option<PathBuf>,
    /// Auth file for both sides
    #[arg(long, env = "REGISTRY_AUTH_FILE", value_name = "PATH")]
    pub authfile: Option<PathBuf>,
    /// Auth file for the source registry
    #[arg(long, value_name = "PATH")]
    pub src_authfile: Option<PathBuf>,
    /// Auth file for the destination registry
    #[arg(long, value_name = "PATH")]
    pub dest_authfile: Option<PathBuf>,
}

fn short(d: &wharf_oci::Digest) -> String {
    d.digest().chars().take(12).collect()
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let (src_ref, dst_ref) = (parse_ref(&args.source)?, parse_ref(&args.destination)?);
    let store = store_for(cli, &[&src_ref, &dst_ref])?;
    let src_opts = client_options(
        args.src_tls_verify,
        args.src_creds.as_deref(),
        args.src_cert_dir.clone(),
        args.src_authfile.clone().or_else(|| args.authfile.clone()),
        args.retry_times,
    )?;
    let dst_opts = client_options(
        args.dest_tls_verify,
        args.dest_creds.as_deref(),
        args.dest_cert_dir.clone(),
        args.dest_authfile.clone().or_else(|| args.authfile.clone()),
        args.retry_times,
    )?;
    let src = Source::open(&src_ref, &src_opts, store.as_ref())
        .with_context(|| format!("opening {src_ref}"))?;
    let dst = Destination::open(&dst_ref, &dst_opts, store.as_ref())
        .with_context(|| format!("opening {dst_ref}"))?;
    let progress: Option<wharf_transport::Progress> = if args.quiet {
        None
    } else {
        let tty = std::io::stdout().is_terminal();
        Some(Arc::new(move |e: &Event| {
            let line = match e {
                Event::BlobSkipped { digest, .. } => {
                    format!("Copying blob {} skipped: already exists", short(digest))
                }
                Event::BlobMounted { digest, .. } => {
                    format!("Copying blob {} skipped: mounted", short(digest))
                }
                Event::BlobStarted { digest, size } if tty => {
                    format!(
                        "Copying blob {} ({})",
                        short(digest),
                        wharf_cli::human::size(*size)
                    )
                }
                Event::BlobStarted { .. } => return,
                Event::BlobDone { digest, .. } => format!("Copying blob {} done", short(digest)),
                Event::BlobRetry {
                    digest,
                    attempt,
                    error,
                } => {
                    format!(
                        "Copying blob {}: retry {attempt} after: {error}",
                        short(digest)
                    )
                }
                Event::ManifestWritten { .. } => "Writing manifest to image destination".into(),
            };
            let _ = writeln!(std::io::stdout().lock(), "{line}");
        }))
    };
    let all = args.all || args.multi_arch.as_deref() == Some("all");
    let opts = CopyOptions {
        format: args.format.as_deref().and_then(Format::parse),
        all,
        platform: cli.platform.platform(),
        parallel: args.image_parallel_copies.max(1),
        preserve_digests: args.preserve_digests,
        retry_times: args.retry_times,
        progress,
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
