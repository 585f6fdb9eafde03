//! Image transports and the copy pipeline between any two of them.
//!
//! References use containers-transports(5) syntax ([`ImageRef`]): `docker://HOST/NAME[:TAG|@DIGEST]`,
//! `oci:PATH[:REF]`, `oci-archive:PATH[:REF]`, `docker-archive:PATH[:NAME:TAG]`, `dir:PATH`, and
//! `store:NAME[:TAG]` for wharf's own store. A [`Source`] yields a manifest (or index), its
//! config and blob streams; a [`Destination`] says which blobs it has, takes blob streams
//! (verified before they are kept) and the manifest last. [`copy()`] moves an image between them
//! with bounded parallel transfers, optionally recompressing layers on the way
//! ([`CopyOptions::compress`]); [`inspect()`] gathers what `skopeo inspect` prints;
//! [`sync::plan`] and [`sync::sync`] copy whole repositories, directory trees or a YAML list as
//! skopeo-sync(1) does.
//!
//! Registry transfers are async; file writes run on tokio's blocking pool. The caller owns the
//! runtime.
//!
//! ```no_run
//! # async fn f() -> Result<(), wharf_transport::TransportError> {
//! use wharf_transport::{CopyOptions, Destination, ImageRef, Source, copy};
//! let opts = wharf_registry::ClientOptions::default();
//! let src = Source::open(&ImageRef::parse("docker://127.0.0.1:5000/lab/busybox")?, &opts, None)?;
//! let dst = Destination::open(&ImageRef::parse("oci:/tmp/busybox:latest")?, &opts, None)?;
//! let report = copy(&src, &dst, &CopyOptions::default()).await?;
//! println!("{:?}", report.manifest_digest);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod attestations;
pub mod copy;
mod counting;
pub mod dest;
pub mod docker_archive;
pub mod error;
pub mod files;
pub mod inspect;
mod layout;
pub mod pull;
mod recompress;
pub mod reference;
pub mod referrers;
pub mod shorthand;
pub mod signatures;
pub mod source;
pub mod sync;
pub mod sync_config;

pub use copy::{BlobKind, CopyOptions, CopyReport, Event, Progress, copy};
pub use dest::Destination;
pub use error::TransportError;
pub use inspect::{ImageInfo, Inspection, inspect};
pub use pull::{PullEvent, PullFailure, PullRequest};
pub use reference::ImageRef;
pub use signatures::SignOptions;
pub use source::Source;
pub use sync::{SyncDest, SyncEvent, SyncImage, SyncOptions, SyncPlan, SyncReport, SyncSource};
pub use wharf_oci::ManifestFormat;
pub use wharf_sign::PolicyContext;

/// A blob's bytes as they arrive.
pub type BlobStream = Box<dyn tokio::io::AsyncRead + Send + Unpin>;
