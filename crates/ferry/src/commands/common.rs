//! Flags shared by the registry-facing commands, turned into client options; the runtime.

use std::path::PathBuf;

use anyhow::Context as _;
use wharf_registry::{ClientOptions, Credentials, RetryPolicy};
use wharf_store::Store;
use wharf_transport::ImageRef;

use crate::cli::Cli;

/// The single tokio runtime of this process.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Registry options of a command that reads or writes one image.
#[derive(Debug, Clone, clap::Args)]
pub struct RegistryArgs {
    /// Require HTTPS and verify certificates (`--tls-verify=false` allows plain HTTP)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub tls_verify: Option<bool>,
    /// Credentials USER[:PASSWORD] for the registry
    #[arg(long, value_name = "USER:PASSWORD")]
    pub creds: Option<String>,
    /// Use certificates (*.crt, *.cert, *.key) in DIR
    #[arg(long, value_name = "DIR")]
    pub cert_dir: Option<PathBuf>,
    /// Auth file [default: ${XDG_RUNTIME_DIR}/containers/auth.json]
    #[arg(long, env = "REGISTRY_AUTH_FILE", value_name = "PATH")]
    pub authfile: Option<PathBuf>,
    /// Retry a failed request this many times
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retry_times: u32,
}

impl RegistryArgs {
    pub fn client_options(&self) -> anyhow::Result<ClientOptions> {
        client_options(
            self.tls_verify,
            self.creds.as_deref(),
            self.cert_dir.clone(),
            self.authfile.clone(),
            self.retry_times,
        )
    }
}

pub fn client_options(
    tls_verify: Option<bool>,
    creds: Option<&str>,
    cert_dir: Option<PathBuf>,
    authfile: Option<PathBuf>,
    retry_times: u32,
) -> anyhow::Result<ClientOptions> {
    let creds = creds
        .map(Credentials::parse)
        .transpose()
        .context("--creds")?;
    Ok(ClientOptions {
        tls_verify,
        creds,
        cert_dir,
        authfile,
        retry: RetryPolicy {
            times: retry_times,
            ..RetryPolicy::default()
        },
        ..ClientOptions::default()
    })
}

/// Parses a transport reference, with skopeo's hint for a missing transport.
pub fn parse_ref(s: &str) -> anyhow::Result<ImageRef> {
    ImageRef::parse(s).with_context(|| {
        format!("invalid image reference {s:?} (hint: prefix a transport, e.g. docker://{s})")
    })
}

/// Opens the store only when a reference needs it.
pub fn store_for(cli: &Cli, refs: &[&ImageRef]) -> anyhow::Result<Option<Store>> {
    if !refs.iter().any(|r| matches!(r, ImageRef::Store { .. })) {
        return Ok(None);
    }
    cli.global.open_store().map(Some)
}
