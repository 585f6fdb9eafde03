//! The image model shared by every Wharf crate: digests, media types, descriptors, manifests,
//! indexes, image configs, platforms and image references.
//!
//! Types from [`oci_spec`] are re-exported where they fit (digests, descriptors, manifests and
//! indexes); the image config is our own superset so that Docker-only fields
//! (`Healthcheck`, `OnBuild`, `Shell`) survive a round trip.
//!
//! ```
//! let d = wharf_oci::digest::sha256(b"{}");
//! assert_eq!(d.to_string(), "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
//! ```
#![forbid(unsafe_code)]

pub mod digest;
pub mod media_type;

pub use digest::{Digest, DigestAlgorithm, Hasher};
pub use oci_spec;
pub use oci_spec::image::{Descriptor, DescriptorBuilder, ImageIndex, ImageManifest, MediaType};
