//! What `kiln build`, `kiln push`, `kiln manifest push`, `kiln pull` and `berth pull` share
//! to reach a registry: buildah's and podman's registry flags, the async runtime, and the copy
//! of a stored image (or list) to any destination.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use wharf_registry::{ClientOptions, Credentials, RetryPolicy};
use wharf_store::Store;
use wharf_transport::{CopyOptions, Destination, ImageRef, Source};

/// Registry flags with buildah's and podman's names.
#[derive(Debug, Clone, clap::Args)]
pub struct RegistryArgs {
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
    /// Retry a failed transfer this many times
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retry: u32,
    /// Fixed delay between retries, e.g. 2s or 500ms [default: exponential backoff]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub retry_delay: Option<Duration>,
    #[command(flatten)]
    pub policy: crate::signing::PolicyArgs,
}

impl RegistryArgs {
    /// The registry context these flags ask for: the environment's containers-* configuration
    /// (registries.conf with its drop-ins, auth files, certs.d), overridden by the flags.
    ///
    /// # Errors
    /// `--creds` that is not `USER[:PASSWORD]`, or a registries.conf that cannot be read.
    pub fn client_options(&self) -> anyhow::Result<ClientOptions> {
        let opts = ClientOptions {
            tls_verify: self.tls_verify,
            creds: self
                .creds
                .as_deref()
                .map(Credentials::parse)
                .transpose()
                .context("--creds")?,
            cert_dir: self.cert_dir.clone(),
            authfile: self.authfile.clone(),
            retry: RetryPolicy {
                times: self.retry,
                delay: self.retry_delay.filter(|d| !d.is_zero()),
                ..RetryPolicy::default()
            },
            ..ClientOptions::default()
        };
        Ok(opts.with_config()?)
    }
}

/// Parses a Go duration (`1h30m`, `2s`, `500ms`, `1.5s`, `0`), as skopeo's `--retry-delay`.
/// Zero means no fixed delay.
///
/// # Errors
/// Not a Go duration.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration {s:?} (expected e.g. 2s, 500ms, 1m30s)");
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let n_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let n: f64 = rest[..n_end].parse().map_err(|_| bad())?;
        rest = &rest[n_end..];
        let u_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..u_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += n * unit;
        rest = &rest[u_end..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

/// The process's async runtime, built on first use and shared by every command of the process:
/// two workers (transfers are I/O-bound; hashing and compression run on their own threads).
///
/// # Errors
/// The runtime cannot start (no threads left).
pub fn runtime() -> anyhow::Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    if let Some(r) = RUNTIME.get() {
        return Ok(r);
    }
    let r = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    Ok(RUNTIME.get_or_init(|| r))
}

/// What [`push`] copies and where.
#[derive(Debug)]
pub struct Push<'a> {
    /// A name or ID in the store (an image or a manifest list).
    pub name: &'a str,
    pub destination: &'a ImageRef,
    pub registry: &'a RegistryArgs,
    pub format: Option<wharf_transport::ManifestFormat>,
    /// Print nothing while pushing.
    pub quiet: bool,
    /// Write the pushed manifest's digest here.
    pub digestfile: Option<&'a std::path::Path>,
    /// Sign the pushed manifest.
    pub sign: Option<wharf_transport::SignOptions>,
    /// Push the image's referrers from the store (signatures, SBOMs, attestations): `None`
    /// pushes them when the push keeps the image's digest (no `--format`, a registry), as
    /// BuildKit pushes its attestations; `Some(true)` insists (refused when the digest
    /// changes), `Some(false)` skips them.
    pub referrers: Option<bool>,
}

/// Copies `push.name` from the store to its destination, with every image of a list; the
/// progress line goes to `progress`.
///
/// # Errors
/// Bad flags, an unknown name, or a failed copy (the destination names no blob it lacks).
pub fn push(store: &Store, push: &Push<'_>, progress: &mut dyn Write) -> anyhow::Result<()> {
    let opts = push.registry.client_options()?;
    let src_ref = ImageRef::Store {
        name: push.name.to_owned(),
    };
    let src = Source::open(&src_ref, &opts, Some(store))?;
    let dst = Destination::open(push.destination, &opts, Some(store))?;
    let copy = CopyOptions {
        format: push.format,
        all: true,
        retry_times: push.registry.retry,
        sign: push.sign.clone(),
        // Store images are not checked again (they were when they entered); the context
        // carries --registries.d, where GPG signatures kept with the image are written.
        policy: Some(crate::signing::policy_context(
            None,
            true,
            push.registry.policy.registries_d.as_deref(),
        )?),
        referrers: push.referrers.unwrap_or_else(|| {
            push.format.is_none() && matches!(push.destination, ImageRef::Docker(_))
        }),
        ..CopyOptions::default()
    };
    if !push.quiet {
        writeln!(progress, "Pushing {} to {}", push.name, push.destination)?;
    }
    let report = runtime()?
        .block_on(wharf_transport::copy(&src, &dst, &copy))
        .with_context(|| format!("pushing {} to {}", push.name, push.destination))?;
    if let (Some(path), Some(d)) = (push.digestfile, &report.manifest_digest) {
        std::fs::write(path, d.to_string())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
