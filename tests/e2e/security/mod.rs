//! The adversarial suite of the security audit (issue 11): each test performs one attack on the
//! real binaries, as a hostile image, a hostile process in a container, another local user or a
//! hostile registry, as root and rootless where the mode changes what is at stake, and fails if
//! the attack succeeds. The threat model is in SECURITY.md.

mod chroot_escape;
mod exec_race;
mod fds;
mod keep_id;
mod limits;
mod network;
mod pull;
mod runtime_dir;
mod store;
mod symlinks;
mod sysfs;
