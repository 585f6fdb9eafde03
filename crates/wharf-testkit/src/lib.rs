//! Test helpers shared by Wharf's test suites. Real parts only: a real registry process, real
//! unprivileged users with subordinate ID ranges, base images made from Debian's busybox-static.
//!
//! Helpers that need something the machine lacks return `None` after printing a loud
//! `SKIP:` line naming what is missing; CI installs everything, so nothing skips there.
#![forbid(unsafe_code)]
// Test helpers report skips and failures on stderr by design.
#![allow(clippy::print_stderr)]

pub mod busybox;
pub mod registry;
pub mod schema;
pub mod user;

use std::path::PathBuf;

/// The repository's root (this crate lives in `<repo>/crates/wharf-testkit`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared folder that sits beside the repository (`<repo>/../shared`) locally and in CI.
/// `WHARF_SHARED` overrides it.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("WHARF_SHARED").map_or_else(|| repo_root().join("../shared"), PathBuf::from)
}
