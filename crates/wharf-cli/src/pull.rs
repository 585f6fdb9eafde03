//! `pull`, shared by `kiln pull` (buildah's syntax) and `berth pull` (podman's): a bare name is
//! a registry image, and any transport reference works.

// Field docs are CLI help text (`NAME[:TAG]`), not links to items.
#![allow(rustdoc::broken_intra_doc_links)]

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use wharf_registry::{ClientOptions, Credentials, RetryPolicy};
use wharf_store::Store;
use wharf_transport::{CopyOptions, Destination, ImageRef, Source};

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// Image to pull: NAME[:TAG|@DIGEST] from a registry, or a transport reference
    pub image: String,
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
    /// Pull every image of a multi-architecture index
    #[arg(long)]
    pub all_platforms: bool,
    /// Print nothing but the image ID
    #[arg(short, long)]
    pub quiet: bool,
    /// Retry a failed transfer this many times
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retry: u32,
}

/// `pull`: copies an image into `store` and prints its image ID to `out`; progress goes to
/// `progress` unless `--quiet`.
pub fn pull(
    store: &Store,
    args: &PullArgs,
    out: &mut dyn Write,
    progress: &mut dyn Write,
) -> anyhow::Result<()> {
    let (src_ref, name) = wharf_transport::shorthand::pull_target(&args.image)?;
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
    let src = Source::open(&src_ref, &opts, Some(store))?;
    let dst = Destination::open(&ImageRef::Store { name: name.clone() }, &opts, Some(store))?;
    let copy = CopyOptions {
        all: args.all_platforms,
        retry_times: args.retry,
        ..CopyOptions::default()
    };
    if !args.quiet {
        writeln!(progress, "Pulling {src_ref}")?;
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(wharf_transport::copy(&src, &dst, &copy))
        .with_context(|| format!("pulling {src_ref}"))?;
    let record = store.resolve(&name)?;
    writeln!(out, "{}", store.image_id(&record)?.digest())?;
    Ok(())
}
