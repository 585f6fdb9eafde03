//! Integration tests of wharf-sandbox. Rootless parts run as the unprivileged test user
//! (`wharf_testkit::user`), re-running this binary as that user.

mod embedded;
mod overlay;
mod rootfs;
mod runc;
mod userns;
