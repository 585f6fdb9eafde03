//! The one error type of the layer codec. Every variant about an archive entry names the entry.

use std::io;
use std::path::PathBuf;

/// Why writing, reading or applying a layer failed.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("entry {entry:?} escapes the root through '..'")]
    Escape { entry: String },
    #[error(
        "entry {entry:?} has an absolute name (refused; set ApplyOptions::confine_absolute_names to strip the leading '/')"
    )]
    AbsolutePath { entry: String },
    #[error("entry {entry:?} has an empty or invalid name")]
    InvalidName { entry: String },
    #[error("symlink {entry:?} -> {target:?} points outside the root")]
    SymlinkEscape { entry: String, target: String },
    #[error(
        "hard link {entry:?} -> {target:?}: the target does not exist in the root or cannot be linked"
    )]
    HardlinkTarget {
        entry: String,
        target: String,
        #[source]
        source: io::Error,
    },
    #[error("entry {entry:?} replaces a directory that this layer already created or traversed")]
    ReplacesDirectory { entry: String },
    #[error(
        "entry {entry:?} is a device node, and device nodes are refused (ApplyOptions::devices)"
    )]
    DeviceNotAllowed { entry: String },
    #[error("entry {entry:?} is an invalid whiteout")]
    BadWhiteout { entry: String },
    #[error("entry {entry:?} has an unsupported tar entry type {kind:?}")]
    UnsupportedType { entry: String, kind: char },
    #[error("entry {entry:?}: {op} failed")]
    Entry {
        entry: String,
        op: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("reading the layer tar stream failed")]
    Tar(#[source] io::Error),
    #[error("cannot open the root directory {path:?}")]
    Root {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path:?}: {op} failed")]
    Source {
        path: PathBuf,
        op: &'static str,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path:?} uses the overlay feature {feature:?}, which cannot be turned into a layer (mount without redirect_dir/metacopy)"
    )]
    OverlayFeature { path: PathBuf, feature: String },
    #[error("writing the layer stream failed")]
    Output(#[source] io::Error),
    #[error("{0} stream failed")]
    Compression(&'static str, #[source] io::Error),
    #[error("the layer writer thread panicked")]
    WorkerPanicked,
}

/// Entry names in errors are shown lossily: they come from untrusted bytes.
pub(crate) fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
