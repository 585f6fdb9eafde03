//! `berth run` and the container commands, rootless as the unprivileged test user: what a
//! process sees from inside the container (maps, capabilities, hostname, pid 1, seccomp,
//! read-only root, volumes, image config and flags), exit codes, the same observations through
//! runc, detached containers with logs/stop/ps, and bad input that must leave nothing behind.

use std::path::{Path, PathBuf};
use std::process::Output;

use wharf_testkit::user::{TestUser, test_user};

use crate::{bin, have};

pub(crate) struct Env {
    pub(crate) tmp: tempfile::TempDir,
    pub(crate) root: PathBuf,
    pub(crate) user: TestUser,
}

/// A store owned by the test user holding `localhost/box:latest`: busybox with
/// `ENV GREETING=hello`, `WORKDIR /srv`, `CMD sh`. CI installs every prerequisite, so a missing
/// one fails the test with the command that provides it.
pub(crate) fn setup() -> Env {
    let user = test_user().expect(
        "no unprivileged test user: run the tests as root once (scripts/test.sh creates wharf-test)",
    );
    assert!(
        wharf_testkit::busybox::available(),
        "busybox-static is not installed: apt-get install busybox-static"
    );
    let tmp = tempfile::Builder::new()
        .prefix("berth-e2e")
        .tempdir_in("/tmp")
        .unwrap();
    let root = tmp.path().join("store");
    let env = Env { tmp, root, user };
    env.import(
        "box",
        &["ENV GREETING=hello", "WORKDIR /srv", "CMD [\"sh\"]"],
        |_| {},
    );
    env
}

pub(crate) use crate::text;

impl Env {
    pub(crate) fn berth(&self, args: &[&str]) -> Output {
        self.user
            .command(bin("berth"))
            .arg("--root")
            .arg(&self.root)
            .args(args)
            .current_dir("/tmp")
            .output()
            .unwrap()
    }

    /// Runs `berth run --rm ARGS` and returns (exit code, stdout, stderr).
    pub(crate) fn run(&self, args: &[&str]) -> (i32, String, String) {
        let mut all = vec!["run", "--rm"];
        all.extend_from_slice(args);
        let out = self.berth(&all);
        (
            out.status.code().unwrap_or(-1),
            text(&out.stdout),
            text(&out.stderr),
        )
    }

    /// Imports a busybox root filesystem, changed by `customize` first, as image `name` with
    /// the `--change` instructions `changes`.
    pub(crate) fn import(&self, name: &str, changes: &[&str], customize: impl FnOnce(&Path)) {
        let rootfs = self.tmp.path().join(format!("{name}-rootfs"));
        wharf_testkit::busybox::make_rootfs(&rootfs).unwrap();
        customize(&rootfs);
        let tar = self.tmp.path().join(format!("{name}.tar"));
        let status = std::process::Command::new("tar")
            .arg("-C")
            .arg(&rootfs)
            .args(["--numeric-owner", "--owner=0", "--group=0", "-cf"])
            .arg(&tar)
            .arg(".")
            .status()
            .unwrap();
        assert!(status.success());
        self.user.chown(self.tmp.path());
        let mut args = vec!["import"];
        for c in changes {
            args.extend(["--change", c]);
        }
        args.extend([tar.to_str().unwrap(), name]);
        let out = self.berth(&args);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }

