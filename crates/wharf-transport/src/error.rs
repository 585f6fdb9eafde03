//! The error type of every transport and of the copy pipeline.

use std::path::PathBuf;

use wharf_oci::Digest;

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("invalid image reference {input:?}: {why}")]
    BadReference { input: String, why: String },
    #[error(transparent)]
    Registry(#[from] wharf_registry::RegistryError),
    #[error(transparent)]
    Store(#[from] wharf_store::StoreError),
    #[error(transparent)]
    Manifest(#[from] wharf_oci::manifest::ManifestError),
    /// A refusal by the signature policy, or a signature that could not be read or made.
    #[error(transparent)]
    Sign(#[from] wharf_sign::SignError),
    #[error(transparent)]
    Archive(#[from] wharf_archive::ArchiveError),
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("parsing {what}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{what} not found in {location}")]
    NotFound { what: String, location: String },
    #[error("{location}: {what}")]
    Invalid { location: String, what: String },
    #[error("content of {what} does not match its digest: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: Digest,
        actual: Digest,
    },
    #[error("blob {digest}: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        digest: Digest,
        expected: u64,
        actual: u64,
    },
    #[error("no image for platform {platform} in the index (found: {found})")]
    NoPlatform { platform: String, found: String },
    #[error("{destination} cannot hold {what}")]
    Unsupported { destination: String, what: String },
    #[error("--preserve-digests: {what} would change the manifest digest")]
    WouldChangeDigest { what: String },
    /// The YAML error says line, column and field; kept in the message (not as a source) so it
    /// is printed once.
    #[error("{}: {error}", path.display())]
    SyncConfig {
        path: PathBuf,
        error: serde_yaml_ng::Error,
    },
    #[error("listing the images of {image}")]
    SyncPlan {
        image: String,
        #[source]
        source: Box<TransportError>,
    },
    #[error("syncing {from} to {to}")]
    Sync {
        from: String,
        to: String,
        #[source]
        source: Box<TransportError>,
    },
    #[error("recompressing layer {digest}")]
    Recompress {
        digest: Digest,
        #[source]
        source: std::io::Error,
    },
    #[error("a blob transfer task failed: {0}")]
    Task(String),
    /// A referrer failed to be written after others of the same subject were: `what` says
    /// which subject, which referrer failed and exactly which are attached.
    #[error("{what}")]
    ReferrersPartial {
        what: String,
        #[source]
        source: Box<TransportError>,
    },
}

pub type Result<T, E = TransportError> = std::result::Result<T, E>;

impl TransportError {
    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { op, path, source }
    }

    pub(crate) fn json(what: impl Into<String>) -> impl FnOnce(serde_json::Error) -> Self {
        let what = what.into();
        move |source| Self::Json { what, source }
    }

    /// Whether retrying the operation may succeed (network trouble, not bad content).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Registry(e) => e.is_retryable(),
            Self::Io { source, .. } => source
                .get_ref()
                .and_then(|e| e.downcast_ref::<wharf_registry::RegistryError>())
                .is_some_and(wharf_registry::RegistryError::is_retryable),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request the registry client retried already is not retried again per blob: the two
    /// retry loops used to multiply (4 requests × 4 blob attempts for one blob).
    #[test]
    fn what_the_registry_client_retried_is_not_retried_again() {
        let status = || wharf_registry::RegistryError::Status {
            method: "GET".into(),
            url: "https://r.example/v2/a/blobs/sha256:0".into(),
            status: 503,
            code: None,
            message: None,
        };
        assert!(TransportError::Registry(status()).is_retryable());
        let exhausted = wharf_registry::RegistryError::Exhausted(Box::new(status()));
        assert_eq!(exhausted.to_string(), status().to_string());
        assert!(!TransportError::Registry(exhausted).is_retryable());
    }
}
