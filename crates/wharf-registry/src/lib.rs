//! A client for registries that speak the OCI distribution spec (Docker registry v2).
//!
//! One [`RegistryClient`] serves one registry host. It finds TLS trust in certs.d, credentials
//! in `--creds` or the containers/Docker auth files, answers basic and bearer challenges
//! (tokens cached per scope), retries 429/5xx/resets with backoff and `Retry-After`, and
//! streams blobs both ways with every byte checked against its digest. [`RegistriesConf`]
//! reads registries.conf for insecure and blocked registries, mirrors and short-name aliases;
//! [`RegistryContext`] (the [`ClientOptions`] of a process, with that configuration loaded
//! once) is what every command hands to the transports, and [`shortnames`] resolves short
//! names for all of them.
//!
//! ```no_run
//! # async fn f() -> Result<(), wharf_registry::RegistryError> {
//! use wharf_registry::{ClientOptions, RegistryClient};
//! let client = RegistryClient::new("127.0.0.1:5000", &ClientOptions::default())?;
//! let manifest = client.get_manifest("lab/busybox", "latest").await?;
//! println!("{} {}", manifest.media_type, manifest.digest);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod auth;
pub mod auth_file;
pub mod blob;
pub mod challenge;
pub mod client;
pub mod context;
pub mod download;
pub mod error;
pub mod manifest;
pub mod paths;
pub mod referrers;
pub mod registries_conf;
pub mod retry;
pub mod shortnames;
pub mod speed;
pub mod tags;
pub mod tls;

pub use auth_file::Credentials;
pub use blob::{BlobReader, PushedBlob, Upload, UploadOptions};
pub use client::{ClientOptions, PingInfo, RegistryClient, check_repository};
pub use context::RegistryContext;
pub use download::{Downloaded, Downloader};
pub use error::RegistryError;
pub use manifest::{Manifest, ManifestHead};
pub use paths::ConfigPaths;
pub use registries_conf::{PullSource, RegistriesConf};
pub use retry::RetryPolicy;
