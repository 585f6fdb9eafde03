//! Capabilities and `no_new_privs`: prctl(2) and capset(2) on the calling thread (the
//! container's single thread, right before exec).

use std::io;

/// The highest capability number this kernel knows.
pub(crate) fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Drops every capability whose bit is not in `keep` from the bounding set.
pub(crate) fn drop_bounding(keep: u64) -> io::Result<()> {
    for cap in 0..=last_cap() {
        if keep & (1u64 << cap) == 0 {
            // SAFETY: PR_CAPBSET_DROP takes a capability number and no pointers.
            check(unsafe {
                libc::prctl(libc::PR_CAPBSET_DROP, libc::c_ulong::from(cap), 0, 0, 0)
            })?;
        }
    }
    Ok(())
}

/// PR_SET_KEEPCAPS: keep the permitted set across the switch to a non-root uid.
pub(crate) fn set_keepcaps(on: bool) -> io::Result<()> {
    // SAFETY: PR_SET_KEEPCAPS takes an integer flag and no pointers.
    check(unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, libc::c_ulong::from(on), 0, 0, 0) })
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// capset(2) with 64-bit masks (version 3: two 32-bit words per set).
pub(crate) fn capset(effective: u64, permitted: u64, inheritable: u64) -> io::Result<()> {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let word = |v: u64, i: u32| (v >> (32 * i)) as u32;
    let data = [0, 1].map(|i| CapData {
        effective: word(effective, i),
        permitted: word(permitted, i),
        inheritable: word(inheritable, i),
    });
    // SAFETY: header and data are valid, properly laid out (repr(C)) structures that live for
    // the call; version 3 reads exactly two CapData entries.
    check(unsafe { libc::syscall(libc::SYS_capset, &raw mut header, data.as_ptr()) as libc::c_int })
}

/// Raises the capabilities in `ambient` into the ambient set (each must be permitted and
/// inheritable already).
pub(crate) fn raise_ambient(ambient: u64) -> io::Result<()> {
    for cap in 0..=last_cap() {
        if ambient & (1u64 << cap) != 0 {
            // SAFETY: PR_CAP_AMBIENT_RAISE takes a capability number and no pointers.
            check(unsafe {
                libc::prctl(
                    libc::PR_CAP_AMBIENT,
                    libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
                    libc::c_ulong::from(cap),
                    0,
                    0,
                )
            })?;
        }
    }
    Ok(())
}

/// PR_SET_NO_NEW_PRIVS: exec can never grant privileges again (setuid bits, file caps).
pub(crate) fn set_no_new_privs() -> io::Result<()> {
    // SAFETY: PR_SET_NO_NEW_PRIVS takes the integer 1 and no pointers.
    check(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) })
}
