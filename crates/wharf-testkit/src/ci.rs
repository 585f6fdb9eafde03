//! Job containers as CI runs them: a root filesystem with a wharf binary, the glibc libraries
//! it links (as `ldd` names them) and a busybox userland, for `podman run --rootfs` with a
//! pod's settings (issue 12).

use std::path::{Path, PathBuf};
use std::process::Command;

/// What podman needs on this machine (shared/lab/README.md): runc, since crun refuses the
/// cgroup v1 hybrid; ulimits root may set without CAP_SYS_RESOURCE; no systemd.
pub const PODMAN_CONF: &str = "[containers]\n\
default_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]\n\
[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n";

/// Whether podman and runc are installed (prints `SKIP:` when not).
pub fn available() -> bool {
    let ok = Path::new("/usr/bin/podman").exists()
        && ["/usr/sbin/runc", "/usr/bin/runc"]
            .iter()
            .any(|p| Path::new(p).exists());
    if !ok {
        eprintln!("SKIP: podman and runc (Debian packages podman, runc) are not installed");
    }
    ok && crate::busybox::available()
}

/// Lays out a job container's root filesystem in `dir`: busybox, `binary` as
/// `/usr/local/bin/<name>` with its libraries, users root and `u` (1000), `/store` and `/work`
/// owned by 1000.
pub fn job_rootfs(dir: &Path, binary: &Path) -> std::io::Result<()> {
    crate::busybox::make_rootfs(dir)?;
    let name = binary.file_name().unwrap_or_default();
    let bin = dir.join("usr/local/bin");
    std::fs::create_dir_all(&bin)?;
    std::fs::copy(binary, bin.join(name))?;
    let ldd = Command::new("ldd").arg(binary).output()?;
    for line in String::from_utf8_lossy(&ldd.stdout).lines() {
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux... (0x...)"
        let path = line
            .split("=>")
            .last()
            .and_then(|s| s.split_whitespace().next())
            .filter(|p| p.starts_with('/'));
        if let Some(p) = path {
            let to = dir.join(p.trim_start_matches('/'));
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::copy(p, &to)?;
        }
    }
    std::fs::write(
        dir.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nu:x:1000:1000::/tmp:/bin/sh\n",
    )?;
    std::fs::write(dir.join("etc/group"), "root:x:0:\nu:x:1000:\n")?;
    // The signature policy every image that enters is checked against, as containers-common
    // ships it (and as deploy/Dockerfile puts it in kiln's image): a job container without
    // one refuses every pull, as podman and skopeo do.
    std::fs::create_dir_all(dir.join("etc/containers"))?;
    std::fs::write(
        dir.join("etc/containers/policy.json"),
        r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
    )?;
    std::fs::set_permissions(
        dir.join("tmp"),
        std::os::unix::fs::PermissionsExt::from_mode(0o1777),
    )?;
    for d in ["store", "work"] {
        std::fs::create_dir_all(dir.join(d))?;
        std::os::unix::fs::chown(dir.join(d), Some(1000), Some(1000))?;
    }
    Ok(())
}

/// Writes [`PODMAN_CONF`] into `dir` and returns its path, for `CONTAINERS_CONF`.
pub fn podman_conf(dir: &Path) -> std::io::Result<PathBuf> {
    let path = dir.join("containers.conf");
    std::fs::write(&path, PODMAN_CONF)?;
    Ok(path)
}
