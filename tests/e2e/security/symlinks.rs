//! Issue 11, finding 3: a hostile image whose paths are chains of more than 40 symlinks ending at
//! a host path. The resolver used to stop counting at 40 and hand the rest of the path to the
//! host's kernel, which followed the last link on the host: `/etc/hosts` through 41 links made a
//! file on the host, and a `VOLUME` through such a chain copied a host 0700 directory into a
//! named volume that another container then read. Each attack runs as root and rootless (as
//! `wharf-test`), with `berth run` and with a kiln RUN on the hostile base image.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::text;
use wharf_testkit::user::{TestUser, test_user};

/// Links in a chain after its entry: with the entry, 41 links, one more than the kernel's (and
/// the old resolver's) 40. The old resolver followed 40 and handed the last link, whose target
/// is a host path, to the host's kernel.
const LINKS: usize = 40;

/// Who runs the tools: root itself, or the unprivileged test user.
struct Runner {
    user: Option<TestUser>,
}

impl Runner {
    fn command(&self, bin: &str) -> Command {
        match &self.user {
            Some(u) => u.command(crate::bin(bin)),
            None => Command::new(crate::bin(bin)),
        }
    }

    fn tool(&self, bin: &str, root: &Path, args: &[&str]) -> Output {
        self.command(bin)
            .arg("--root")
            .arg(root)
            .args(args)
            .current_dir("/tmp")
            .env_remove("WHARF_ROOT")
            .output()
            .unwrap()
    }

    fn name(&self) -> &'static str {
        if self.user.is_some() {
            "rootless"
        } else {
            "root"
        }
    }
}

/// The two modes the issue asks for. A missing prerequisite fails the test: CI has them all.
fn runners() -> Vec<Runner> {
    assert!(
        wharf_testkit::busybox::available(),
        "busybox-static is needed to build the hostile image"
    );
    let user = test_user().expect("the unprivileged test user wharf-test (run the tests as root)");
    let euid = Command::new("id").arg("-u").output().unwrap();
    assert_eq!(
        text(&euid.stdout).trim(),
        "0",
        "the security suite runs as root (its rootless half as {})",
        user.name
    );
    vec![Runner { user: None }, Runner { user: Some(user) }]
}

