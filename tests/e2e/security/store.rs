//! Issue 11, findings 4 and 9: the store as a trust boundary. Each test performs the attack
//! against a store owned by root and against one owned by the rootless test user; the
//! attacker is a second local user (`wharf-peer`).
//!
//! - another user reads a `berth run -e` value and a build secret while the RUN runs;
//! - a process holding `index.lock` makes the owner's `berth pull` hang;
//! - a tampered config blob runs with an injected command;
//! - a tampered unpacked layer is used and `kiln system check` calls the store ok.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use wharf_testkit::user::{TestUser, peer_user, test_user};

use crate::bin;
pub(super) use crate::text;

/// A store and the user who owns it (`None`: this process, root in CI).
pub(super) struct Victim {
    pub(super) tmp: tempfile::TempDir,
    pub(super) root: PathBuf,
    pub(super) user: Option<TestUser>,
}

impl Victim {
    /// A store holding `localhost/box:latest` (busybox, `CMD ["sh"]`), in a directory every
    /// user may enter: only the store's own permissions stand between it and the attacker.
    pub(super) fn new(rootless: bool) -> Self {
        assert!(
            wharf_testkit::busybox::available(),
            "busybox-static is required"
        );
        let user = rootless.then(|| test_user().expect("the unprivileged test user wharf-test"));
        let tmp = tempfile::Builder::new()
            .prefix("wharf-sec-store")
            .tempdir_in("/tmp")
            .unwrap();
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let tar = wharf_testkit::busybox::rootfs_tar(tmp.path()).unwrap();
        let root = tmp.path().join("store");
        let v = Self { tmp, root, user };
        if let Some(u) = &v.user {
            u.chown(v.tmp.path());
        }
        v.ok(
            "berth",
            &[
                "import",
                "--change",
                "CMD [\"sh\"]",
                tar.to_str().unwrap(),
                "box",
            ],
        );
        v
    }

    pub(super) fn label(&self) -> &'static str {
        if self.user.is_some() {
            "rootless"
        } else {
            "root"
        }
    }

    /// `program` run as the store's owner (no `--root`).
    pub(super) fn raw(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = match &self.user {
            Some(u) => u.command(program),
            None => Command::new(program),
        };
        c.current_dir("/tmp")
            .env("CONTAINERS_REGISTRIES_CONF", "/nonexistent/registries.conf")
            .env_remove("WHARF_ROOT");
        c
    }

    /// A wharf binary run as the owner on this store.
    pub(super) fn cmd(&self, name: &str) -> Command {
        let mut c = self.raw(bin(name));
        c.arg("--root").arg(&self.root);
        c
    }

    pub(super) fn out(&self, name: &str, args: &[&str]) -> Output {
        self.cmd(name).args(args).output().unwrap()
    }

    pub(super) fn ok(&self, name: &str, args: &[&str]) -> String {
        let out = self.out(name, args);
        assert!(
            out.status.success(),
            "{} {name} {args:?}: {}{}",
            self.label(),
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// The stored blob file of `digest` (`sha256:...`).
    pub(super) fn blob(&self, digest: &str) -> PathBuf {
        self.root
            .join("oci/blobs/sha256")
            .join(digest.trim_start_matches("sha256:"))
    }

    /// The manifest of the image named `name` in `index.json`, parsed.
    pub(super) fn manifest_of(&self, name: &str) -> (String, serde_json::Value) {
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(self.root.join("oci/index.json")).unwrap())
                .unwrap();
        let entry = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == name)
            .unwrap_or_else(|| panic!("{name} in {index}"))
            .clone();
        let digest = entry["digest"].as_str().unwrap().to_owned();
        let m = serde_json::from_slice(&std::fs::read(self.blob(&digest)).unwrap()).unwrap();
        (digest, m)
    }
}

impl Drop for Victim {
    fn drop(&mut self) {
        let ids = self.out("berth", &["ps", "-q", "--no-trunc"]);
        for id in text(&ids.stdout).lines() {
            let _ = self.out("berth", &["rm", "-f", id]);
        }
    }
}

