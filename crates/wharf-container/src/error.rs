//! The one error type of the crate.

use wharf_sandbox::SandboxError;
use wharf_sandbox::cgroup::CgroupError;
use wharf_sandbox::network::NetworkError;
use wharf_sandbox::volume::VolumeError;
use wharf_store::StoreError;

/// Everything that can make a container operation fail.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("no container with name or ID {key:?} found")]
    NotFound { key: String },
    #[error(
        "container ID prefix {key:?} is ambiguous: it matches {}; hint: give more of the ID, or the name",
        candidates.join(", ")
    )]
    Ambiguous {
        key: String,
        candidates: Vec<String>,
    },
    /// Containers of berth and working containers of kiln share one namespace of names, as
    /// podman's and buildah's do in containers/storage.
    #[error(
        "the container name {name:?} is already in use by {id}; hint: remove that container \
         (berth rm {name}, kiln rm {name}) or choose another name"
    )]
    NameInUse { name: String, id: String },
    /// A flag's value refused before anything was created; the message names the flag, the
    /// cause and the fix.
    #[error("{0}")]
    Invalid(String),
    /// The OCI runtime failed; `code` is podman's exit code for it (125, or the runtime's).
    #[error("{message}")]
    Runtime { code: u8, message: String },
    /// What was being done when `source` failed.
    #[error("{what}")]
    Context {
        what: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    #[error(transparent)]
    Network(#[from] NetworkError),
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    #[error(transparent)]
    Volume(#[from] VolumeError),
}

impl ContainerError {
    /// podman's exit code for this failure: the sandbox's (126: the container's command cannot
    /// be executed, 127: not found), the OCI runtime's, else 125.
    pub fn exit_code(&self) -> u8 {
        match self {
            ContainerError::Sandbox(e) => e.exit_code(),
            ContainerError::Runtime { code, .. } => *code,
            _ => 125,
        }
    }
}

/// `.ctx(|| "what was being done")` on any error: [`ContainerError::Context`].
pub(crate) trait Ctx<T> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T, ContainerError>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> Ctx<T> for Result<T, E> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T, ContainerError> {
        self.map_err(|e| ContainerError::Context {
            what: what(),
            source: Box::new(e),
        })
    }
}

/// Returns [`ContainerError::Invalid`] with the formatted message.
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::ContainerError::Invalid(format!($($arg)*)))
    };
}

/// [`bail!`] unless the condition holds.
macro_rules! ensure {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            $crate::error::bail!($($arg)*);
        }
    };
}

pub(crate) use {bail, ensure};