/// Adds to `rootfs` the chain `/<name>1 -> /<name>2 -> ... -> /<name>40 -> target`, and makes
/// `entry` (a container path) a link to its start: `entry` resolves through 41 links.
fn chain(rootfs: &Path, name: &str, entry: &str, target: &Path) {
    for i in 1..LINKS {
        std::os::unix::fs::symlink(
            format!("/{name}{}", i + 1),
            rootfs.join(format!("{name}{i}")),
        )
        .unwrap();
    }
    std::os::unix::fs::symlink(target, rootfs.join(format!("{name}{LINKS}"))).unwrap();
    let entry = rootfs.join(entry.trim_start_matches('/'));
    let _ = std::fs::remove_file(&entry);
    std::fs::create_dir_all(entry.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(format!("/{name}1"), entry).unwrap();
}

fn tar(dir: &Path, out: &Path) {
    let st = Command::new("tar")
        .arg("-C")
        .arg(dir)
        .args(["--numeric-owner", "--owner=0", "--group=0", "-cf"])
        .arg(out)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
}

/// Everything on the host that the attacks aim at, under one directory the test owns.
struct Host {
    dir: PathBuf,
}

impl Host {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// What exists there now (names), for the "nothing was created" check.
    fn listing(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

/// A scratch directory (store and tars) and the host target directory, both writable by the
/// runner (so that on the old code the rootless attack could create its files there too).
fn scratch(r: &Runner) -> (tempfile::TempDir, Host) {
    let tmp = tempfile::Builder::new()
        .prefix("sec-symlinks")
        .tempdir_in("/tmp")
        .unwrap();
    let dir = tmp.path().join("host");
    std::fs::create_dir(&dir).unwrap();
    // The secret directory a VOLUME chain points at: 0700, owned by the runner.
    let secret = dir.join("secret");
    std::fs::create_dir(&secret).unwrap();
    std::fs::write(secret.join("key"), "TOP-SECRET\n").unwrap();
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    if let Some(u) = &r.user {
        u.chown(tmp.path());
    }
    (tmp, Host { dir })
}

/// Imports `hostile`, a busybox image whose `/etc/hosts`, `/etc/resolv.conf` and
/// `/etc/hostname` are 41-link chains to (missing) host files and whose `/data` is a chain to
/// the host's secret directory; `hostvol`, the same with `VOLUME /data`; and `plain` busybox.
fn hostile_image(r: &Runner, tmp: &Path, host: &Host, store: &Path) {
    let rootfs = tmp.join("hostile-rootfs");
    wharf_testkit::busybox::make_rootfs(&rootfs).unwrap();
    chain(&rootfs, "h", "/etc/hosts", &host.path("hosts"));
    chain(&rootfs, "r", "/etc/resolv.conf", &host.path("resolv.conf"));
    chain(&rootfs, "n", "/etc/hostname", &host.path("hostname"));
    chain(&rootfs, "v", "/data", &host.path("secret"));
    let layer = tmp.join("hostile.tar");
    tar(&rootfs, &layer);
    let plain = tmp.join("plain-rootfs");
    wharf_testkit::busybox::make_rootfs(&plain).unwrap();
    let plain_layer = tmp.join("plain.tar");
    tar(&plain, &plain_layer);
    if let Some(u) = &r.user {
        u.chown(tmp);
    }
    for (tar, name, changes) in [
        (&layer, "hostile", vec!["CMD [\"true\"]"]),
        (&layer, "hostvol", vec!["VOLUME /data", "CMD [\"true\"]"]),
        (&plain_layer, "plain", vec!["CMD [\"sh\"]"]),
    ] {
        let mut args = vec!["import"];
        for c in &changes {
            args.extend(["--change", c]);
        }
        args.extend([tar.to_str().unwrap(), name]);
        let out = r.tool("berth", store, &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
}

fn assert_host_untouched(r: &Runner, host: &Host, what: &str) {
    assert_eq!(
        host.listing(),
        ["secret"],
        "{} {what}: something was created in the host directory {}",
        r.name(),
        host.dir.display()
    );
}

/// `berth run` of the hostile image: refused with an ELOOP error naming the path, nothing made
/// on the host; its `VOLUME` through a chain never copies the host's secret directory into a
/// named volume that a second container could read.
#[test]
fn berth_run_refuses_41_link_chains_to_the_host() {
    for r in runners() {
        let (tmp, host) = scratch(&r);
        let store = tmp.path().join("store");
        hostile_image(&r, tmp.path(), &host, &store);

        // /etc/hosts, /etc/resolv.conf, /etc/hostname: the generated files are bound onto them.
        let out = r.tool("berth", &store, &["run", "--rm", "hostile", "true"]);
        let err = text(&out.stderr);
        assert_host_untouched(&r, &host, "berth run");
        assert!(
            !out.status.success(),
            "{}: the hostile image ran:\n{err}",
            r.name()
        );
        assert!(
            err.contains("/etc/h") && err.contains("ELOOP"),
            "{}: the error names the path and ELOOP:\n{err}",
            r.name()
        );

        // runc resolves in user space with its own limit (255 links), inside the root: it may
        // run, but must not touch the host either.
        let _ = r.tool(
            "berth",
            &store,
            &["run", "--rm", "--runtime", "runc", "hostile", "true"],
        );
        assert_host_untouched(&r, &host, "berth run --runtime runc");

        // VOLUME /data through a chain to the host's 0700 secret directory, into a named volume.
        let out = r.tool(
            "berth",
            &store,
            &["run", "--rm", "-v", "loot:/data", "hostvol", "true"],
        );
        let err = text(&out.stderr);
        let run_ok = out.status.success();
        let out = r.tool(
            "berth",
            &store,
            &[
                "run",
                "--rm",
                "-v",
                "loot:/v",
                "plain",
                "sh",
                "-c",
                "cat /v/key; ls -A /v",
            ],
        );
        let stdout = text(&out.stdout);
        assert!(
            !stdout.contains("TOP-SECRET") && !stdout.contains("key"),
            "{}: the host's secret reached the volume: {stdout}{}",
            r.name(),
            text(&out.stderr)
        );
        assert_host_untouched(&r, &host, "VOLUME copy-up");
        assert!(!run_ok, "{}: ran:\n{err}", r.name());
        assert!(
            err.contains("/data") && err.contains("ELOOP"),
            "{}: {err}",
            r.name()
        );
    }
}

/// kiln RUN on the hostile image as a base: the mount targets it creates (its `/etc` files when
/// bound, its device nodes and `/dev` links) and its `WORKDIR` are resolved inside the root.
#[test]
fn kiln_run_on_a_base_with_41_link_chains_touches_nothing_on_the_host() {
    for r in runners() {
        let (tmp, host) = scratch(&r);
        let store = tmp.path().join("store");
        let rootfs = tmp.path().join("kiln-rootfs");
        wharf_testkit::busybox::make_rootfs(&rootfs).unwrap();
        // Every directory the runtime mounts on or creates in, and the working directory, lead
        // to an existing host directory (the old runtime mounted /proc, /dev and /sys onto it).
        for (name, entry) in [("p", "/proc"), ("d", "/dev"), ("s", "/sys"), ("w", "/work")] {
            let target = host.path("secret").join(name);
            std::fs::create_dir(&target).unwrap();
            chain(&rootfs, name, entry, &target);
        }
        let layer = tmp.path().join("kiln-base.tar");
        tar(&rootfs, &layer);
        let ctx = tmp.path().join("ctx");
        std::fs::create_dir(&ctx).unwrap();
        // The runtime's own mount targets (/proc, /dev, /sys) and what it creates in them.
        std::fs::write(ctx.join("Dockerfile"), "FROM kbase\nRUN true\n").unwrap();
        if let Some(u) = &r.user {
            u.chown(tmp.path());
        }
        let out = r.tool(
            "berth",
            &store,
            &["import", layer.to_str().unwrap(), "kbase"],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let out = r.tool(
            "kiln",
            &store,
            &[
                "build",
                "--network",
                "host",
                "-t",
                "loot",
                ctx.to_str().unwrap(),
            ],
        );
        let err = text(&out.stderr);
        assert_host_untouched(&r, &host, "kiln RUN mounts");
        assert!(!out.status.success(), "{}: the build ran:\n{err}", r.name());
        assert!(err.contains("ELOOP"), "{}: {err}", r.name());
        // And the working directory (WORKDIR, then RUN in it).
        std::fs::write(
            ctx.join("Dockerfile"),
            "FROM kbase\nWORKDIR /work\nRUN touch escaped\n",
        )
        .unwrap();
        if let Some(u) = &r.user {
            u.chown(tmp.path());
        }
        let out = r.tool(
            "kiln",
            &store,
            &[
                "build",
                "--network",
                "host",
                "-t",
                "loot",
                ctx.to_str().unwrap(),
            ],
        );
        let err = text(&out.stderr);
        assert_host_untouched(&r, &host, "kiln WORKDIR");
        assert!(!out.status.success(), "{}: the build ran:\n{err}", r.name());
        assert!(err.contains("ELOOP"), "{}: {err}", r.name());
    }
}
