//! Base images made on the spot from Debian's `busybox-static`: no network, no registry needed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Debian's busybox-static installs its binary.
pub const BUSYBOX: &str = "/bin/busybox";

/// Whether a static busybox is installed (prints a `SKIP:` line when not).
pub fn available() -> bool {
    let ok = Path::new(BUSYBOX).exists()
        && Command::new("file")
            .arg(BUSYBOX)
            .output()
            .map_or(true, |o| {
                // `file` may be missing; only refuse when it positively says "dynamically linked".
                !String::from_utf8_lossy(&o.stdout).contains("dynamically linked")
            });
    if !ok {
        eprintln!("SKIP: {BUSYBOX} (Debian package busybox-static) is not installed");
    }
    ok
}

/// Lays out a minimal root filesystem in `dir`: `/bin/busybox` plus one symlink per applet,
/// `/etc/passwd` and `/etc/group` with root and nobody, and empty `/tmp`, `/root`.
pub fn make_rootfs(dir: &Path) -> std::io::Result<()> {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin)?;
    std::fs::create_dir_all(dir.join("etc"))?;
    std::fs::create_dir_all(dir.join("root"))?;
    std::fs::create_dir_all(dir.join("tmp"))?;
    std::fs::copy(BUSYBOX, bin.join("busybox"))?;
    let list = Command::new(BUSYBOX).arg("--list").output()?;
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet.is_empty() || applet == "busybox" || applet.contains('/') {
            continue;
        }
        let link = bin.join(applet);
        if !link.exists() {
            std::os::unix::fs::symlink("busybox", link)?;
        }
    }
    std::fs::write(
        dir.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )?;
    std::fs::write(dir.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n")?;
    Ok(())
}

/// Writes `rootfs.tar` (uncompressed) of a fresh busybox root filesystem into `dir` and returns
/// its path.
pub fn rootfs_tar(dir: &Path) -> std::io::Result<PathBuf> {
    let root = dir.join("busybox-rootfs");
    make_rootfs(&root)?;
    let tar = dir.join("rootfs.tar");
    let status = Command::new("tar")
        .arg("-C")
        .arg(&root)
        .args(["--numeric-owner", "--owner=0", "--group=0", "-cf"])
        .arg(&tar)
        .arg(".")
        .status()?;
    if !status.success() {
        return Err(std::io::Error::other(format!("tar exited with {status}")));
    }
    Ok(tar)
}
