//! The one integration-test binary of wharf-dockerfile.
#![allow(clippy::unwrap_used)] // helpers shared by tests may unwrap, like the tests themselves

mod conformance;
mod expand;
mod graph;
mod heredoc;
mod ignore;
mod instruction;
mod lint;
mod shell;

use std::path::PathBuf;

/// BuildKit's conformance data, beside the repository: `<repo>/../shared/conformance/buildkit`.
pub fn buildkit_data() -> PathBuf {
    // The run-time variable, not `env!`: a warm target dir shared between checkouts keeps
    // the compile-time path of whichever checkout built it first.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    let dir = manifest_dir.join("../../../shared/conformance/buildkit");
    assert!(
        dir.is_dir(),
        "conformance data missing: {} (CI puts shared/ beside the repository)",
        dir.display()
    );
    dir
}
