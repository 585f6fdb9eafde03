//! End-to-end tests live in `e2e/`: they run the real `kiln`, `ferry` and `berth` binaries
//! (built by cargo as dev-dependencies of this package) against a store in a temporary
//! directory, and read the results back with real tools (skopeo, umoci) where installed.
#![forbid(unsafe_code)]
