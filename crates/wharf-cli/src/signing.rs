//! Signature policy and signing flags, shared by `ferry`, `kiln` and `berth`.
//!
//! The policy is containers-policy.json(5): `--signature-policy`/`--policy`, else
//! `$HOME/.config/containers/policy.json`, else `/etc/containers/policy.json`. As with skopeo
//! and podman, no policy file is an error (never "accept anything"); `--insecure-policy`
//! accepts any image.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use wharf_sign::{PolicyContext, PrivateKey, RegistriesD, Signer};
use wharf_transport::SignOptions;

/// Where the signature policy comes from.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PolicyArgs {
    /// Signature policy file (containers-policy.json); default
    /// $HOME/.config/containers/policy.json, else /etc/containers/policy.json
    #[arg(
        long = "signature-policy",
        visible_alias = "policy",
        value_name = "PATH"
    )]
    pub signature_policy: Option<PathBuf>,
    /// Accept every image without checking the signature policy
    #[arg(long)]
    pub insecure_policy: bool,
    /// Registries.d directory: where signatures are stored (lookaside, sigstore attachments)
    #[arg(long = "registries.d", value_name = "DIR")]
    pub registries_d: Option<PathBuf>,
}

impl PolicyArgs {
    /// The policy context these flags name.
    ///
    /// # Errors
    /// No policy file, or an invalid policy or registries.d file.
    pub fn context(&self) -> anyhow::Result<Arc<PolicyContext>> {
        policy_context(
            self.signature_policy.as_deref(),
            self.insecure_policy,
            self.registries_d.as_deref(),
        )
    }
}

/// The policy context of `policy` (the flag), `insecure` and the registries.d directory.
///
/// # Errors
/// No policy file, or an invalid policy or registries.d file.
pub fn policy_context(
    policy: Option<&Path>,
    insecure: bool,
    registries_d: Option<&Path>,
) -> anyhow::Result<Arc<PolicyContext>> {
    Ok(Arc::new(PolicyContext::load(
        policy,
        insecure,
        registries_d,
    )?))
}

/// Signing flags with skopeo's names.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SignArgs {
    /// Sign the image with the GPG key of this fingerprint
    #[arg(long, value_name = "FINGERPRINT")]
    pub sign_by: Option<String>,
    /// Sign the image with this sigstore (cosign) private key
    #[arg(long, value_name = "PATH")]
    pub sign_by_sigstore_private_key: Option<PathBuf>,
    /// Read the signing key's passphrase from the first line of PATH (default: $COSIGN_PASSWORD, else none)
    #[arg(long, value_name = "PATH")]
    pub sign_passphrase_file: Option<PathBuf>,
    /// Where sigstore signatures go: legacy (the sha256-HEX.sig tag) or oci-1-1 (an OCI 1.1
    /// referrer of the image), as cosign's flag of the same name
    #[arg(long, value_name = "MODE", value_parser = ["legacy", "oci-1-1"])]
    pub registry_referrers_mode: Option<String>,
}

impl SignArgs {
    /// The signing options these flags ask for (`None`: no signing); `identity` is
    /// `--sign-identity`.
    ///
    /// # Errors
    /// An unreadable key or passphrase file, a wrong passphrase.
    pub fn options(
        &self,
        registries_d: Option<&Path>,
        identity: Option<&str>,
    ) -> anyhow::Result<Option<SignOptions>> {
        let mut signers = Vec::new();
        if let Some(fingerprint) = &self.sign_by {
            signers.push(Arc::new(Signer::Gpg {
                fingerprint: fingerprint.clone(),
                passphrase_file: self.sign_passphrase_file.clone(),
            }));
        }
        if let Some(key_path) = &self.sign_by_sigstore_private_key {
            let passphrase = read_passphrase(self.sign_passphrase_file.as_deref())?;
            let pem = std::fs::read(key_path)
                .with_context(|| format!("reading the private key {}", key_path.display()))?;
            let key =
                PrivateKey::from_pem(&pem, passphrase.as_bytes(), &key_path.display().to_string())?;
            signers.push(Arc::new(Signer::Sigstore(key)));
        }
        if signers.is_empty() {
            if self.sign_passphrase_file.is_some() {
                anyhow::bail!(
                    "--sign-passphrase-file needs --sign-by or --sign-by-sigstore-private-key"
                );
            }
            return Ok(None);
        }
        let identity = identity
            .map(|s| {
                wharf_oci::Reference::parse(s).with_context(|| format!("--sign-identity {s:?}"))
            })
            .transpose()?;
        let dir = RegistriesD::default_dir(registries_d);
        Ok(Some(SignOptions {
            signers,
            identity,
            registries_d: RegistriesD::load(&dir)?,
            referrers_mode: self.registry_referrers_mode.as_deref() == Some("oci-1-1"),
        }))
    }
}

/// The passphrase: the first line of `file`, else `$COSIGN_PASSWORD`, else empty. Never
/// printed.
///
/// # Errors
/// An unreadable file.
pub fn read_passphrase(file: Option<&Path>) -> anyhow::Result<String> {
    match file {
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("reading the passphrase file {}", f.display()))?;
            Ok(text.lines().next().unwrap_or_default().to_owned())
        }
        None => Ok(std::env::var("COSIGN_PASSWORD").unwrap_or_default()),
    }
}
