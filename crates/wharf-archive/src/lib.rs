//! The layer codec: directories and overlay upper directories become OCI layer tars, and layer
//! tars are applied safely onto directories.
//!
//! - [`write_layer`] walks a tree in a fixed order and streams a tar (PAX for long names and
//!   xattrs, hard links, devices, fifos; overlay whiteouts become `.wh.` entries) through gzip
//!   or zstd, computing the blob digest and the diff ID on the way.
//! - [`apply_layer`] extracts a tar inside a root (`openat2` with `RESOLVE_IN_ROOT`), honours
//!   whiteouts and refuses hostile entries with an error naming them.
//! - [`LayerReader`] verifies a compressed blob while it is decompressed ([`DiffReader`] checks
//!   only the decompressed side, for a caller that hashes the blob itself).
//!
//! ```
//! use wharf_archive::*;
//! let src = tempfile::tempdir().unwrap();
//! std::fs::write(src.path().join("hello"), b"hi").unwrap();
//! let mut blob = Vec::new();
//! let opts = WriteOptions { compression: LayerCompression::Gzip, ..WriteOptions::default() };
//! let info = write_layer(src.path(), &mut blob, &opts).unwrap();
//!
//! let dst = tempfile::tempdir().unwrap();
//! let mut reader = LayerReader::new(&blob[..], LayerCompression::Gzip).unwrap();
//! let apply = ApplyOptions { same_owner: false, ..ApplyOptions::default() };
//! apply_layer(&mut reader, dst.path(), &apply).unwrap();
//! assert_eq!(reader.finish().unwrap(), info);
//! assert_eq!(std::fs::read(dst.path().join("hello")).unwrap(), b"hi");
//! ```
#![forbid(unsafe_code)]

mod apply;
mod compress;
mod error;
mod header;
pub mod limits;
pub mod names;
mod options;
mod overlay_out;
mod pgzip;
mod pipeline;
mod reader;
mod root;
mod write;
mod zstdmt;

pub use apply::apply_layer;
pub use compress::{
    CompressWriter, Compressor, DEFAULT_GZIP_LEVEL, DEFAULT_ZSTD_LEVEL, decompress, sniff,
};
pub use error::ArchiveError;
pub use limits::{ExpansionError, ExpansionLimits};
pub use options::{
    ApplyOptions, ApplyStats, DeviceNodes, NodeStat, SKIPPED_PATHS_KEPT, SkippedDevices, Whiteouts,
};
pub use pipeline::apply_layer_threaded;
pub use reader::{DiffInfo, DiffReader, LayerReader};
pub use wharf_oci::media_type::LayerCompression;
pub use write::{
    Change, LayerInfo, LayerSource, PendingFiles, WriteOptions, write_layer, write_layer_changes,
    write_layer_changes_filling, write_layer_filling,
};