    pub(crate) fn containers(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.root.join("containers"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    }

    fn mounts_under_store(&self) -> usize {
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let root = self.root.to_str().unwrap();
        mounts.lines().filter(|l| l.contains(root)).count()
    }
}

impl Drop for Env {
    /// A failed test must not leave detached containers running.
    fn drop(&mut self) {
        let ids = self.berth(&["ps", "-q", "--no-trunc"]);
        for id in text(&ids.stdout).lines() {
            let _ = self.berth(&["rm", "-f", id]);
        }
    }
}

#[test]
fn run_exit_codes_follow_podman() {
    let env = setup();
    assert_eq!(env.run(&["box", "true"]).0, 0);
    let (code, _, err) = env.run(&["box", "sh", "-c", "exit 3"]);
    assert_eq!(code, 3, "{err}");
    let (code, _, err) = env.run(&["box", "no-such-command"]);
    assert_eq!(code, 127, "{err}");
    assert!(err.contains("no-such-command"), "{err}");
    let (code, _, err) = env.run(&["box", "/etc/passwd"]);
    assert_eq!(code, 126, "{err}");
    let (code, out, _) = env.run(&["-i", "box", "cat"]);
    assert_eq!((code, out.as_str()), (0, ""), "stdin is empty here");
    assert!(env.containers().is_empty(), "--rm removes the container");
    assert_eq!(env.mounts_under_store(), 0);
}

/// One observation per line: maps, caps, hostname, pid, cwd, env, user, seccomp, read-only
/// paths; the same script for both runtimes.
const PROBE: &str = "tr -s ' ' < /proc/self/uid_map | tr '\\n' ';'; echo; hostname; \
    grep CapEff /proc/self/status; echo pid=$$; pwd; echo env=$GREETING/$FOO/$FROMFILE; id -u; \
    grep Seccomp: /proc/self/status | tr -d ' \t'; \
    { hostname x 2>&1 && echo sethostname-ok; } | grep -o -e 'Operation not permitted' -e sethostname-ok; \
    cat /etc/hostname; \
    grep -c ' / overlay ' /proc/self/mounts; exit 5";

fn probe(env: &Env, extra: &[&str]) -> Vec<String> {
    let envfile = env.tmp.path().join("env.list");
    std::fs::write(&envfile, "# comment\nFROMFILE=f1\n").unwrap();
    env.user.chown(&envfile);
    let mut args = vec!["--hostname", "boxy", "-e", "FOO=bar"];
    args.extend(["--env-file", envfile.to_str().unwrap()]);
    args.extend_from_slice(extra);
    args.extend(["box", "sh", "-c", PROBE]);
    let (code, out, err) = env.run(&args);
    assert_eq!(code, 5, "stdout:\n{out}\nstderr:\n{err}");
    out.lines().map(str::to_string).collect()
}

fn check_default_probe(lines: &[String]) {
    assert_eq!(lines[0].trim(), "0 0 1; 1 1 65536;", "uid map");
    assert_eq!(lines[1], "boxy");
    assert_eq!(
        lines[2], "CapEff:\t00000000800405fb",
        "podman's default caps"
    );
    assert_eq!(lines[3], "pid=1");
    assert_eq!(lines[4], "/srv", "WORKDIR from the image");
    assert_eq!(lines[5], "env=hello/bar/f1", "image ENV, -e, --env-file");
    assert_eq!(lines[6], "0");
    assert_eq!(lines[7], "Seccomp:2", "a seccomp filter is on");
    assert_eq!(lines[8], "Operation not permitted", "sethostname is denied");
    assert_eq!(lines[9], "boxy");
    assert_eq!(lines[10], "1", "root is the overlay");
}

#[test]
fn run_shows_the_container_view() {
    let env = setup();
    let lines = probe(&env, &[]);
    check_default_probe(&lines);

    // Flags override the image config; a non-root user has no effective capabilities.
    let lines = probe(
        &env,
        &["-w", "/tmp", "-u", "1000:1000", "--cap-drop", "ALL"],
    );
    assert_eq!(lines[2], "CapEff:\t0000000000000000");
    assert_eq!(lines[4], "/tmp");
    assert_eq!(lines[6], "1000");

    // Unconfined seccomp plus CAP_SYS_ADMIN: the same syscall now succeeds.
    let lines = probe(
        &env,
        &[
            "--security-opt",
            "seccomp=unconfined",
            "--cap-add",
            "sys_admin",
        ],
    );
    assert_eq!(lines[2], "CapEff:\t00000000802405fb");
    assert_eq!(lines[7], "Seccomp:0");
    assert_eq!(lines[8], "sethostname-ok", "{lines:?}");
}

#[test]
fn seccomp_profile_file_denies_its_syscalls() {
    let env = setup();
    let profile = env.tmp.path().join("deny-mkdir.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction":"SCMP_ACT_ALLOW",
            "syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}"#,
    )
    .unwrap();
    env.user.chown(&profile);
    let opt = format!("seccomp={}", profile.display());
    let mut runtimes = vec!["embedded"];
    if have("runc") {
        runtimes.push("runc");
    }
    for rt in runtimes {
        let (code, _, err) = env.run(&["--runtime", rt, "box", "mkdir", "/tmp/d"]);
        assert_eq!(code, 0, "{rt}: the default profile allows mkdir: {err}");
        let (code, _, err) = env.run(&[
            "--runtime",
            rt,
            "--security-opt",
            &opt,
            "box",
            "mkdir",
            "/tmp/d",
        ]);
        assert_eq!(code, 1, "{rt}");
        assert!(err.contains("Operation not permitted"), "{rt}: {err}");
    }
}

#[test]
fn runc_sees_the_same_container() {
    let env = setup();
    if !have("runc") {
        return;
    }
    let embedded = probe(&env, &[]);
    let runc = probe(&env, &["--runtime", "runc"]);
    check_default_probe(&runc);
    assert_eq!(embedded, runc);
    let (code, _, err) = env.run(&["--runtime", "runc", "box", "sh", "-c", "exit 3"]);
    assert_eq!(code, 3, "{err}");
    assert!(env.containers().is_empty());
}

#[test]
fn read_only_root_and_bind_volumes() {
    let env = setup();
    let (code, _, err) = env.run(&["--read-only", "box", "touch", "/x"]);
    assert_ne!(code, 0);
    assert!(err.contains("Read-only file system"), "{err}");

    let data = env.tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    env.user.chown(&data);
    let vol = format!("{}:/data", data.display());
    let (code, _, err) = env.run(&["-v", &vol, "box", "sh", "-c", "echo hi > /data/f"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(data.join("f")).unwrap(), "hi\n");

    let ro = format!("{vol}:ro");
    let (code, out, err) = env.run(&[
        "-v",
        &ro,
        "box",
        "sh",
        "-c",
        "cat /data/f; echo x > /data/g",
    ]);
    assert_ne!(code, 0);
    assert_eq!(out, "hi\n");
    assert!(err.contains("Read-only file system"), "{err}");
    assert!(!data.join("g").exists());
}

#[test]
fn bad_input_is_125_and_leaves_nothing() {
    let env = setup();
    let bad_profile = env.tmp.path().join("seccomp.json");
    std::fs::write(&bad_profile, "{ not json").unwrap();
    env.user.chown(&bad_profile);
    let seccomp = format!("seccomp={}", bad_profile.display());
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["no-such-image", "true"], "not found"),
        (vec!["-v", "rel/ative:/x", "box", "true"], "invalid volume"),
        (
            vec!["-v", "/nonexistent-wharf:/x", "box", "true"],
            "invalid volume",
        ),
        (
            vec!["--cap-add", "CAP_BOGUS", "box", "true"],
            "unknown capability",
        ),
        (vec!["--security-opt", &seccomp, "box", "true"], "seccomp"),
        (
            vec!["--runtime", "no-such-runtime", "box", "true"],
            "not found",
        ),
        (
            vec!["--storage-driver", "zfs", "box", "true"],
            "unknown storage driver",
        ),
    ];
    for (args, msg) in cases {
        let (code, _, err) = env.run(&args);
        assert_eq!(code, 125, "{args:?}: {err}");
        assert!(err.contains(msg), "{args:?}: {err}");
        assert!(env.containers().is_empty(), "{args:?} left a container");
    }
    assert_eq!(env.mounts_under_store(), 0);
}

