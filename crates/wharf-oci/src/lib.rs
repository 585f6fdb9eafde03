//! The image model shared by every Wharf crate: digests, media types, descriptors, manifests,
//! indexes, image configs, platforms and image references.
//!
//! Types from [`oci_spec`] are re-exported where they fit (digests, descriptors, manifests and
//! indexes); the image config is our own superset so that Docker-only fields
//! (`Healthcheck`, `OnBuild`, `Shell`) survive a round trip.
//!
//! ```
//! use wharf_oci::reference::Reference;
//! let d = wharf_oci::digest::sha256(b"{}");
//! assert_eq!(d.to_string(), "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
//! let r = Reference::parse("busybox").unwrap().with_default_tag();
//! assert_eq!(r.to_string(), "docker.io/library/busybox:latest");
//! ```
#![forbid(unsafe_code)]

pub mod config;
pub mod digest;
pub mod limits;
pub mod manifest;
pub mod media_type;
pub mod platform;
pub mod reference;

pub use config::ImageConfig;
pub use digest::{Digest, DigestAlgorithm, Hasher};
pub use manifest::{ManifestFormat, RawManifest};
pub use oci_spec;
pub use oci_spec::image::{Descriptor, DescriptorBuilder, ImageIndex, ImageManifest, MediaType};
pub use platform::Platform;
pub use reference::Reference;
