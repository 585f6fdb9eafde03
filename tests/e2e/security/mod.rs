//! The adversarial suite of the security audit (issue 11): each test performs one attack, as a
//! hostile image, a hostile process in a container, another local user or a hostile registry,
//! and fails if it succeeds. The threat model is in SECURITY.md.

mod keep_id;
mod limits;
mod symlinks;
mod sysfs;
