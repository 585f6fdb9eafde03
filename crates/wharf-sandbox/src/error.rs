//! The crate's error type.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while entering the sandbox, mounting layers, or writing a spec.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot find the current executable (/proc/self/exe)")]
    CurrentExe(#[source] io::Error),

    #[error("argument or environment for {what} contains a NUL byte")]
    NulByte { what: String },

    #[error("command {program:?} not found in PATH")]
    CommandNotFound { program: String },

    #[error("cannot create a child process")]
    Fork(#[source] io::Error),

    /// The diagnosis names the real cause (a sysctl, a seccomp filter, a capability) and the
    /// errno: see [`crate::isolation::Facts::userns_refusal`].
    #[error(
        "cannot create a user namespace: {diagnosis}; hint: run as root in the job container \
         (kiln builds there with --isolation rootfs), or allow user namespaces (a seccomp \
         profile that permits unshare/clone with CLONE_NEWUSER, e.g. podman's default)"
    )]
    Unshare { diagnosis: String },

    #[error("{tool} {pid} failed ({status}): {stderr}")]
    IdMapTool {
        tool: &'static str,
        pid: i32,
        status: String,
        stderr: String,
    },

    #[error("cannot run {tool}; hint: install the Debian package uidmap")]
    IdMapToolSpawn {
        tool: &'static str,
        #[source]
        source: io::Error,
    },

    #[error("cannot write the ID map {path}")]
    IdMapWrite {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("{path}:{line}: {reason}")]
    SubIdFile {
        path: PathBuf,
        line: usize,
        reason: String,
    },

    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("the namespace child stopped before it was ready")]
    ChildLost(#[source] io::Error),

    #[error("waiting for process {pid} failed")]
    Wait {
        pid: i32,
        #[source]
        source: io::Error,
    },

    #[error("{operation} failed on {target}")]
    Mount {
        operation: &'static str,
        target: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("unknown storage driver {name:?} (known: overlay, fuse-overlayfs, copy)")]
    UnknownDriver { name: String },

    #[error("storage driver {driver} is not usable here: {reason}")]
    DriverUnavailable {
        driver: &'static str,
        reason: String,
    },

    #[error("{tool} failed on {target} ({status}): {stderr}")]
    Tool {
        tool: &'static str,
        target: PathBuf,
        status: String,
        stderr: String,
    },

    #[error("cannot run {tool}; hint: install the Debian package {package}")]
    ToolSpawn {
        tool: &'static str,
        package: &'static str,
        #[source]
        source: io::Error,
    },

    #[error("copying {from} to {to}")]
    Copy {
        from: PathBuf,
        to: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("no lower layer given for the mount at {target}")]
    NoLayers { target: PathBuf },

    #[error(
        "the overlay option string for {target} is {len} bytes, over the {limit}-byte limit of mount(2); this kernel lacks fsconfig lowerdir+ (Linux 6.8)"
    )]
    OverlayOptionsTooLong {
        target: PathBuf,
        len: usize,
        limit: usize,
    },

    #[error(
        "layer path {path} contains a character overlayfs cannot take in a legacy option string (',' ':' or '\\\\')"
    )]
    OverlayPathChars { path: PathBuf },

    #[error("building the runtime spec: {what}")]
    Spec {
        what: String,
        #[source]
        source: oci_spec::OciSpecError,
    },

    #[error("invalid runtime spec {path}")]
    InvalidSpec {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    #[error("cannot serialise the runtime spec")]
    SerializeSpec(#[source] serde_json::Error),

    #[error("user {user:?} not found in the image's /etc/passwd")]
    UnknownUser { user: String },

    #[error("group {group:?} not found in the image's /etc/group")]
    UnknownGroup { group: String },

    #[error("unknown capability {name:?}")]
    UnknownCapability { name: String },

    #[error("invalid seccomp profile {what}")]
    SeccompProfile {
        what: String,
        #[source]
        source: serde_json::Error,
    },

    #[error("container setup failed while {step}")]
    ContainerSetup {
        step: String,
        #[source]
        source: io::Error,
    },

    #[error("cannot execute {program:?} in the container")]
    ContainerExec {
        program: String,
        #[source]
        source: io::Error,
    },

    #[error(
        "the embedded runtime needs root or the rootless user namespace; hint: call maybe_reexec_in_userns() at the start of main"
    )]
    NeedsUserNamespace,

    #[error("the embedded runtime does not support {what}; hint: use --runtime runc")]
    Unsupported { what: String },

    #[error("compiling the seccomp filter")]
    SeccompCompile(#[source] seccompiler::BackendError),

    #[error("invalid {what} {value:?}: {reason}")]
    InvalidInput {
        what: &'static str,
        value: String,
        reason: String,
    },

    #[error(
        "cannot re-execute from a sealed copy of the executable while {step} (a container started \
         from the installed file could overwrite it through /proc/self/exe); hint: allow \
         executable memfds (sysctl vm.memfd_noexec=0), or install the binary on a read-only \
         mount, which needs no copy"
    )]
    SealedExe {
        step: &'static str,
        #[source]
        source: io::Error,
    },

    #[error("setting up the container's cgroup")]
    Cgroup(#[from] crate::cgroup::CgroupError),
}

impl SandboxError {
    /// The exit code podman uses for this failure: 127 when the command does not exist, 126 when
    /// it cannot be executed, 125 for every error of the tool itself.
    pub fn exit_code(&self) -> u8 {
        match self {
            SandboxError::CommandNotFound { .. } => 127,
            SandboxError::ContainerExec { source, .. }
                if source.kind() == io::ErrorKind::NotFound =>
            {
                127
            }
            SandboxError::ContainerExec { .. } => 126,
            _ => 125,
        }
    }
}
