//! The build engine's error type.

use std::path::PathBuf;

use wharf_archive::ArchiveError;
use wharf_dockerfile::ignore::IgnoreError;
use wharf_sandbox::SandboxError;
use wharf_store::StoreError;

/// Everything that can make a build fail.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The Dockerfile does not parse or expand.
    #[error("{rendered}")]
    Dockerfile {
        /// `FILE:LINE:COLUMN: message`.
        rendered: String,
        /// The line concerned (0 when none).
        line: usize,
    },
    /// A step failed; names the Dockerfile line.
    #[error("{file}:{line}: {instruction}")]
    Step {
        file: String,
        line: usize,
        /// The instruction as written.
        instruction: String,
        #[source]
        source: Box<BuildError>,
    },
    /// A RUN command ended with a non-zero status.
    #[error("command exited with status {code}")]
    RunFailed { code: u8 },
    /// A COPY/ADD source that does not exist (or is excluded by the ignore file).
    #[error("source {path:?} not found in the build context{}", if *.excluded { " (excluded by the ignore file)" } else { "" })]
    SourceNotFound { path: String, excluded: bool },
    /// No source of a COPY/ADD matched: every one was a wildcard matching nothing. One
    /// unmatched wildcard among others is fine (BuildKit's `AllowEmptyWildcard`).
    #[error(
        "no source file matched in {within}: {patterns} not found (a wildcard may match nothing only when another source matches)"
    )]
    NoSourceMatched { patterns: String, within: String },
    /// A COPY --from source missing in the stage or image.
    #[error("source {path:?} not found in {from}")]
    SourceNotFoundIn { path: String, from: String },
    /// Several sources need a directory destination.
    #[error(
        "when using COPY with more than one source file, the destination must be a directory and end with a /"
    )]
    DestNotDirectory,
    /// A `--from=` or `FROM` naming nothing we know.
    #[error("image {name:?} not found in the store")]
    BaseNotFound {
        name: String,
        #[source]
        source: Box<StoreError>,
    },
    /// `--pull=never` and the image is not in the store.
    #[error("image {name:?} is not in the store and --pull=never forbids pulling it")]
    NotPulled {
        name: String,
        #[source]
        source: Box<StoreError>,
    },
    /// No registry had the image.
    #[error("{name:?} not found in the store, and pulling it failed (tried {tried})")]
    PullFailed {
        name: String,
        /// The references tried, comma-separated.
        tried: String,
        /// The last attempt's failure.
        #[source]
        source: Box<wharf_transport::TransportError>,
    },
    /// A short name with no alias and no unqualified-search registries.
    #[error(
        "{name:?} not found in the store, and as a short name it has no alias and registries.conf lists no unqualified-search registries"
    )]
    NoSearchRegistries { name: String },
    #[error("reading registries.conf")]
    RegistriesConf {
        #[source]
        source: Box<wharf_registry::RegistryError>,
    },
    /// An ONBUILD trigger of the base image that cannot run.
    #[error("invalid ONBUILD trigger {trigger:?} in the base image: {reason}")]
    BadTrigger { trigger: String, reason: String },
    /// An ADD URL that could not be downloaded.
    #[error("fetching {url}: {reason}")]
    Fetch { url: String, reason: String },
    /// An ADD URL whose content does not match `--checksum`.
    #[error("{url}: checksum mismatch: expected {expected}, got {actual}")]
    ChecksumMismatch {
        url: String,
        expected: wharf_oci::Digest,
        actual: wharf_oci::Digest,
    },
    /// A `--build-arg-file` line that is not `KEY[=VALUE]`.
    #[error("{}:{line}: {reason}", path.display())]
    BuildArgFile {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    /// A `RUN --mount` this engine cannot set up.
    #[error("invalid mount {spec}: {reason}")]
    InvalidMount { spec: String, reason: String },
    /// `RUN --mount=type=secret,required` without a matching `--secret`.
    #[error("secret {id:?} is required but was not given (use --secret id={id},src=FILE)")]
    SecretMissing { id: String },
    /// `RUN --mount=type=ssh,required` without a matching `--ssh`.
    #[error("ssh agent {id:?} is required but was not given (use --ssh {id}=SOCKET)")]
    SshMissing { id: String },
    /// A `--secret` whose file or variable cannot be read (the value is never shown).
    #[error("secret {id:?}: cannot read {from}")]
    SecretUnreadable { id: String, from: String },
    /// A `--chown` or `--chmod` value we cannot use.
    #[error("invalid --{flag} value {value:?}: {reason}")]
    InvalidFlag {
        flag: &'static str,
        value: String,
        reason: String,
    },
    /// `FROM --platform=` with a value that is not `OS/ARCH[/VARIANT]`.
    #[error("invalid platform {value:?}")]
    BadPlatform {
        value: String,
        #[source]
        source: wharf_oci::platform::PlatformError,
    },
    /// A RUN for a platform whose binaries this machine cannot execute.
    #[error(
        "running commands for {platform} needs qemu-user emulation: {reason}; install Debian's \
         qemu-user-static and binfmt-support, with binfmt_misc mounted \
         (mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc)"
    )]
    NoEmulation {
        platform: String,
        reason: crate::emulation::EmulationMissing,
    },
    /// A base image built for another platform than the one asked for.
    #[error("image {name:?} is for {found}, not {wanted}")]
    PlatformMismatch {
        name: String,
        found: String,
        wanted: String,
    },
    /// A manifest list in the store without an image for the platform asked for.
    #[error("the manifest list {name:?} has no image for {wanted}")]
    NoPlatformImage { name: String, wanted: String },
    /// An SBOM or provenance statement could not be made or read.
    #[error("attestation: {reason}")]
    Attestation { reason: String },
    /// A feature this engine does not implement yet.
    #[error("{what} is not supported yet")]
    Unsupported { what: String },
    /// `ADD` of a Git repository failed (`git` ran and said why, or could not run).
    #[error("fetching the Git source {source_url}: {reason}")]
    GitFetch { source_url: String, reason: String },
    /// A CDI device (`--device`, `RUN --device`) that cannot be resolved or applied.
    #[error(transparent)]
    Cdi(#[from] wharf_sandbox::cdi::CdiError),
    /// A `-v`/`--volume` of the build that cannot be mounted as asked.
    #[error("invalid --volume {value:?}: {reason}")]
    InvalidVolume { value: String, reason: String },
    /// `RUN --network=host` in a build whose network is not the host's: the Dockerfile alone
    /// may not open the host's network (and services on its loopback) to a RUN, as BuildKit's
    /// `network.host` entitlement.
    #[error(
        "RUN --network=host needs the build's network to be the host's; hint: kiln build \
         --network host, if you trust this Dockerfile with the host's network"
    )]
    HostNetworkNotAllowed,
    /// The RUN isolation asked for (or every one) cannot work here; the reason names the
    /// refused syscall or mount, its cause and the mode that would work.
    #[error("{reason}")]
    Isolation { reason: String },
    /// Layers need an overlay driver: the copy driver has no upper directory to snapshot.
    #[error("building needs kernel overlay or fuse-overlayfs; only the copy driver works here")]
    NoOverlay,
    /// The Dockerfile cannot be read.
    #[error("reading {}", path.display())]
    ReadDockerfile {
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
    #[error("invalid cache record {}", path.display())]
    CacheRecord {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("serialising the image")]
    Serialize(#[source] serde_json::Error),
    #[error("building an OCI document")]
    Spec(#[from] wharf_oci::oci_spec::OciSpecError),
    #[error("building the manifest")]
    Manifest(#[from] wharf_oci::manifest::ManifestError),
    #[error("invalid image config")]
    Config(#[from] wharf_oci::config::ConfigError),
    /// A `--cache-to`/`--cache-from` value that is not a repository.
    #[error("invalid cache repository {repo:?}")]
    CacheRepo {
        repo: String,
        #[source]
        source: Box<wharf_oci::reference::ReferenceError>,
    },
    #[error("invalid cache repository {repo:?}: name a repository, without a tag or digest")]
    CacheRepoTagged { repo: String },
    /// Talking to a cache repository failed.
    #[error("registry cache {repo}")]
    RemoteCache {
        repo: String,
        #[source]
        source: Box<wharf_registry::RegistryError>,
    },
    /// A manifest in a cache repository that is not a usable cache record.
    #[error("registry cache {repo}: record {key}: {what}")]
    BadRemoteRecord {
        repo: String,
        key: wharf_oci::Digest,
        what: String,
    },
    /// An `--output` value we cannot use.
    #[error("invalid --output {spec:?}: {reason}")]
    InvalidOutput { spec: String, reason: String },
    /// Writing an `--output` image archive failed.
    #[error("writing {dest}")]
    Output {
        dest: String,
        #[source]
        source: Box<wharf_transport::TransportError>,
    },
    /// An ADD URL or a context URL could not be downloaded (the error names the URL).
    #[error(transparent)]
    Download(Box<wharf_registry::RegistryError>),
    #[error(transparent)]
    Store(Box<StoreError>),
    #[error(transparent)]
    Sandbox(Box<SandboxError>),
    #[error(transparent)]
    Archive(Box<ArchiveError>),
    #[error(transparent)]
    Ignore(Box<IgnoreError>),
    /// The private network of RUN could not be started.
    #[error(transparent)]
    Network(Box<wharf_sandbox::network::NetworkError>),
}

/// `From` for causes kept boxed in an error enum (to keep its `Result`s small).
macro_rules! boxed_from {
    ($target:ident: $($t:ty => $v:ident),*) => {$(
        impl From<$t> for $target {
            fn from(e: $t) -> Self {
                $target::$v(Box::new(e))
            }
        }
    )*};
}
pub(crate) use boxed_from;

boxed_from!(BuildError: StoreError => Store, SandboxError => Sandbox, ArchiveError => Archive, IgnoreError => Ignore, wharf_sandbox::network::NetworkError => Network);

impl BuildError {
    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| BuildError::Io { op, path, source }
    }

    /// The exit code of a failed RUN, if that is what failed.
    pub fn run_exit_code(&self) -> Option<u8> {
        match self {
            BuildError::RunFailed { code } => Some(*code),
            BuildError::Step { source, .. } => source.run_exit_code(),
            _ => None,
        }
    }
}

/// `error: cause: cause`, for messages that are shown rather than returned.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
