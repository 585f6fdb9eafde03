//! The crate's error type.

use std::path::PathBuf;

/// What can go wrong reading policies and keys, verifying or making signatures.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "no signature policy file found at {tried}; install one (containers-common ships \
         /etc/containers/policy.json), pass --policy FILE, or --insecure-policy to accept any image"
    )]
    NoPolicy { tried: String },
    #[error("invalid signature policy {}: {why}", path.display())]
    BadPolicy { path: PathBuf, why: String },
    #[error("invalid registries.d configuration {}: {why}", path.display())]
    BadRegistriesD { path: PathBuf, why: String },
    /// The image is refused by the policy.
    #[error(
        "{image} is refused by the signature policy {}: requirement {requirement} failed: {why}",
        policy.display()
    )]
    Rejected {
        image: String,
        requirement: String,
        policy: PathBuf,
        why: String,
    },
    #[error("invalid key {what}: {why}")]
    BadKey { what: String, why: String },
    #[error("wrong passphrase for the private key {what} (or the key file is damaged)")]
    BadPassphrase { what: String },
    #[error("invalid signature: {why}")]
    BadSignature { why: String },
    #[error("cannot store signatures in {destination}: {why}")]
    CannotStore { destination: String, why: String },
    #[error("signature storage {location}")]
    Registry {
        location: String,
        #[source]
        source: Box<wharf_registry::RegistryError>,
    },
    #[error("fetching {url}: {why}")]
    Fetch { url: String, why: String },
    #[error("unsupported: {what}")]
    Unsupported { what: String },
}

impl SignError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }
}

pub type Result<T, E = SignError> = std::result::Result<T, E>;
