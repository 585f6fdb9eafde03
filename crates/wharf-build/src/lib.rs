//! Wharf's build engine: turns a Dockerfile and a context into an image in the local store.
//!
//! [`build`] parses and expands the Dockerfile with `wharf-dockerfile`, builds the stages the
//! target needs (a stage named by `FROM` or `COPY --from` first), and commits the target:
//!
//! - FROM: an image in the local store (short names resolve to `localhost/NAME` first) or
//!   pulled from a registry as the [`pull`] policy says, `scratch`, or an earlier stage.
//! - Each filesystem instruction (RUN, COPY, ADD, and WORKDIR when it creates the directory)
//!   runs in a [`container::WorkingContainer`]: the base's unpacked layers as overlay lowers and
//!   a fresh upper directory, which becomes one layer afterwards. RUN executes in the sandbox's
//!   embedded runtime, COPY/ADD write through the overlay ([`copy`]).
//! - `RUN --mount` of every type (bind, cache, tmpfs, secret, ssh) and `--network`: the
//!   mounts never reach a layer; [`secrets`] holds what the caller passes in.
//! - The base image's ONBUILD triggers run right after FROM.
//! - Config instructions change the image config ([`config`]); every instruction gets a history
//!   entry, `empty_layer` where nothing changed.
//! - Every instruction has a [`cache`] key; a hit reuses the recorded layer and time, so an
//!   unchanged rebuild gives the same image ID. `timestamp` makes builds reproducible across
//!   stores.
//! - [`remote_cache`] shares the cache through registries (`--cache-to`, `--cache-from`);
//!   [`output`] exports the result (`--output`); [`squash`] merges new layers (`--squash`);
//!   independent stages build concurrently (`BuildOptions::jobs`); [`context_source`] reads
//!   contexts from standard input or a URL.
//! - `BuildOptions::platform` builds for another platform (bases chosen for it, RUN through
//!   qemu-user binfmt emulation, checked by [`emulation`]); [`build_platforms`] builds a list
//!   of platforms and tags an image index of the results.
//!
//! [`builder`] keeps working containers between commands, as buildah does (`kiln from`, `run`,
//! `copy`, `config`, `commit`), and [`manifest_list`] keeps manifest lists in the store.
//!
//! ```no_run
//! # fn main() -> Result<(), wharf_build::BuildError> {
//! // One async runtime per process, built by the binary and passed down.
//! let runtime = tokio::runtime::Runtime::new().expect("a runtime");
//! let store = wharf_store::Store::open_default()?;
//! let mut opts = wharf_build::BuildOptions::new("./app", runtime.handle().clone());
//! opts.tags.push("app".into());
//! let built = wharf_build::build(&store, &opts, &mut |_event| {})?;
//! assert!(built.image_id.to_string().starts_with("sha256:"));
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod attest;
pub mod builder;
pub mod cache;
pub mod config;
pub mod container;
pub mod context;
pub mod context_source;
pub mod copy;
mod copy_flags;
pub mod emulation;
mod engine;
mod error;
mod git_source;
pub mod import;
pub mod manifest_list;
mod metadata;
mod mounts;
pub mod multi_platform;
pub mod network;
mod onbuild;
pub mod output;
pub mod pull;
pub mod remote_cache;
pub mod rootfs;
pub mod run;
pub mod secrets;
mod sources;
pub mod squash;
pub mod tree_diff;

pub use engine::{BuildOptions, Built, Event, NamedContext, build};
pub use error::BuildError;
pub use metadata::{ConfigEdits, read_build_arg_file};
pub use multi_platform::{BuiltList, build_platforms};
pub use pull::{PullOptions, PullPolicy};
pub use secrets::{RunOptions, Secret, SecretSource, SshAgent};
pub use wharf_oci::ManifestFormat;
