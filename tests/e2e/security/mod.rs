//! The adversarial suite of issue 11: one module per attack, each run as the issue says (root,
//! rootless as wharf-test, or both).

mod symlinks;
mod sysfs;
