//! Test helpers shared by Wharf's test suites. Real parts only: a real registry process, real
//! unprivileged users with subordinate ID ranges, base images made from Debian's busybox-static.
//!
//! Helpers that need something the machine lacks return `None` after printing a loud
//! `SKIP:` line naming what is missing; CI installs everything, so nothing skips there.
#![forbid(unsafe_code)]
// Test helpers report skips and failures on stderr by design.
#![allow(clippy::print_stderr)]

pub mod busybox;
pub mod ci;
pub mod referrers;
pub mod registry;
pub mod schema;
pub mod sigstore;
pub mod slowlink;
pub mod sshd;
pub mod user;

use std::path::PathBuf;

/// The repository's root, found at run time from the running test's package directory
/// (`CARGO_MANIFEST_DIR` as cargo and nextest set it, else the working directory).
///
/// Not `env!("CARGO_MANIFEST_DIR")`: cargo fingerprints workspace members by their path
/// relative to the workspace, so a warm target dir shared by two checkouts (CI's clone and a
/// developer's tree) keeps the compile-time path of whichever built it first.
pub fn repo_root() -> PathBuf {
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok());
    if let Some(mut dir) = start {
        loop {
            if dir.join("Cargo.lock").is_file() && dir.join("crates/wharf-testkit").is_dir() {
                return dir;
            }
            if !dir.pop() {
                break;
            }
        }
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared folder that sits beside the repository (`<repo>/../shared`) locally and in CI.
/// `WHARF_SHARED` overrides it.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("WHARF_SHARED").map_or_else(|| repo_root().join("../shared"), PathBuf::from)
}
