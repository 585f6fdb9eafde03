//! The store's error type: one enum, variants carrying what and where.

use std::io;
use std::path::{Path, PathBuf};

use wharf_oci::Digest;
use wharf_oci::digest::DigestError;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{op} {}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("blob refused: expected digest {expected}, content has {actual}")]
    DigestMismatch { expected: Digest, actual: Digest },
    #[error("blob {digest} refused: expected {expected} bytes, content has {actual}")]
    SizeMismatch {
        digest: Digest,
        expected: u64,
        actual: u64,
    },
    #[error("blob {digest} is not in the store ({})", path.display())]
    BlobNotFound { digest: Digest, path: PathBuf },
    #[error("cannot verify blob")]
    Digest(#[from] DigestError),
    #[error("invalid JSON in {what}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "blob {digest} is {size} bytes, more than the {limit} bytes accepted for JSON documents"
    )]
    JsonTooLarge {
        digest: Digest,
        size: u64,
        limit: u64,
    },
    #[error("image {input:?} not found in the store")]
    ImageNotFound { input: String },
    #[error("{input:?} matches several images: {}", candidates.join(", "))]
    Ambiguous {
        input: String,
        candidates: Vec<String>,
    },
    #[error("invalid image name {name:?}")]
    InvalidName {
        name: String,
        #[source]
        source: wharf_oci::reference::ReferenceError,
    },
    #[error(
        "invalid container ID {id:?} (allowed: letters, digits, '_', '.', '-', not starting with '.')"
    )]
    InvalidContainerId { id: String },
    #[error("unsupported manifest media type {media_type:?}")]
    UnsupportedMediaType { media_type: String },
    #[error("manifest says its media type is {found:?} but it was committed as {given:?}")]
    MediaTypeMismatch { given: String, found: String },
    #[error("manifest {manifest} names {role} {digest}, which is not in the store")]
    MissingBlob {
        manifest: Box<Digest>,
        role: String,
        digest: Digest,
    },
    #[error(
        "manifest {manifest} names {role} {digest} with size {expected}, but the stored blob has {actual} bytes"
    )]
    ReferencedSizeMismatch {
        manifest: Box<Digest>,
        role: String,
        digest: Digest,
        expected: u64,
        actual: u64,
    },
    #[error("manifest has {layers} layers but the config lists {diff_ids} diff IDs")]
    LayerCountMismatch { layers: usize, diff_ids: usize },
    #[error(
        "layer {digest} has media type {media_type:?}, which is not a layer type wharf can unpack"
    )]
    UnknownLayerType { digest: Digest, media_type: String },
    #[error("layer {layer} unpacks to diff ID {actual}, but the config says {expected}")]
    DiffIdMismatch {
        layer: Box<Digest>,
        expected: Box<Digest>,
        actual: Digest,
    },
    #[error("unpacking layer {digest}")]
    Archive {
        digest: Digest,
        #[source]
        source: Box<wharf_archive::ArchiveError>,
    },
    #[error(
        "the store is locked: {} is held by {holder}; gave up after {}s. Wait for that process \
         to finish (or stop it), or set WHARF_LOCK_TIMEOUT=SECONDS (or never) to wait longer",
        path.display(),
        waited.as_secs_f64()
    )]
    LockTimeout {
        path: PathBuf,
        holder: String,
        waited: std::time::Duration,
    },
    #[error(
        "invalid WHARF_LOCK_TIMEOUT {value:?}: give seconds (e.g. 60 or 0.5), 0 to fail at once, or never"
    )]
    BadLockTimeout { value: String },
    #[error(
        "blob {digest} in the store is damaged: its content hashes to {actual} ({}). Remove \
         the images that use it (kiln rmi) and pull or build them again; kiln system check \
         lists everything damaged",
        path.display()
    )]
    CorruptBlob {
        digest: Digest,
        actual: Digest,
        path: PathBuf,
    },
    #[error(
        "no place for the store: neither WHARF_ROOT, XDG_DATA_HOME nor HOME is set (pass --root)"
    )]
    NoRoot,
    #[error("referrer manifest refused: {reason}")]
    BadReferrer { reason: String },
}

impl StoreError {
    /// A closure mapping an I/O error to [`StoreError::Io`] with the operation and path.
    pub(crate) fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> Self + 'a {
        move |source| Self::Io {
            op,
            path: path.to_owned(),
            source,
        }
    }
}
