//! Links `berth-monitor` (and only it) as a static PIE on glibc targets.
//!
//! Why: a detached container's monitor should stay under 2 MB of resident memory. Linked
//! dynamically, the loader, `libc.so.6` and `libgcc_s.so.1` alone put about 1.5 MB in its RSS
//! (the kernel maps 64 kB of cached file pages around each fault), and the whole process
//! measured 1.9–2.1 MB; linked statically it holds only the libc objects it uses: about 1.2 MB.
//!
//! How: `-C target-feature=+crt-static` applies to a whole build, and `kiln`, `ferry` and
//! `berth` must stay dynamic (glibc's NSS and `getaddrinfo`). For a dynamic gnu target rustc
//! links `-Wl,-Bdynamic -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc`; an extra `-static-pie`
//! alone then fails, because those names resolve to shared objects. So this script makes a
//! directory in which each of those names is a static archive (`libgcc_s.a` being
//! `libgcc_eh.a`, the static unwinder rustc itself uses with crt-static) and passes it with
//! `-L` to that binary's link only: the linker searches it before the system directories, so
//! every `-l` finds an archive, and `-static-pie` (with glibc's `rcrt1.o`) does the rest.
//! The monitor uses no NSS function, so a static glibc is sound for it.
//!
//! When an archive is missing (no `libc.a`: Debian's `libc6-dev` ships it), when cross
//! compiling, or with `BERTH_MONITOR_DYNAMIC=1`, the monitor is linked like everything else.

// Build scripts talk to cargo on standard output.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The libraries rustc names for a dynamically linked std on linux-gnu, and the archive
/// standing in for each.
const LIBS: [(&str, &str); 7] = [
    ("gcc_s", "libgcc_eh.a"),
    ("util", "libutil.a"),
    ("rt", "librt.a"),
    ("pthread", "libpthread.a"),
    ("m", "libm.a"),
    ("dl", "libdl.a"),
    ("c", "libc.a"),
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=BERTH_MONITOR_DYNAMIC");
    println!("cargo:rerun-if-env-changed=CC");
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    if env("BERTH_MONITOR_DYNAMIC") == "1"
        || env("CARGO_CFG_TARGET_OS") != "linux"
        || env("CARGO_CFG_TARGET_ENV") != "gnu"
        || env("TARGET") != env("HOST")
        || env("CARGO_CFG_TARGET_FEATURE")
            .split(',')
            .any(|f| f == "crt-static")
    {
        return;
    }
    let out = PathBuf::from(env("OUT_DIR")).join("monitor-static-libs");
    match static_libs(&out) {
        Ok(()) => {
            let arg = |a: &str| println!("cargo:rustc-link-arg-bin=berth-monitor={a}");
            arg(&format!("-L{}", out.display()));
            arg("-static-pie");
            // GNU ld resolves archives in one pass: libc.a and the unwinder need each other
            // and libgcc (lld does not care; the group is harmless there).
            for a in [
                "-Wl,--start-group",
                "-lc",
                "-lgcc",
                "-lgcc_eh",
                "-Wl,--end-group",
            ] {
                arg(a);
            }
        }
        Err(why) => println!(
            "cargo:warning=berth-monitor is linked dynamically ({why}); its RSS will be \
             about 2 MB instead of 1.2 MB"
        ),
    }
}

/// Fills `dir` with links named after [`LIBS`] to the C compiler's static archives.
fn static_libs(dir: &Path) -> Result<(), String> {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    for (name, archive) in LIBS {
        let found = Command::new(&cc)
            .arg(format!("-print-file-name={archive}"))
            .output()
            .map_err(|e| format!("running {cc}: {e}"))?;
        let path = PathBuf::from(String::from_utf8_lossy(&found.stdout).trim());
        // `-print-file-name` echoes the bare name when it finds nothing.
        if !path.is_absolute() || !path.is_file() {
            return Err(format!("{cc} finds no {archive}"));
        }
        let link = dir.join(format!("lib{name}.a"));
        std::os::unix::fs::symlink(&path, &link)
            .map_err(|e| format!("linking {}: {e}", link.display()))?;
    }
    Ok(())
}
