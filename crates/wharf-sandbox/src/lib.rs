//! Wharf's rootless sandbox: everything that touches namespaces and mounts.
//!
//! - [`userns`]: an unprivileged binary re-executes itself once inside a user + mount namespace
//!   ([`maybe_reexec_in_userns`]) or runs a command there ([`run_in_userns`], `berth unshare`).
//! - [`idmap`]: the subordinate ID ranges and maps behind it.
//! - [`overlay`]: storage drivers (kernel overlay, fuse-overlayfs, copy) for root filesystems.
//! - [`spec`]: OCI runtime specs with podman's defaults, and [`bundle`] to write them for a runtime.
//! - [`runtime`]: the embedded OCI runtime (namespaces, mounts, pivot_root, capabilities,
//!   rlimits, seccomp through seccompiler, exec; a terminal, its own `--init`, and `exec` into a
//!   running container through setns).
//! - [`console`]: a container's terminal from the caller's side (pty master over
//!   `SCM_RIGHTS`, raw mode, relay, window size).
//! - [`network`]: private networks through pasta or slirp4netns; [`runtime_dir`]: the
//!   caller's private directory for the sockets of running containers.
//! - [`syscall`]: the trait through which the logic reaches the kernel, so that tests can fake it.
//!
//! A binary's `main` enters the namespace first, then runs a container from an image's
//! unpacked layers:
//!
//! ```no_run
//! use std::process::ExitCode;
//! use wharf_sandbox::{overlay::{Driver, MountRequest}, spec::SpecOptions};
//!
//! fn main() -> ExitCode {
//!     match wharf_sandbox::maybe_reexec_in_userns() {
//!         Ok(Some(code)) => return code, // the original process: the child has finished
//!         Ok(None) => {}                 // inside the namespace (or root): carry on
//!         Err(e) => return ExitCode::from(e.exit_code()),
//!     }
//!     let run = || -> Result<u8, wharf_sandbox::SandboxError> {
//!         let c = std::path::Path::new("/store/containers/c1");
//!         let driver = Driver::detect(c);
//!         let req = MountRequest {
//!             layers: vec!["/store/layers/base".into(), "/store/layers/app".into()],
//!             upper: c.join("upper"),
//!             work: c.join("work"),
//!             target: c.join("merged"),
//!             volatile: false,
//!         };
//!         driver.mount(&req)?;
//!         let mut opts = SpecOptions::new(&req.target, "c1");
//!         opts.command = Some(vec!["/bin/sh".into(), "-c".into(), "echo hi".into()]);
//!         let bundle = wharf_sandbox::bundle::write_bundle(&c.join("bundle"), None, opts)?;
//!         wharf_sandbox::runtime::run(&bundle.spec, &bundle.dir)
//!     };
//!     match run() {
//!         Ok(code) => ExitCode::from(code),
//!         Err(e) => ExitCode::from(e.exit_code()),
//!     }
//! }
//! ```
#![deny(unsafe_code)]

pub mod bundle;
pub mod cdi;
pub mod cgroup;
pub mod console;
pub mod error;
pub mod idmap;
pub mod isolation;
pub mod network;
pub mod overlay;
pub mod runtime;
pub mod runtime_dir;
pub mod spec;
#[allow(unsafe_code)]
mod sys;
pub mod syscall;
pub mod userns;
pub mod volume;

pub use error::SandboxError;
/// The container-path resolver, shared with the build engine (one resolver for the project).
pub use runtime::path::{MAX_LINKS, ResolveError, resolve_in_root};
pub use userns::{maybe_reexec_in_userns, run_in_userns};
