//! `berth run` resources, rootless as the unprivileged test user: named volumes (persistence,
//! copy-up from the image, `berth volume` and its in-use check), `--mount` and `--tmpfs`,
//! user-mode networking with published ports, and cgroup limits (as root, and their refusal
//! rootless on a host without delegation).

use std::path::PathBuf;
use std::process::Output;

use wharf_testkit::user::{TestUser, test_user};

use crate::bin;

struct Env {
    tmp: tempfile::TempDir,
    root: PathBuf,
    user: TestUser,
}

/// A store owned by the test user holding `localhost/box:latest` (busybox, `CMD sh`).
fn setup() -> Option<Env> {
    let Some(user) = test_user() else {
        eprintln!("SKIP: no unprivileged test user (run the tests as root to create wharf-test)");
        return None;
    };
    if !wharf_testkit::busybox::available() {
        eprintln!("SKIP: busybox-static is not installed");
        return None;
    }
    let tmp = tempfile::Builder::new()
        .prefix("berth-res-e2e")
        .tempdir_in("/tmp")
        .unwrap();
    let tar = wharf_testkit::busybox::rootfs_tar(tmp.path()).unwrap();
    let root = tmp.path().join("store");
    let env = Env { tmp, root, user };
    env.user.chown(env.tmp.path());
    let out = env.berth(&[
        "import",
        "--change",
        "CMD [\"sh\"]",
        tar.to_str().unwrap(),
        "box",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    Some(env)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Env {
    fn berth(&self, args: &[&str]) -> Output {
        self.user
            .command(bin("berth"))
            .arg("--root")
            .arg(&self.root)
            .args(args)
            .current_dir("/tmp")
            .output()
            .unwrap()
    }

    /// `berth run --rm ARGS`: (exit code, stdout, stderr).
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let mut all = vec!["run", "--rm"];
        all.extend_from_slice(args);
        let out = self.berth(&all);
        (
            out.status.code().unwrap_or(-1),
            text(&out.stdout),
            text(&out.stderr),
        )
    }

    fn containers(&self) -> usize {
        std::fs::read_dir(self.root.join("containers")).map_or(0, Iterator::count)
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let ids = self.berth(&["ps", "-aq", "--no-trunc"]);
        for id in text(&ids.stdout).lines() {
            let _ = self.berth(&["rm", "-f", id]);
        }
    }
}

#[test]
fn named_volume_persists_and_is_filled_from_the_image() {
    let Some(env) = setup() else { return };
    let (code, _, err) = env.run(&["-v", "data:/data", "box", "sh", "-c", "echo one > /data/f"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = env.run(&[
        "--mount",
        "type=volume,src=data,dst=/again",
        "box",
        "cat",
        "/again/f",
    ]);
    assert_eq!((code, out.as_str()), (0, "one\n"), "{err}");
    let on_disk = env.root.join("volumes/data/_data/f");
    assert_eq!(std::fs::read_to_string(on_disk).unwrap(), "one\n");

    // First use of a new volume copies the image's content at the mount point (podman's
    // copy-up); nocopy does not.
    let (code, out, err) = env.run(&[
        "-v",
        "etc:/etc",
        "box",
        "sh",
        "-c",
        "grep -c ^root: /etc/passwd",
    ]);
    assert_eq!((code, out.as_str()), (0, "1\n"), "{err}");
    assert!(env.root.join("volumes/etc/_data/passwd").is_file());
    let (code, out, _) = env.run(&["-v", "bare:/etc:nocopy", "box", "ls", "-A", "/etc"]);
    assert_eq!((code, out.as_str()), (0, ""));

    let ls = text(&env.berth(&["volume", "ls"]).stdout);
    let lines: Vec<&str> = ls.lines().collect();
    assert_eq!(lines[0], "DRIVER   VOLUME NAME", "{ls}");
    assert_eq!(
        &lines[1..],
        ["local    bare", "local    data", "local    etc"],
        "{ls}"
    );
    let out = env.berth(&["volume", "inspect", "data"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["Name"], "data");
    assert_eq!(v[0]["Driver"], "local");
    assert_eq!(
        v[0]["Mountpoint"].as_str().unwrap(),
        env.root.join("volumes/data/_data").to_str().unwrap()
    );
    assert!(v[0]["CreatedAt"].as_str().unwrap().contains('T'));
    assert!(v[0]["Labels"].is_object() && v[0]["Options"].is_object());
    assert_eq!(
        env.containers(),
        0,
        "--rm keeps named volumes, not containers"
    );
}

#[test]
fn volume_commands_and_in_use_refusal() {
    let Some(env) = setup() else { return };
    let out = env.berth(&["volume", "create", "--label", "app=db", "v1"]);
    assert_eq!(text(&out.stdout), "v1\n", "{}", text(&out.stderr));
    let out = env.berth(&["volume", "create", "v1"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        text(&out.stderr).contains("already exists"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        env.berth(&["volume", "create", "--ignore", "v1"])
            .status
            .success()
    );
    let fmt = text(
        &env.berth(&["volume", "inspect", "--format", "{{.Labels.app}}", "v1"])
            .stdout,
    );
    assert_eq!(fmt, "db\n");

    let out = env.berth(&[
        "run", "-d", "--name", "holder", "-v", "v1:/v", "box", "sleep", "60",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = env.berth(&["volume", "rm", "v1"]);
    assert_eq!(out.status.code(), Some(125));
    let err = text(&out.stderr);
    assert!(
        err.contains("being used") && err.contains("holder"),
        "{err}"
    );
    assert!(env.root.join("volumes/v1/_data").is_dir());

    let out = env.berth(&["volume", "rm", "-f", "v1"]);
    assert_eq!(text(&out.stdout), "v1\n", "{}", text(&out.stderr));
    assert!(!env.root.join("volumes/v1").exists());
    assert_eq!(env.containers(), 0, "-f removes the container using it");

    let out = env.berth(&["volume", "rm", "v1"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        text(&out.stderr).contains("no volume with name"),
        "{}",
        text(&out.stderr)
    );

    env.berth(&["volume", "create", "unused"]);
    let out = env.berth(&["volume", "prune", "-f"]);
    assert_eq!(text(&out.stdout), "unused\n", "{}", text(&out.stderr));
    assert_eq!(text(&env.berth(&["volume", "ls", "-q"]).stdout), "");
}

#[test]
fn tmpfs_on_a_read_only_root_and_read_only_binds() {
    let Some(env) = setup() else { return };
    let (code, out, err) = env.run(&[
        "--read-only",
        "--tmpfs",
        "/scratch:size=2m",
        "--mount",
        "type=tmpfs,destination=/t2,tmpfs-mode=0700",
        "box",
        "sh",
        "-c",
        "echo x > /scratch/f && cat /scratch/f && grep -e ' /scratch ' -e ' /t2 ' /proc/mounts; \
         touch /nope 2>&1",
    ]);
    assert_eq!(code, 1, "touch on the read-only root fails: {err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "x");
    let scratch = lines.iter().find(|l| l.contains(" /scratch ")).unwrap();
    assert!(scratch.starts_with("tmpfs /scratch tmpfs rw,"), "{scratch}");
    for o in ["nosuid", "nodev", "noexec", "size=2048k"] {
        assert!(scratch.contains(o), "{o}: {scratch}");
    }
    let t2 = lines.iter().find(|l| l.contains(" /t2 ")).unwrap();
    assert!(t2.contains("mode=700") && !t2.contains("noexec"), "{t2}");
    assert!(out.contains("Read-only file system"), "{out}");

    let data = env.tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("f"), "hi\n").unwrap();
    env.user.chown(&data);
    let m = format!("type=bind,source={},target=/data,readonly", data.display());
    let (code, out, err) = env.run(&[
        "--mount",
        &m,
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
fn bad_mount_specs_are_125_naming_the_flag() {
    let Some(env) = setup() else { return };
    for (args, msg) in [
        (vec!["--mount", "type=nfs,target=/x"], "invalid --mount"),
        (
            vec!["--mount", "type=bind,source=/tmp"],
            "target= is missing",
        ),
        (vec!["--mount", "type=tmpfs,target=rel"], "must be absolute"),
        (vec!["--tmpfs", "rel"], "invalid --tmpfs"),
        (vec!["--tmpfs", "/x:bogus"], "unknown tmpfs option"),
        (vec!["-v", "bad/name:/x"], "-v/--volume"),
        (
            vec!["-v", "/tmp:/x", "--tmpfs", "/x"],
            "duplicate mount destination",
        ),
    ] {
        let mut all = args.clone();
        all.extend(["box", "true"]);
        let (code, _, err) = env.run(&all);
        assert_eq!(code, 125, "{args:?}: {err}");
        assert!(err.contains(msg), "{args:?}: {err}");
        assert_eq!(env.containers(), 0, "{args:?} left a container");
    }
    assert!(!env.root.join("volumes/bad").exists());
}
