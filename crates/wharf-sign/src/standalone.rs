//! `standalone-sign` / `standalone-verify`: simple signing of a manifest file, without a
//! registry, as skopeo's debugging commands of the same names (containers/image's
//! `SignDockerManifest` and `VerifyImageManifestSignatureUsingKeyIdentityList`).

use std::path::Path;

use pgp::SignedPublicKey;
use wharf_oci::{Digest, Reference};

use crate::error::{Result, SignError};
use crate::simple;

/// The digest a signature of `manifest` names: its sha256. Docker schema 1 signed manifests
/// (whose digest excludes the JWS signatures) are refused rather than signed under a digest
/// no registry would serve.
pub fn manifest_digest(manifest: &[u8]) -> Result<Digest> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "schemaVersion")]
        schema_version: Option<u64>,
        signatures: Option<serde::de::IgnoredAny>,
    }
    let probe: Probe = serde_json::from_slice(manifest).map_err(|e| SignError::Unsupported {
        what: format!("the manifest file is not JSON ({e}); pass the manifest's exact bytes"),
    })?;
    if probe.schema_version == Some(1) && probe.signatures.is_some() {
        return Err(SignError::Unsupported {
            what: "signing a Docker schema 1 signed manifest; convert the image to OCI or \
                   Docker schema 2 first (ferry copy --format oci)"
                .into(),
        });
    }
    Ok(wharf_oci::digest::sha256(manifest))
}

fn normalized(reference: &str) -> Result<String> {
    Reference::parse(reference)
        .map(|r| r.to_string())
        .map_err(|e| SignError::Unsupported {
            what: format!(
                "{reference:?} is not a docker reference ({e}); pass e.g. registry.example.com/repo:tag"
            ),
        })
}

/// Signs `manifest` for `reference` with the GPG key `fingerprint` of the caller's keyring.
pub fn sign(
    manifest: &[u8],
    reference: &str,
    fingerprint: &str,
    passphrase_file: Option<&Path>,
) -> Result<Vec<u8>> {
    // containers/image stores the reference as given, but it must parse as one.
    normalized(reference)?;
    let digest = manifest_digest(manifest)?;
    simple::sign(fingerprint, passphrase_file, reference, &digest)
}

/// The public keys of the caller's GPG keyring (`$GNUPGHOME`), which skopeo's gpgme uses when
/// no `--public-key-file` is given: exported with `gpg --export`, verified here with rPGP.
pub fn keyring_keys() -> Result<Vec<SignedPublicKey>> {
    let gpg = std::path::PathBuf::from("gpg");
    let out = std::process::Command::new("gpg")
        .args(["--batch", "--no-tty", "--export"])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(SignError::io("running", gpg))?;
    if !out.status.success() || out.stdout.is_empty() {
        return Err(SignError::BadKey {
            what: "GPG keyring".into(),
            why: format!(
                "gpg --export gave no public keys ({}); import the signer's key or pass \
                 --public-key-file",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    simple::GpgKeys {
        material: vec![out.stdout],
    }
    .parse()
}

/// Which signing keys `verify` accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fingerprints {
    /// Any key of the given public keys (skopeo's `any`, only with `--public-key-file`).
    Any,
    /// These fingerprints (hex, compared without regard to case).
    List(Vec<String>),
}

impl Fingerprints {
    /// skopeo's KEY-FINGERPRINT argument: `any` or a comma-separated list.
    pub fn parse(arg: &str) -> Self {
        if arg == "any" {
            Self::Any
        } else {
            Self::List(
                arg.split(',')
                    .map(|f| f.trim().replace(' ', "").to_ascii_uppercase())
                    .filter(|f| !f.is_empty())
                    .collect(),
            )
        }
    }
}

/// What a good signature says.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The fingerprint of the key that signed.
    pub key_identity: String,
    pub digest: Digest,
    pub docker_reference: String,
}

/// Verifies `signature` of `manifest` for `reference` with `keys`, made by one of
/// `fingerprints`.
pub fn verify(
    manifest: &[u8],
    reference: &str,
    fingerprints: &Fingerprints,
    signature: &[u8],
    keys: &[SignedPublicKey],
) -> Result<Verified> {
    let expected_ref = normalized(reference)?;
    let (payload, signer) = simple::verify_signer(keys, signature)?;
    if let Fingerprints::List(list) = fingerprints
        && !list.contains(&signer)
    {
        return Err(SignError::BadSignature {
            why: format!(
                "signature by {signer} does not match the expected fingerprints [{}]",
                list.join(", ")
            ),
        });
    }
    let signed_ref = &payload.critical.identity.docker_reference;
    if normalized(signed_ref).ok().as_deref() != Some(expected_ref.as_str()) {
        return Err(SignError::BadSignature {
            why: format!("docker reference {signed_ref} does not match {reference}"),
        });
    }
    let digest = manifest_digest(manifest)?;
    payload.check_digest(&digest)?;
    Ok(Verified {
        key_identity: signer,
        digest,
        docker_reference: signed_ref.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_lists_and_digests() {
        assert_eq!(Fingerprints::parse("any"), Fingerprints::Any);
        assert_eq!(
            Fingerprints::parse("ab12,CD34"),
            Fingerprints::List(vec!["AB12".into(), "CD34".into()])
        );
        assert!(manifest_digest(b"not json").is_err());
        assert!(manifest_digest(br#"{"schemaVersion":1,"signatures":[]}"#).is_err());
        assert_eq!(
            manifest_digest(br#"{"schemaVersion":2}"#).unwrap(),
            wharf_oci::digest::sha256(br#"{"schemaVersion":2}"#)
        );
    }
}
