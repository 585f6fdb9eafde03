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
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/buildkit");
    assert!(
        dir.is_dir(),
        "conformance data missing: {} (CI puts shared/ beside the repository)",
        dir.display()
    );
    dir
}
