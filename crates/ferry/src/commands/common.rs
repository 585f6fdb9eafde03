//! Flags shared by the registry-facing commands, turned into client options; the runtime.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use wharf_registry::{ClientOptions, ConfigPaths, Credentials, RetryPolicy};
use wharf_store::Store;
use wharf_transport::ImageRef;

use crate::cli::Cli;

/// The single tokio runtime of this process (the one kiln and berth use too).
pub use wharf_cli::registry::runtime;

/// Registry options of a command that reads or writes one image.
#[derive(Debug, Clone, clap::Args)]
pub struct RegistryArgs {
    /// Require HTTPS and verify certificates (`--tls-verify=false` allows plain HTTP)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub tls_verify: Option<bool>,
    /// Credentials USER[:PASSWORD] for the registry
    #[arg(long, value_name = "USER:PASSWORD")]
    pub creds: Option<String>,
    /// User name for the registry (with --password)
    #[arg(long, value_name = "USER")]
    pub username: Option<String>,
    /// Password for the registry (with --username)
    #[arg(long, value_name = "PASSWORD")]
    pub password: Option<String>,
    /// Access the registry anonymously
    #[arg(long)]
    pub no_creds: bool,
    /// Use certificates (*.crt, *.cert, *.key) in DIR
    #[arg(long, value_name = "DIR")]
    pub cert_dir: Option<PathBuf>,
    /// Auth file [default: ${XDG_RUNTIME_DIR}/containers/auth.json]
    #[arg(long, env = "REGISTRY_AUTH_FILE", value_name = "PATH")]
    pub authfile: Option<PathBuf>,
    /// Retry a failed request this many times
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retry_times: u32,
    /// Fixed delay between retries, e.g. 2s or 500ms (default: exponential backoff)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub retry_delay: Option<Duration>,
}

impl RegistryArgs {
    pub fn client_options(&self, cli: &Cli) -> anyhow::Result<ClientOptions> {
        client_options(
            cli,
            &Side {
                prefix: "",
                tls_verify: self.tls_verify,
                creds: self.creds.as_deref(),
                username: self.username.as_deref(),
                password: self.password.as_deref(),
                no_creds: self.no_creds,
                cert_dir: self.cert_dir.clone(),
                authfile: self.authfile.clone(),
            },
            self.retry_times,
            self.retry_delay,
        )
    }
}

/// The registry flags of one side of a command: skopeo's `--creds`, `--username`, ... or their
/// `--src-` / `--dest-` forms (`prefix` names them in messages).
#[derive(Debug, Clone, Default)]
pub struct Side<'a> {
    pub prefix: &'static str,
    pub tls_verify: Option<bool>,
    pub creds: Option<&'a str>,
    pub username: Option<&'a str>,
    pub password: Option<&'a str>,
    pub no_creds: bool,
    pub cert_dir: Option<PathBuf>,
    pub authfile: Option<PathBuf>,
}

impl Side<'_> {
    /// The credentials the flags give, refusing contradictory ones as skopeo does.
    fn credentials(&self) -> anyhow::Result<Option<Credentials>> {
        let p = self.prefix;
        let named = match (self.username, self.password) {
            (Some(u), Some(pw)) => Some(Credentials::new(u, pw)),
            (None, None) => None,
            _ => anyhow::bail!("--{p}username and --{p}password must be given together"),
        };
        if self.no_creds && (self.creds.is_some() || named.is_some()) {
            anyhow::bail!("--{p}no-creds cannot be used with credentials");
        }
        match (self.creds, named) {
            (Some(_), Some(_)) => {
                anyhow::bail!("--{p}creds cannot be used with --{p}username/--{p}password")
            }
            (Some(c), None) => Ok(Some(
                Credentials::parse(c).with_context(|| format!("--{p}creds"))?,
            )),
            (None, named) => Ok(named),
        }
    }
}

/// Client options from one side's flags, the global `--registries-conf` and the retry flags.
pub fn client_options(
    cli: &Cli,
    side: &Side<'_>,
    retry_times: u32,
    retry_delay: Option<Duration>,
) -> anyhow::Result<ClientOptions> {
    let mut paths = ConfigPaths::from_env();
    if let Some(f) = &cli.registries_conf {
        paths.registries_conf = Some(f.clone());
    }
    // Read once per process: both sides of a copy share it.
    let registries = wharf_registry::context::registries_conf(&paths)?;
    Ok(ClientOptions {
        paths,
        tls_verify: side.tls_verify,
        creds: side.credentials()?,
        anonymous: side.no_creds,
        cert_dir: side.cert_dir.clone(),
        authfile: side.authfile.clone(),
        registries: Some(registries),
        retry: RetryPolicy {
            times: retry_times,
            delay: retry_delay,
            ..RetryPolicy::default()
        },
        ..ClientOptions::default()
    })
}

pub use wharf_cli::registry::parse_duration;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("2").is_err());
        assert!(parse_duration("2 s").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("3d").is_err());
    }
}
