//! Issue 11, finding 5 (as root): with the host's network, `/sys` is the host's, bound
//! recursively, and only its top mount was made read-only: the cgroup v1 hierarchies under
//! `/sys/fs/cgroup` stayed writable, and a container (or a kiln RUN step) created cgroups and
//! wrote `notify_on_release` on the host's root memory cgroup. The attack runs in `berth run
//! --network host` and in a kiln RUN with `--network host`; every write must be refused and the
//! host's cgroup tree left as it was.

use crate::text;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CGROUP: &str = "/sys/fs/cgroup";

/// The hierarchies the attack tries to create a cgroup in (those mounted on this host).
fn hierarchies() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(CGROUP)
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            e.file_type()
                .ok()?
                .is_dir()
                .then(|| e.file_name().to_string_lossy().into_owned())
        })
        .collect();
    v.sort();
    v
}

/// The attack as a shell script: every step that succeeds prints a line ending in `-OK`.
fn script(name: &str, value: &str) -> String {
    let mut steps: Vec<String> = hierarchies()
        .iter()
        .map(|h| format!("mkdir {CGROUP}/{h}/{name} 2>/dev/null && echo mkdir-{h}-OK"))
        .collect();
    steps.push(format!(
        "echo {value} > {CGROUP}/memory/notify_on_release && echo notify-OK"
    ));
    // Opened for writing (`: >` writes no byte), which a read-only mount refuses: the host's
    // value is never changed. (busybox's `test -w` is always true for root.)
    for f in [
        "memory/release_agent",
        "memory/cgroup.procs",
        "pids/cgroup.procs",
        "unified/cgroup.procs",
        "memory/memory.limit_in_bytes",
    ] {
        steps.push(format!(
            "(: > {CGROUP}/{f}) 2>/dev/null && echo writable-{f}-OK"
        ));
    }
    steps.push("true".into());
    steps.join("; ")
}

/// The host's state the attack aims at, restored when the test ends whatever happened (the old
/// code let the attack change it).
struct HostCgroups {
    name: String,
    notify: String,
}

impl HostCgroups {
    fn snapshot(name: &str) -> Self {
        let notify = std::fs::read_to_string(Path::new(CGROUP).join("memory/notify_on_release"))
            .expect("cgroup v1 memory hierarchy at /sys/fs/cgroup/memory (this host is hybrid)");
        Self {
            name: name.to_string(),
            notify: notify.trim().to_string(),
        }
    }

    /// The opposite of the current value: the write the attack tries.
    fn attack_value(&self) -> &'static str {
        if self.notify == "0" { "1" } else { "0" }
    }

    fn made(&self) -> Vec<PathBuf> {
        hierarchies()
            .iter()
            .map(|h| Path::new(CGROUP).join(h).join(&self.name))
            .filter(|p| p.exists())
            .collect()
    }

    fn assert_unchanged(&self, what: &str, out: &Output) {
        let notify =
            std::fs::read_to_string(Path::new(CGROUP).join("memory/notify_on_release")).unwrap();
        let made = self.made();
        let stdout = text(&out.stdout);
        assert!(
            made.is_empty() && notify.trim() == self.notify && !stdout.contains("-OK"),
            "{what}: the container changed the host's cgroups: created {made:?}, \
             notify_on_release {} -> {}; the attack reported:\n{stdout}\n{}",
            self.notify,
            notify.trim(),
            text(&out.stderr)
        );
    }
}

impl Drop for HostCgroups {
    fn drop(&mut self) {
        for p in self.made() {
            let _ = std::fs::remove_dir(p);
        }
        let _ = std::fs::write(
            Path::new(CGROUP).join("memory/notify_on_release"),
            &self.notify,
        );
    }
}

fn prerequisites() {
    let euid = Command::new("id").arg("-u").output().unwrap();
    assert_eq!(
        text(&euid.stdout).trim(),
        "0",
        "finding 5 is about root: run as root"
    );
    assert!(
        Path::new(CGROUP).join("memory/notify_on_release").exists(),
        "this test needs the cgroup v1 memory hierarchy mounted (CI's host is hybrid)"
    );
    assert!(
        wharf_testkit::busybox::available(),
        "busybox-static is needed"
    );
}

fn store() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::Builder::new()
        .prefix("sec-sysfs")
        .tempdir_in("/tmp")
        .unwrap();
    let tar = wharf_testkit::busybox::rootfs_tar(tmp.path()).unwrap();
    let root = tmp.path().join("store");
    crate::ok(
        "berth",
        &root,
        &[
            "import",
            "--change",
            "CMD [\"sh\"]",
            tar.to_str().unwrap(),
            "busybox",
        ],
    );
    (tmp, root)
}

#[test]
fn berth_run_network_host_cannot_write_host_cgroups() {
    prerequisites();
    let (_tmp, root) = store();
    for runtime in ["embedded", "runc"] {
        let host = HostCgroups::snapshot(&format!("wharf-attack-{}-{runtime}", std::process::id()));
        let attack = script(&host.name, host.attack_value());
        let out = crate::run(
            "berth",
            &root,
            &[
                "run",
                "--rm",
                "--runtime",
                runtime,
                "--network",
                "host",
                "busybox",
                "sh",
                "-c",
                &attack,
            ],
        );
        assert!(
            out.status.success(),
            "{runtime}: the container did not run: {}",
            text(&out.stderr)
        );
        host.assert_unchanged(
            &format!("berth run --runtime {runtime} --network host"),
            &out,
        );
    }
}

#[test]
fn kiln_run_network_host_cannot_write_host_cgroups() {
    prerequisites();
    let (tmp, root) = store();
    let host = HostCgroups::snapshot(&format!("wharf-attack-{}-kiln", std::process::id()));
    let ctx = tmp.path().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    // The RUN step's findings go into the image; the build succeeds either way.
    let attack = script(&host.name, host.attack_value());
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("FROM busybox\nRUN ({attack}) > /attack.txt\n"),
    )
    .unwrap();
    let out = crate::run(
        "kiln",
        &root,
        &[
            "build",
            "--network",
            "host",
            "-t",
            "attack",
            ctx.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "the build failed: {}",
        text(&out.stderr)
    );
    let report = crate::run(
        "berth",
        &root,
        &["run", "--rm", "attack", "cat", "/attack.txt"],
    );
    assert!(report.status.success(), "{}", text(&report.stderr));
    host.assert_unchanged("kiln RUN --network host", &report);
}
