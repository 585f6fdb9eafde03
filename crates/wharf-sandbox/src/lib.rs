//! Wharf's rootless sandbox: everything that touches namespaces and mounts.
//!
//! - [`userns`]: an unprivileged binary re-executes itself once inside a user + mount namespace
//!   ([`maybe_reexec_in_userns`]) or runs a command there ([`run_in_userns`], `berth unshare`).
//! - [`idmap`]: the subordinate ID ranges and maps behind it.
//! - [`overlay`]: storage drivers (kernel overlay, fuse-overlayfs, copy) for root filesystems.
//! - [`spec`]: OCI runtime specs with podman's defaults, and [`bundle`] to write them for a runtime.
//! - [`runtime`]: the embedded OCI runtime (namespaces, mounts, pivot_root, capabilities,
//!   rlimits, seccomp through seccompiler, exec).
//! - [`syscall`]: the trait through which the logic reaches the kernel, so that tests can fake it.
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     match wharf_sandbox::maybe_reexec_in_userns() {
//!         Ok(Some(code)) => code,            // the original process: the child has finished
//!         Ok(None) => std::process::ExitCode::SUCCESS, // inside the namespace: do the work here
//!         Err(_) => std::process::ExitCode::from(125),
//!     }
//! }
//! ```
#![deny(unsafe_code)]

pub mod bundle;
pub mod error;
pub mod idmap;
pub mod overlay;
pub mod runtime;
pub mod spec;
#[allow(unsafe_code)]
mod sys;
pub mod syscall;
pub mod userns;

pub use error::SandboxError;
pub use userns::{maybe_reexec_in_userns, run_in_userns};
