//! Errors of working containers and manifest lists.

use std::path::PathBuf;

use wharf_archive::ArchiveError;
use wharf_sandbox::SandboxError;
use wharf_store::StoreError;

use crate::BuildError;

/// Everything that can make a working-container or manifest-list operation fail.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("no working container with name or ID {key:?} found")]
    NotFound { key: String },
    #[error("working container ID prefix {key:?} is ambiguous: {candidates:?}")]
    Ambiguous {
        key: String,
        candidates: Vec<String>,
    },
    #[error("the container name {name:?} is already in use by {id}")]
    NameInUse { name: String, id: String },
    #[error(
        "invalid container name {name:?}: use letters, digits, '_', '.' and '-', not starting with '.' or '-'"
    )]
    InvalidName { name: String },
    /// buildah's wording: a rootless mount outside the namespace would vanish with the process.
    #[error(
        "cannot mount using driver {driver} in rootless mode. You need to run it in a `kiln unshare` session"
    )]
    RootlessMount { driver: String },
    #[error("invalid {flag} value {value:?}: {reason}")]
    InvalidValue {
        flag: &'static str,
        value: String,
        reason: String,
    },
    #[error("{name:?} is a manifest list, not an image")]
    NotAnImage { name: String },
    #[error("{name:?} is not a manifest list")]
    NotAList { name: String },
    #[error("{image:?} is not in manifest list {list:?}")]
    NotInList { list: String, image: String },
    #[error("image {name:?} not found in the store")]
    ImageNotFound {
        name: String,
        #[source]
        source: Box<StoreError>,
    },
    #[error("{what} is not supported for working containers")]
    Unsupported { what: String },
    #[error("invalid container record {}", path.display())]
    Record {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "reading {}, the copy driver's snapshot of the container as `kiln from` made it; hint: \
         remove the container (`kiln rm`) and create it again",
        path.display()
    )]
    Baseline {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{op} {}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("serialising {what}")]
    Serialize {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("building an OCI document")]
    Spec(#[from] wharf_oci::oci_spec::OciSpecError),
    #[error("building the manifest")]
    Manifest(#[from] wharf_oci::manifest::ManifestError),
    #[error("invalid image config")]
    Config(#[from] wharf_oci::config::ConfigError),
    #[error(transparent)]
    Build(Box<BuildError>),
    #[error(transparent)]
    Store(Box<StoreError>),
    #[error(transparent)]
    Sandbox(Box<SandboxError>),
    #[error(transparent)]
    Archive(Box<ArchiveError>),
    /// Names, lookups and records shared with berth's containers.
    #[error(transparent)]
    Container(Box<wharf_container::ContainerError>),
}

crate::error::boxed_from!(ContainerError: BuildError => Build, StoreError => Store, SandboxError => Sandbox, ArchiveError => Archive, wharf_container::ContainerError => Container);

impl ContainerError {
    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| ContainerError::Io { op, path, source }
    }

    /// The exit code of a command `run` started that failed, if that is what failed.
    pub fn run_exit_code(&self) -> Option<u8> {
        match self {
            ContainerError::Build(b) => b.run_exit_code(),
            _ => None,
        }
    }
}
