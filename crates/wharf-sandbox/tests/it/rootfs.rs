//! A minimal root filesystem from Debian's busybox-static: `/bin/busybox`, its applet symlinks,
//! and `/etc/passwd` + `/etc/group`.

use std::path::Path;
use std::process::Command;

pub const BUSYBOX: &str = "/bin/busybox";

/// Builds the rootfs at `root`; `None` (after a SKIP line) when busybox-static is missing.
#[allow(clippy::print_stderr)] // the SKIP line is the point
pub fn busybox_rootfs(root: &Path) -> Option<()> {
    let ok = Command::new(BUSYBOX)
        .arg("--help")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("BusyBox"));
    let ldd = Command::new("file").arg(BUSYBOX).output();
    if !ok || ldd.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("dynamically")) {
        eprintln!("SKIP: static {BUSYBOX} missing (Debian package busybox-static)");
        return None;
    }
    for d in ["bin", "etc", "proc", "sys", "dev", "tmp", "root"] {
        std::fs::create_dir_all(root.join(d)).expect("rootfs dir");
    }
    std::fs::copy(BUSYBOX, root.join("bin/busybox")).expect("copy busybox");
    // `busybox --install -s` would link to the host path of busybox (/usr/bin/busybox on a
    // merged-/usr system); relative links keep the rootfs self-contained.
    let list = Command::new(BUSYBOX)
        .arg("--list")
        .output()
        .expect("busybox --list");
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(applet))
                .expect("applet link");
        }
    }
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
    )
    .expect("passwd");
    std::fs::write(
        root.join("etc/group"),
        "root:x:0:\ntty:x:5:\napp:x:1000:\nstaff:x:50:app\n",
    )
    .expect("group");
    Some(())
}
