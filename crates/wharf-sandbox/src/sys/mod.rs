//! The only place in the crate with `unsafe` code and raw syscalls: one file per kernel facility.
//! Every other module reaches the kernel through [`crate::syscall::Syscall`] or the safe
//! functions here, so that the sandbox logic can be tested with a recording fake.

pub(crate) mod caps;
pub(crate) mod mount;
pub(crate) mod namespace;
pub(crate) mod net;
pub(crate) mod process;
pub(crate) mod seccomp;
pub(crate) mod tty;
