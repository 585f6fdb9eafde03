//! Our spec is a real OCI spec: runc 1.1.5 runs the generated bundle rootless (inside the user
//! namespace, the way podman drives it) and the container sees what the spec says.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use wharf_oci::config::ContainerConfig;
use wharf_sandbox::bundle::write_bundle;
use wharf_sandbox::maybe_reexec_in_userns;
use wharf_sandbox::spec::SpecOptions;
use wharf_testkit::user::{assert_inner_ok, is_inner, test_user};

use crate::rootfs::busybox_rootfs;

/// Shell run in the container; one observation per line.
pub const PROBE: &str = "echo $(cat /proc/self/uid_map); hostname; id -u; id -G; \
    grep CapEff /proc/self/status; echo pid=$$; pwd; echo env=$GREETING; \
    grep -c ' /proc ' /proc/self/mounts; grep ' /sys ' /proc/self/mounts | grep -c ro,; \
    cat /etc/hostname; hostname other 2>&1; cat /proc/timer_list 2>&1 | wc -c; echo x > /dev/null && echo devnull-ok; \
    touch /proc/sys/kernel/hostname 2>/dev/null || echo proc-sys-ro; \
    ip -o link show lo | grep -q ',UP' && echo lo-up; ls /sys/class/net | tr '\\n' ' '; echo; exit 3";

/// What [`PROBE`] must print in a container from our default spec.
pub fn check_probe(stdout: &str) {
    let lines: Vec<&str> = stdout.lines().take(17).collect();
    assert_eq!(lines.len(), 17, "output:\n{stdout}");
    // Identity over the rootless namespace's two extents: root, then the subordinate range.
    assert_eq!(lines[0], "0 0 1 1 1 65536", "uid map:\n{stdout}");
    assert_eq!(lines[1], "wharf-box", "hostname");
    assert_eq!(lines[2], "0", "uid");
    assert_eq!(lines[3], "0", "groups");
    // podman's 11 default capabilities.
    assert_eq!(lines[4], "CapEff:\t00000000800405fb", "caps");
    assert_eq!(lines[5], "pid=1", "pid namespace");
    assert_eq!(lines[6], "/srv", "workdir from the image config");
    assert_eq!(lines[7], "env=hello", "env from the image config");
    assert_eq!(lines[8], "1", "/proc mounted");
    assert_eq!(lines[9], "1", "/sys read-only");
    assert_eq!(lines[10], "wharf-box", "/etc/hostname");
    // sethostname is denied without CAP_SYS_ADMIN (seccomp and capabilities agree on EPERM).
    assert!(
        lines[11].contains("Operation not permitted"),
        "{}",
        lines[11]
    );
    assert_eq!(lines[12].trim(), "0", "/proc/timer_list masked");
    assert_eq!(lines[13], "devnull-ok", "/dev/null usable");
    assert_eq!(lines[14], "proc-sys-ro", "/proc/sys read-only");
    assert_eq!(
        lines[15], "lo-up",
        "loopback up in the private network namespace"
    );
    assert_eq!(lines[16].trim(), "lo", "no other interface");
}

pub fn image_config() -> ContainerConfig {
    ContainerConfig {
        env: Some(vec!["GREETING=hello".into()]),
        cmd: Some(vec!["/bin/sh".into(), "-c".into(), PROBE.into()]),
        working_dir: Some("/srv".into()),
        ..ContainerConfig::default()
    }
}

#[test]
fn runc_runs_the_generated_bundle_rootless() {
    if is_inner() {
        if let Some(code) = maybe_reexec_in_userns().unwrap() {
            assert_eq!(code, ExitCode::SUCCESS);
            return;
        }
        let work = PathBuf::from(std::env::var("WORK").unwrap());
        let rootfs = work.join("rootfs");
        busybox_rootfs(&rootfs).unwrap();
        std::fs::create_dir_all(rootfs.join("srv")).unwrap();
        let opts = SpecOptions::new(&rootfs, "wharf-box");
        let bundle = write_bundle(&work.join("bundle"), Some(&image_config()), opts).unwrap();
        let out = Command::new("runc")
            .arg("--root")
            .arg(work.join("runc-state"))
            .args(["run", "--bundle"])
            .arg(&bundle.dir)
            .arg("wharf-runc-test")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        eprintln!("runc stderr: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(3), "stdout:\n{stdout}");
        check_probe(&stdout);
        println!("RUNC-OK");
        return;
    }
    let Some(user) = test_user() else { return };
    if Command::new("runc").arg("--version").output().is_err() {
        eprintln!("SKIP: runc missing (Debian package runc)");
        return;
    }
    let dir = tempfile::Builder::new().tempdir_in("/tmp").unwrap();
    user.chown(dir.path());
    let out = user.run_self(
        "runc::runc_runs_the_generated_bundle_rootless",
        &[("WORK", dir.path().to_str().unwrap())],
    );
    assert_inner_ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("RUNC-OK") || String::from_utf8_lossy(&out.stderr).contains("SKIP"));
}
