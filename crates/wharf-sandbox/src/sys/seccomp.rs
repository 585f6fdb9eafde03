//! Installing seccomp filters compiled by `seccompiler`, and the system call table they are
//! compiled with.

use std::io;

use seccompiler::BpfProgram;

const X86_64_TABLE: &str = include_str!("syscalls_x86_64.txt");

/// The number of system call `name` on this architecture; `None` when it has no such call (a
/// profile lists calls of every architecture).
pub(crate) fn syscall_number(name: &str) -> Option<i64> {
    if !cfg!(target_arch = "x86_64") {
        return None;
    }
    X86_64_TABLE
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let (n, nr) = l.split_once(' ')?;
            (n == name).then(|| nr.parse().ok())?
        })
}

/// Whether this crate has a system call table for the architecture it was built for.
pub(crate) fn table_available() -> bool {
    cfg!(target_arch = "x86_64")
}

/// Installs `programs` in order on the calling thread (the container's only thread). Requires
/// `no_new_privs` or CAP_SYS_ADMIN.
pub(crate) fn apply(programs: &[BpfProgram]) -> io::Result<()> {
    for p in programs {
        seccompiler::apply_filter(p).map_err(|e| match e {
            seccompiler::Error::Seccomp(err) | seccompiler::Error::Prctl(err) => err,
            other => io::Error::other(other.to_string()),
        })?;
    }
    Ok(())
}