/// Both victims: root's store and the rootless user's.
pub(super) fn victims() -> [Victim; 2] {
    [Victim::new(false), Victim::new(true)]
}

/// What the attacker finds: the files under `dirs` that contain `needle` (grep as
/// `wharf-peer`), plus whether it could open the lock file.
fn attacker_finds(attacker: &TestUser, needle: &str, dirs: &[&Path]) -> String {
    let out = attacker
        .command("grep")
        .args(["-r", "-a", "-l", "-s", "-F", "--", needle])
        .args(dirs)
        .current_dir("/")
        .output()
        .unwrap();
    text(&out.stdout) + &attacker_finds_in_tmp(attacker, needle, dirs[0])
}

/// Files the attacker can read in the shared temporary directories (`/tmp`, `/dev/shm`) that
/// are newer than `since` and contain `needle`: where a secret would land if it were staged
/// outside the store.
fn attacker_finds_in_tmp(attacker: &TestUser, needle: &str, since: &Path) -> String {
    let out = attacker
        .command("sh")
        .arg("-c")
        .arg(
            "find /tmp /dev/shm -xdev -maxdepth 6 -type f -newer \"$1\" -readable 2>/dev/null \
             | xargs -r grep -a -l -s -F -- \"$2\"",
        )
        .args(["sh"])
        .arg(since)
        .arg(needle)
        .current_dir("/")
        .output()
        .unwrap();
    text(&out.stdout)
}

fn secret_value(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{tag}-{}-{nanos:x}", std::process::id())
}

/// Finding 4: `berth run -e DB_PASSWORD=...` kept the value in world-readable files (the
/// container record, the bundle's `config.json`); the store root was 0755 and so was an
/// existing store, and another user could open `index.lock`.
#[test]
fn another_user_cannot_read_a_containers_environment() {
    let attacker = peer_user();
    for v in victims() {
        let value = secret_value("db-pass");
        let env = format!("DB_PASSWORD={value}");
        let id = v.ok("berth", &["run", "-d", "-e", &env, "box", "sleep", "60"]);
        let found = attacker_finds(&attacker, &value, &[v.tmp.path()]);
        assert!(
            found.is_empty(),
            "{}: {} read the container's environment in {found}",
            v.label(),
            attacker.name
        );
        let lock = attacker
            .command("flock")
            .args(["-n", "-E", "99"])
            .arg(v.root.join("index.lock"))
            .arg("true")
            .output()
            .unwrap();
        assert!(
            !lock.status.success(),
            "{}: {} could take the store's lock",
            v.label(),
            attacker.name
        );
        let mode = std::fs::metadata(&v.root).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}: store root mode {mode:o}", v.label());
        v.ok("berth", &["rm", "-f", id.trim()]);

        // A store made by an older wharf (0755) is tightened when its owner opens it.
        std::fs::set_permissions(&v.root, std::fs::Permissions::from_mode(0o755)).unwrap();
        v.ok("berth", &["images"]);
        let mode = std::fs::metadata(&v.root).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}: existing store left {mode:o}", v.label());
    }
}

/// Finding 4: a build secret (`--secret id=...,env=VAR`, used as `env=` and as a file) was
/// readable by another user while the RUN ran (bundle `config.json`, staged secret file).
#[test]
fn another_user_cannot_read_a_build_secret_during_run() {
    let attacker = peer_user();
    for v in victims() {
        let value = secret_value("build-secret");
        let ctx = v.tmp.path().join("ctx");
        std::fs::create_dir(&ctx).unwrap();
        std::fs::write(
            ctx.join("Dockerfile"),
            "FROM localhost/box\n\
             RUN --mount=type=secret,id=tok,env=TOK --mount=type=secret,id=tok,target=/run/secrets/tok \
             sleep 6\n",
        )
        .unwrap();
        if let Some(u) = &v.user {
            u.chown(&ctx);
        }
        let mut build: Child = v
            .cmd("kiln")
            .args([
                "build",
                "-t",
                "secretive",
                "--secret",
                "id=tok,env=WHARF_SEC_TOKEN",
            ])
            .arg(&ctx)
            .env("WHARF_SEC_TOKEN", &value)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let mut looks = 0;
        let mut found = String::new();
        while build.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_mins(2) {
            found.push_str(&attacker_finds(&attacker, &value, &[v.tmp.path()]));
            looks += 1;
            std::thread::sleep(Duration::from_millis(200));
        }
        let out = build.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}: build failed: {}",
            v.label(),
            text(&out.stderr)
        );
        assert!(
            looks >= 3,
            "{}: the RUN ended before the attacker looked",
            v.label()
        );
        assert!(
            found.is_empty(),
            "{}: {} read the build secret during the RUN in {found}",
            v.label(),
            attacker.name
        );
    }
}

