//! The flags `copy` and `sync` share (skopeo's source and destination image flags, retries,
//! manifest format), turned into client and copy options.

use std::path::PathBuf;
use std::time::Duration;

use wharf_archive::{Compressor, LayerCompression};
use wharf_registry::ClientOptions;
use wharf_transport::{CopyOptions, ManifestFormat};

use super::common::{Side, client_options, parse_duration};
use crate::cli::Cli;

#[derive(Debug, Clone, clap::Args)]
pub struct TransferArgs {
    /// Manifest format of the destination: oci or v2s2
    #[arg(short, long, value_parser = ["oci", "v2s2", "docker"])]
    pub format: Option<String>,
    /// Fail rather than change any manifest digest
    #[arg(long)]
    pub preserve_digests: bool,
    /// Also copy the image's referrers (signatures, SBOMs, attestations; OCI 1.1 referrers
    /// API or its tag fallback), recursively
    #[arg(long)]
    pub referrers: bool,
    /// Compress layers with this format while copying: gzip or zstd (zstd needs OCI manifests)
    #[arg(long, value_name = "FORMAT", value_parser = ["gzip", "zstd"])]
    pub dest_compress_format: Option<String>,
    /// Compression level of recompressed layers (gzip 0-9, zstd 1-22)
    #[arg(long, value_name = "LEVEL", allow_negative_numbers = true)]
    pub dest_compress_level: Option<i32>,
    /// Compress layers that are not (gzip unless --dest-compress-format says otherwise)
    #[arg(long)]
    pub dest_compress: bool,
    /// Store layers uncompressed at the destination (their digests become their diff IDs)
    #[arg(long, conflicts_with_all = ["dest_compress", "dest_compress_format", "dest_compress_level"])]
    pub dest_decompress: bool,
    /// Retry a failed transfer this many times
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retry_times: u32,
    /// Fixed delay between retries, e.g. 2s or 500ms (default: exponential backoff)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub retry_delay: Option<Duration>,
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
    /// User name for the source registry (with --src-password)
    #[arg(long, value_name = "USER")]
    pub src_username: Option<String>,
    /// Password for the source registry (with --src-username)
    #[arg(long, value_name = "PASSWORD")]
    pub src_password: Option<String>,
    /// User name for the destination registry (with --dest-password)
    #[arg(long, value_name = "USER")]
    pub dest_username: Option<String>,
    /// Password for the destination registry (with --dest-username)
    #[arg(long, value_name = "PASSWORD")]
    pub dest_password: Option<String>,
    /// Access the source registry anonymously
    #[arg(long)]
    pub src_no_creds: bool,
    /// Access the destination registry anonymously
    #[arg(long)]
    pub dest_no_creds: bool,
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
    #[command(flatten)]
    pub sign: wharf_cli::signing::SignArgs,
}

impl TransferArgs {
    pub fn source_options(&self, cli: &Cli) -> anyhow::Result<ClientOptions> {
        let side = Side {
            prefix: "src-",
            tls_verify: self.src_tls_verify,
            creds: self.src_creds.as_deref(),
            username: self.src_username.as_deref(),
            password: self.src_password.as_deref(),
            no_creds: self.src_no_creds,
            cert_dir: self.src_cert_dir.clone(),
            authfile: self.src_authfile.clone().or_else(|| self.authfile.clone()),
        };
        client_options(cli, &side, self.retry_times, self.retry_delay())
    }

    pub fn destination_options(&self, cli: &Cli) -> anyhow::Result<ClientOptions> {
        let side = Side {
            prefix: "dest-",
            tls_verify: self.dest_tls_verify,
            creds: self.dest_creds.as_deref(),
            username: self.dest_username.as_deref(),
            password: self.dest_password.as_deref(),
            no_creds: self.dest_no_creds,
            cert_dir: self.dest_cert_dir.clone(),
            authfile: self.dest_authfile.clone().or_else(|| self.authfile.clone()),
        };
        client_options(cli, &side, self.retry_times, self.retry_delay())
    }

    /// `--retry-delay`, where zero means exponential backoff (as skopeo).
    fn retry_delay(&self) -> Option<Duration> {
        self.retry_delay.filter(|d| !d.is_zero())
    }

    /// The recompression asked for, if any.
    fn compressor(&self) -> Option<Compressor> {
        if self.dest_decompress {
            return Some(Compressor::new(LayerCompression::None, None));
        }
        let format = match self.dest_compress_format.as_deref() {
            Some("zstd") => Some(LayerCompression::Zstd),
            Some(_) => Some(LayerCompression::Gzip),
            None if self.dest_compress || self.dest_compress_level.is_some() => {
                Some(LayerCompression::Gzip)
            }
            None => None,
        };
        format.map(|f| Compressor::new(f, self.dest_compress_level))
    }

    /// The copy options these flags set, with the signature policy and signing; the caller
    /// adds `all`, parallelism and progress. `sign_identity` is copy's `--sign-identity`.
    pub fn copy_options(
        &self,
        cli: &Cli,
        sign_identity: Option<&str>,
    ) -> anyhow::Result<CopyOptions> {
        let policy = wharf_cli::signing::policy_context(
            cli.policy.as_deref(),
            cli.insecure_policy,
            cli.registries_d.as_deref(),
        )?;
        let sign = self
            .sign
            .options(cli.registries_d.as_deref(), sign_identity)?;
        Ok(CopyOptions {
            format: self.format.as_deref().and_then(ManifestFormat::parse),
            platform: cli.platform.platform(),
            preserve_digests: self.preserve_digests,
            retry_times: self.retry_times,
            retry_delay: self.retry_delay(),
            compress: self.compressor(),
            policy: Some(policy),
            sign,
            referrers: self.referrers,
            ..CopyOptions::default()
        })
    }
}
