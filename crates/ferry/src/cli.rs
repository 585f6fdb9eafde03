//! The command line of `ferry`, with skopeo's command and flag names.

use clap::{Parser, Subcommand};
use wharf_cli::GlobalArgs;
use wharf_oci::Platform;

use crate::commands;

/// Inspect, copy and sync container images between registries, archives and directories
#[derive(Debug, Parser)]
#[command(name = "ferry", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(flatten)]
    pub platform: PlatformArgs,

    /// Use FILE as registries.conf (instead of $CONTAINERS_REGISTRIES_CONF or the default files)
    #[arg(long, global = true, value_name = "FILE")]
    pub registries_conf: Option<std::path::PathBuf>,

    /// Trust policy file (containers-policy.json); default
    /// $HOME/.config/containers/policy.json, else /etc/containers/policy.json
    #[arg(long, global = true, value_name = "PATH")]
    pub policy: Option<std::path::PathBuf>,

    /// Copy without checking the signature policy
    #[arg(long, global = true)]
    pub insecure_policy: bool,

    /// Registries.d directory: where signatures are stored (lookaside, sigstore attachments)
    #[arg(long = "registries.d", global = true, value_name = "DIR")]
    pub registries_d: Option<std::path::PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

/// skopeo's global platform overrides: which image of a multi-architecture index to use.
#[derive(Debug, Clone, clap::Args)]
pub struct PlatformArgs {
    /// Use OS instead of the running OS when choosing an image
    #[arg(long, global = true, value_name = "OS")]
    pub override_os: Option<String>,
    /// Use ARCH instead of the machine's architecture when choosing an image
    #[arg(long, global = true, value_name = "ARCH")]
    pub override_arch: Option<String>,
    /// Use VARIANT instead of the machine's architecture variant
    #[arg(long, global = true, value_name = "VARIANT")]
    pub override_variant: Option<String>,
}

impl PlatformArgs {
    /// The platform asked for, or `None` for the host's.
    pub fn platform(&self) -> Option<Platform> {
        if self.override_os.is_none()
            && self.override_arch.is_none()
            && self.override_variant.is_none()
        {
            return None;
        }
        let host = Platform::host();
        Some(Platform::new(
            self.override_os.as_deref().unwrap_or(&host.os),
            self.override_arch.as_deref().unwrap_or(&host.architecture),
            self.override_variant.as_deref().or(host.variant.as_deref()),
        ))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compute the digest of a manifest file
    ManifestDigest(commands::manifest_digest::Args),
    /// Show an image's manifest, configuration or skopeo's summary
    Inspect(commands::inspect::Args),
    /// Copy an image between transports
    Copy(commands::copy::Args),
    /// Copy every image of a repository, directory or YAML list to a registry or directory
    Sync(commands::sync::Args),
    /// List the tags of a repository
    ListTags(commands::list_tags::Args),
    /// Delete an image from a registry
    Delete(commands::delete::Args),
    /// Store credentials for a registry
    Login(commands::login::LoginArgs),
    /// Remove stored credentials
    Logout(commands::login::LogoutArgs),
    /// Generate a sigstore (cosign) key pair for --sign-by-sigstore-private-key
    GenerateSigstoreKey(commands::generate_sigstore_key::Args),
    /// Sign a manifest file with a GPG key (simple signing), without a registry
    StandaloneSign(commands::standalone::SignArgs),
    /// Verify a simple-signing signature of a manifest file; prints the digest
    StandaloneVerify(commands::standalone::VerifyArgs),
}