pub(crate) fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn detached_container_logs_stop_ps_rm() {
    let env = setup();
    let script = "trap 'echo bye; exit 7' TERM; echo out; echo err >&2; \
                  while true; do sleep 0.1; done";
    let out = env.berth(&["run", "-d", "--name", "web", "box", "sh", "-c", script]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = text(&out.stdout).trim().to_string();
    assert_eq!(id.len(), 64, "{id}");

    wait_for("the log", || {
        text(&env.berth(&["logs", "web"]).stdout).contains("out")
    });
    let logs = env.berth(&["logs", "web"]);
    assert_eq!(text(&logs.stdout), "out\n");
    assert_eq!(text(&logs.stderr), "err\n");
    let log =
        std::fs::read_to_string(env.root.join("containers").join(&id).join("ctr.log")).unwrap();
    // The two streams are copied independently: find the stdout entry.
    let first = log.lines().find(|l| l.contains(" stdout ")).unwrap();
    let fields: Vec<&str> = first.splitn(4, ' ').collect();
    assert!(
        fields[0].ends_with('Z') && fields[0].contains('T'),
        "{first}"
    );
    assert_eq!(&fields[1..], ["stdout", "F", "out"], "k8s-file format");

    let ps = text(
        &env.berth(&["ps", "--format", "{{.Names}} {{.State}}"])
            .stdout,
    );
    assert_eq!(ps.trim(), "web running");
    let inspect: serde_json::Value =
        serde_json::from_slice(&env.berth(&["inspect", "web"]).stdout).unwrap();
    let ns: Vec<&str> = inspect[0]["Namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert!(ns.contains(&"pid") && ns.contains(&"user"), "{ns:?}");
    assert!(inspect[0]["State"]["Pid"].as_i64().unwrap() > 0);

    let out = env.berth(&["stop", "-t", "5", "web"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&env.berth(&["ps"]).stdout).lines().count(),
        1,
        "header only"
    );
    let ps = text(
        &env.berth(&[
            "ps",
            "-a",
            "--format",
            "{{.Names}} {{.State}} {{.ExitCode}}",
        ])
        .stdout,
    );
    assert_eq!(ps.trim(), "web exited 7");
    assert!(text(&env.berth(&["ps", "-a"]).stdout).contains("Exited (7)"));
    assert_eq!(
        text(&env.berth(&["logs", "--tail", "1", "web"]).stdout),
        "bye\n"
    );
    assert_eq!(text(&env.berth(&["wait", "web"]).stdout).trim(), "7");

    let out = env.berth(&["rm", "web"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(env.containers().is_empty());
}

#[test]
fn detached_kill_and_rm_force() {
    let env = setup();
    let out = env.berth(&["run", "-d", "box", "sleep", "60"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = text(&out.stdout).trim()[..12].to_string();
    let out = env.berth(&["rm", &id]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        text(&out.stderr).contains("is running"),
        "{}",
        text(&out.stderr)
    );
    let out = env.berth(&["rm", "-f", &id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(env.containers().is_empty());

    // A detached command that does not exist fails like a foreground one.
    let out = env.berth(&["run", "-d", "box", "no-such-command"]);
    assert_eq!(out.status.code(), Some(127), "{}", text(&out.stderr));
    assert!(env.containers().is_empty());
}

#[test]
fn info_and_unshare_show_the_rootless_namespace() {
    let env = setup();
    let out = env.berth(&["info", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["Host"]["Rootless"], true);
    assert_eq!(
        info["Store"]["Driver"], "overlay",
        "kernel overlay works rootless here"
    );
    assert_eq!(info["Store"]["UserXattr"], true);
    let first = info["Host"]["UidMap"][0].as_str().unwrap().to_string();
    assert_eq!(first, format!("0 {} 1", env.user.uid));

    let out = env.berth(&["unshare", "sh", "-c", "id -u; exit 4"]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(text(&out.stdout), "0\n", "root in the namespace");
    let out = env.berth(&["unshare", "no-such-command"]);
    assert_eq!(out.status.code(), Some(127), "{}", text(&out.stderr));
}

#[test]
fn foreground_run_forwards_sigterm_to_the_container() {
    let env = setup();
    for rt in ["embedded", "runc"] {
        if rt == "runc" && !have("runc") {
            continue;
        }
        let script =
            "trap 'echo got-term; exit 9' TERM; echo ready; while true; do sleep 0.1; done";
        let mut child = env
            .user
            .command(bin("berth"))
            .arg("--root")
            .arg(&env.root)
            .args(["run", "--rm", "--runtime", rt, "box", "sh", "-c", script])
            .current_dir("/tmp")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        std::io::BufRead::read_line(&mut out, &mut line).unwrap();
        assert_eq!(line, "ready\n", "{rt}");
        // setpriv executes berth in place: this pid is berth's.
        let pid = child.id().to_string();
        assert_eq!(
            std::process::Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .code(),
            Some(0)
        );
        let status = child.wait().unwrap();
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
        assert_eq!(rest, "got-term\n", "{rt}");
        assert_eq!(status.code(), Some(9), "{rt}");
    }
    assert!(env.containers().is_empty());
}

/// Device nodes outside /dev, rootless, where mknod is refused: `import` leaves them out and
/// `run` skips them when it unpacks an image that has them (as containers/storage does), each
/// with a warning naming them; the container still runs.
#[test]
fn rootless_import_and_run_skip_device_nodes_with_a_warning() {
    let env = setup();
    let rootfs = env.tmp.path().join("devroot");
    std::fs::create_dir_all(rootfs.join("srv")).unwrap();
    std::fs::write(rootfs.join("srv/kept.txt"), "kept\n").unwrap();
    let mk = std::process::Command::new("mknod")
        .arg(rootfs.join("srv/null"))
        .args(["c", "1", "3"])
        .status()
        .unwrap();
    assert!(mk.success(), "mknod as root");
    let tar = env.tmp.path().join("dev-layer.tar");
    let st = std::process::Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .arg("-cf")
        .arg(&tar)
        .args(["--numeric-owner", "--owner=0", "--group=0", "."])
        .status()
        .unwrap();
    assert!(st.success());
    let ls = |image: &str| {
        env.berth(&[
            "run",
            "--rm",
            "-v",
            "/bin/busybox:/busybox:ro",
            image,
            "/busybox",
            "ls",
            "/srv",
        ])
    };

    // Rootless import: the node is left out of the image, with a warning.
    env.user.chown(env.tmp.path());
    let out = env.berth(&["import", tar.to_str().unwrap(), "devs"]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("left out 1 device node") && err.contains("srv/null"),
        "{err}"
    );
    let out = ls("devs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "kept.txt\n");

    // Imported by root, the image keeps it; the rootless run skips it when it unpacks, once.
    let out = std::process::Command::new(crate::bin("berth"))
        .arg("--root")
        .arg(&env.root)
        .args(["import", tar.to_str().unwrap(), "devs-root"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    env.user.chown(env.tmp.path());
    let out = ls("devs-root");
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(text(&out.stdout), "kept.txt\n");
    assert!(
        err.contains("skipped 1 device node") && err.contains("srv/null"),
        "{err}"
    );
    let out = ls("devs-root");
    assert!(out.status.success());
    assert!(
        !text(&out.stderr).contains("device node"),
        "{}",
        text(&out.stderr)
    );
}

/// The options of the container's root mount, from its own `/proc/self/mountinfo`.
fn root_mount_options(mountinfo: &str) -> String {
    mountinfo
        .lines()
        .find(|l| l.split(' ').nth(4) == Some("/"))
        .unwrap_or_else(|| panic!("no root mount in:\n{mountinfo}"))
        .to_owned()
}

/// A `--rm` container's root is mounted `volatile`, as podman mounts it: its upper directory
/// is thrown away, and without `volatile` unmounting it syncs the whole filesystem under the
/// store (a second after a large pull, issue 15). A container that is kept is mounted without.
#[test]
fn only_disposable_container_roots_are_mounted_volatile() {
    let env = setup();
    let (code, out, err) = env.run(&["box", "cat", "/proc/self/mountinfo"]);
    assert_eq!(code, 0, "{err}");
    let root = root_mount_options(&out);
    assert!(root.contains("volatile"), "--rm root: {root}");

    let out = env.berth(&[
        "run",
        "--name",
        "kept",
        "box",
        "cat",
        "/proc/self/mountinfo",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let root = root_mount_options(&text(&out.stdout));
    assert!(root.contains("upperdir="), "{root}");
    assert!(!root.contains("volatile"), "kept root: {root}");
    let out = env.berth(&["rm", "kept"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}
