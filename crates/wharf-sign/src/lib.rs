//! Signatures and policy: what decides whether an image may enter, and how Wharf signs what it
//! pushes, compatibly with containers/image (skopeo, podman, buildah) and cosign.
//!
//! - [`policy`]: containers-policy.json(5): parsing, transport and scope precedence, and
//!   evaluation ([`PolicyContext::check`]) of `insecureAcceptAnything`, `reject`,
//!   `sigstoreSigned` and `signedBy`, with `signedIdentity` matching ([`identity`]).
//! - [`registries_d`]: containers-registries.d(5): where signatures of a repository live
//!   (lookaside URLs, sigstore attachments).
//! - [`sigstore`]: cosign-compatible signatures: payloads, ECDSA P-256 keys (cosign's
//!   encrypted private key format), the `sha256-<hex>.sig` attachment ([`attach`]).
//! - [`cert`] and [`rekor`]: keyless (Fulcio) and PKI certificates, and Rekor signed entry
//!   timestamps, verified offline.
//! - [`simple`]: the simple-signing payload of `signedBy` signatures, read from lookaside.
//! - [`standalone`]: skopeo's `standalone-sign` / `standalone-verify` on manifest files.
//!
//! A policy check happens on the copy pipeline's source side, before anything is written.
#![forbid(unsafe_code)]

pub mod attach;
pub mod cert;
pub mod error;
pub mod identity;
pub mod image;
pub mod lookaside;
pub mod policy;
pub mod registries_d;
pub mod rekor;
pub mod sigstore;
pub mod simple;
pub mod standalone;

pub use error::SignError;
pub use image::{PolicyImage, Scopes};
pub use policy::{Policy, PolicyContext, Requirement};
pub use registries_d::RegistriesD;
pub use sigstore::{PrivateKey, PublicKey, Signer};