/// Waits for `child` at most `limit`; kills it when it takes longer. Returns its output and
/// whether it finished in time.
fn wait_at_most(mut child: Child, limit: Duration) -> (Output, bool) {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            return (child.wait_with_output().unwrap(), false);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (child.wait_with_output().unwrap(), true)
}

/// Finding 4: a process holding `index.lock` made `berth pull` wait forever. Now the pull gives
/// up after the lock timeout (`WHARF_LOCK_TIMEOUT`) and names the holder and the fix.
#[test]
fn a_held_store_lock_times_out_naming_its_holder() {
    for v in victims() {
        let layout = v.tmp.path().join("layout");
        let src = format!("oci:{}:v1", layout.display());
        v.ok("ferry", &["copy", "store:localhost/box:latest", &src]);
        let mut holder = v
            .raw("flock")
            // No fork: the pid /proc/locks names is the one we kill.
            .arg("--no-fork")
            .arg(v.root.join("index.lock"))
            .args(["sleep", "30"])
            .spawn()
            .unwrap();
        // Until the kernel lists the holder's lock.
        let started = Instant::now();
        while !std::fs::read_to_string("/proc/locks")
            .unwrap()
            .lines()
            .any(|l| l.contains("FLOCK") && l.contains(&format!(" {} ", holder.id())))
        {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "flock never locked"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let pull = v
            .cmd("berth")
            .args(["pull", &src])
            .env("WHARF_LOCK_TIMEOUT", "2")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let began = Instant::now();
        let (out, in_time) = wait_at_most(pull, Duration::from_secs(20));
        let took = began.elapsed();
        let _ = holder.kill();
        let _ = holder.wait();
        let err = text(&out.stderr);
        assert!(
            in_time,
            "{}: berth pull hung behind the lock: {err}",
            v.label()
        );
        assert!(!out.status.success(), "{}: {err}", v.label());
        assert!(
            took >= Duration::from_secs(2),
            "{}: gave up early",
            v.label()
        );
        assert!(
            // `flock --no-fork` became `sleep 30`: the holder is named by its command line.
            err.contains(&format!("process {} (sleep 30)", holder.id()))
                && err.contains("index.lock")
                && err.contains("WHARF_LOCK_TIMEOUT"),
            "{}: the message names the lock, its holder and the fix: {err}",
            v.label()
        );
        assert!(!err.contains("panicked"), "{err}");
        // Once the holder is gone the same pull works.
        v.ok("berth", &["pull", &src]);
    }
}

/// Finding 9: a config blob changed in the store (`Cmd` replaced) ran with the injected
/// command. Now every read of a manifest or config re-checks its digest.
#[test]
fn a_tampered_config_blob_is_refused() {
    for v in victims() {
        let (_, manifest) = v.manifest_of("localhost/box:latest");
        let config = manifest["config"]["digest"].as_str().unwrap().to_owned();
        let path = v.blob(&config);
        let original = std::fs::read_to_string(&path).unwrap();
        // Same length, so no size check can notice: only the digest can.
        let tampered = original.replace(r#""Cmd":["sh"]"#, r#""Cmd":["id"]"#);
        assert_ne!(tampered, original, "Cmd in {original}");
        std::fs::write(&path, &tampered).unwrap();

        let out = v.out("berth", &["run", "--rm", "box"]);
        let (stdout, err) = (text(&out.stdout), text(&out.stderr));
        assert!(
            !out.status.success() && !stdout.contains("uid="),
            "{}: the injected command ran: {stdout}{err}",
            v.label()
        );
        assert!(
            err.contains(&config) && err.contains("damaged") && err.contains("kiln rmi"),
            "{}: the message names the blob, the cause and the fix: {err}",
            v.label()
        );
        // The damaged image does not hide the others from `images`.
        v.ok("kiln", &["tag", "box", "other"]);
        let images = v.ok("berth", &["images"]);
        assert!(images.contains("localhost/other"), "{images}");
        let check = v.out("kiln", &["system", "check"]);
        assert_eq!(check.status.code(), Some(1), "{}", text(&check.stdout));
        assert!(
            text(&check.stdout).contains(config.trim_start_matches("sha256:")),
            "{}",
            text(&check.stdout)
        );
    }
}

/// Finding 9: a file changed in an unpacked layer was used, and `kiln system check` said ok.
/// Now the full check re-hashes unpacked trees against what was unpacked (verified against the
/// diff ID); `--quick` compares inode, size, mtime and ctime, which a rewrite that even restores
/// size and mtime still changes (ctime); `--repair` removes the tree, unpacked again on use.
#[test]
fn a_tampered_unpacked_layer_is_reported_and_repaired() {
    for v in victims() {
        v.ok("berth", &["run", "--rm", "box", "true"]);
        let clean = v.ok("kiln", &["system", "check"]);
        assert!(
            clean.contains("1 unpacked layers") && clean.ends_with("ok\n"),
            "{clean}"
        );
        // Running containers on it changed nothing the quick check looks at.
        let clean = v.ok("kiln", &["system", "check", "--quick"]);
        assert!(clean.ends_with("ok\n"), "{clean}");
        let layers: Vec<PathBuf> = std::fs::read_dir(v.root.join("layers"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(layers.len(), 1, "{layers:?}");
        let passwd = layers[0].join("etc/passwd");
        let before = std::fs::read(&passwd).unwrap();
        let mut evil = before.clone();
        evil.extend_from_slice(b"evil::0:0::/:/bin/sh\n");
        std::fs::write(&passwd, &evil).unwrap();

        for quick in [false, true] {
            let mut args = vec!["system", "check"];
            if quick {
                args.push("--quick");
            }
            let out = v.out("kiln", &args);
            let stdout = text(&out.stdout);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{} {args:?}: {stdout}",
                v.label()
            );
            assert!(
                stdout.contains("/etc/passwd") && stdout.contains("--repair"),
                "{} {args:?}: {stdout}",
                v.label()
            );
        }

        // Same size, same mtime: only the ctime (and the content) tell.
        let mtime = std::fs::metadata(&passwd).unwrap();
        let stamp = format!(
            "@{}.{:09}",
            std::os::unix::fs::MetadataExt::mtime(&mtime),
            std::os::unix::fs::MetadataExt::mtime_nsec(&mtime)
        );
        let mut same_size = evil.clone();
        same_size[0] = b'X';
        std::fs::write(&passwd, &same_size).unwrap();
        assert!(
            Command::new("touch")
                .args(["-d", &stamp])
                .arg(&passwd)
                .status()
                .unwrap()
                .success()
        );
        let quick = v.out("kiln", &["system", "check", "--quick"]);
        assert_eq!(quick.status.code(), Some(1), "{}", text(&quick.stdout));

        let repaired = v.ok("kiln", &["system", "check", "--repair"]);
        assert!(repaired.contains("repaired:"), "{repaired}");
        assert!(!layers[0].exists());
        let out = v.ok("berth", &["run", "--rm", "box", "cat", "/etc/passwd"]);
        assert!(!out.contains("evil"), "{out}");
        assert_eq!(out.as_bytes(), &before[..]);
        let again = v.ok("kiln", &["system", "check"]);
        assert!(again.ends_with("ok\n"), "{again}");
    }
}
