//! Issue 11, finding 8: the console socket of `berth run -it` (through runc) and slirp4netns's
//! API socket lived in `/tmp` with the umask's permissions. At umask 000 another local user
//! connected to the console socket first, handed berth a terminal of their own and read what
//! the victim typed.
//!
//! The attack: the victim (the unprivileged test user, and root) runs `berth run -it` through
//! runc with `--network slirp4netns -p` at umask 000, with `TMPDIR` pointing to a replica of
//! `/tmp` (mode 1777) so that the run's temporary files are told apart from other tests'.
//! Meanwhile a second local user, `wharf-peer`, races: it lists that directory, `/tmp` and the
//! victim's runtime directories over and over and tries to connect to every socket and open
//! every file and directory it finds. Once the container runs, the test (as root) lists every
//! path in those places and the peer tries each of them by name. Nothing may open. The test
//! also checks that it saw the console and slirp4netns sockets appear, so it cannot pass
//! without the attack having had something to attack.

use std::collections::BTreeSet;
use std::io::Read as _;
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wharf_testkit::user::test_user;

use crate::bin;

/// Environment of the probe run as the peer.
const ROOTS_ENV: &str = "WHARF_PEER_ROOTS";
const PATHS_ENV: &str = "WHARF_PEER_PATHS";
const STOP_ENV: &str = "WHARF_PEER_STOP";
const OWNER_ENV: &str = "WHARF_PEER_VICTIM";

/// The peer user's (uid, gid): the testkit's second local user, created when missing.
fn peer() -> (u32, u32) {
    let peer = wharf_testkit::user::peer_user();
    (peer.uid, peer.gid)
}

/// The test binary itself as the peer, running [`peer_probe`] with `envs`.
fn as_peer(envs: &[(&str, String)]) -> Command {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = peer_command(exe.to_str().unwrap());
    cmd.args([
        "security::runtime_dir::peer_probe",
        "--exact",
        "--include-ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd
}

/// Whether an entry of the real `/tmp` (shared with every other test running meanwhile) may
/// come from the victim's run: a socket or fifo the victim owns (where the console and slirp4netns
/// sockets used to go, whatever `TMPDIR` says), or the victim's fallback runtime directory.
fn ours_in_tmp(path: &Path, meta: &std::fs::Metadata, owner: u32) -> bool {
    let t = meta.file_type();
    meta.uid() == owner
        && (t.is_socket()
            || t.is_fifo()
            || path
                .file_name()
                .is_some_and(|n| n.to_string_lossy() == format!("wharf-run-{owner}")))
}

/// Every path under `roots` (directories themselves excluded), as the caller can see them.
/// In `/tmp` only entries [`ours_in_tmp`] count.
fn walk(roots: &[PathBuf], owner: u32) -> BTreeSet<PathBuf> {
    fn rec(dir: &Path, depth: usize, out: &mut BTreeSet<PathBuf>, filter: Option<u32>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if let Some(owner) = filter
                && !ours_in_tmp(&p, &meta, owner)
            {
                continue;
            }
            out.insert(p.clone());
            if meta.is_dir() && depth < 4 {
                rec(&p, depth + 1, out, None);
            }
        }
    }
    let mut out = BTreeSet::new();
    for r in roots {
        let filter = (r == Path::new("/tmp")).then_some(owner);
        rec(r, 0, &mut out, filter);
    }
    out
}

/// Tries to use `path` as the peer would: connect to a socket, open a file or fifo for
/// reading, list a directory. Returns what worked.
fn try_access(path: &Path) -> Option<String> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    let t = meta.file_type();
    let what = if t.is_socket() {
        std::os::unix::net::UnixStream::connect(path)
            .ok()
            .map(|_| "connected to socket")
    } else if t.is_fifo() {
        nix::fcntl::open(
            path,
            nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_NONBLOCK,
            nix::sys::stat::Mode::empty(),
        )
        .ok()
        .map(|fd| {
            let _ = nix::unistd::close(fd);
            "opened fifo"
        })
    } else if t.is_dir() {
        std::fs::read_dir(path).ok().map(|_| "listed directory")
    } else if t.is_file() {
        std::fs::File::open(path).ok().map(|_| "read file")
    } else {
        None
    }?;
    Some(format!("ACCESSIBLE {what} {}", path.display()))
}

/// The attacker's side, run as [`wharf_testkit::user::PEER_USER`] by the attack tests (ignored otherwise): with
/// `WHARF_PEER_PATHS`, tries each path once; with `WHARF_PEER_ROOTS`, keeps listing those
/// directories and trying every new entry until the file `WHARF_PEER_STOP` exists. Prints one
/// `ACCESSIBLE ...` line per success.
#[test]
#[ignore = "the attacker's half of the runtime-directory attack, run as another user"]
fn peer_probe() {
    let split = |v: String| -> Vec<PathBuf> {
        v.split(':')
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .collect()
    };
    let owner: u32 = std::env::var(OWNER_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(u32::MAX);
    if let Ok(paths) = std::env::var(PATHS_ENV) {
        for p in split(paths) {
            if let Some(line) = try_access(&p) {
                println!("{line}");
            }
        }
        return;
    }
    let roots = split(std::env::var(ROOTS_ENV).expect("WHARF_PEER_ROOTS or WHARF_PEER_PATHS"));
    let stop = PathBuf::from(std::env::var(STOP_ENV).expect("WHARF_PEER_STOP"));
    let start = Instant::now();
    let mut tried = BTreeSet::new();
    // The first root (the victim's TMPDIR) is small and where a socket shows up for the
    // shortest time (a console socket lives while runc starts): it is listed every 100 µs, the
    // others (the real /tmp is large) every 20 ms.
    let mut round = 0u64;
    while !stop.exists() && start.elapsed() < Duration::from_secs(90) {
        let these = if round.is_multiple_of(200) {
            &roots[..]
        } else {
            &roots[..1]
        };
        round += 1;
        for p in walk(these, owner) {
            // The test's own signal is no part of the run.
            if p != stop
                && tried.insert(p.clone())
                && let Some(line) = try_access(&p)
            {
                println!("{line}");
            }
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    println!("PROBED {}", tried.len());
}

/// Runs the attack against a victim: the unprivileged test user, or root.
fn attack(rootless: bool) {
    assert!(
        wharf_testkit::busybox::available(),
        "busybox-static is needed (CI installs it)"
    );
    for tool in ["runc", "slirp4netns", "setpriv"] {
        assert!(
            Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .is_ok_and(|o| o.status.success()),
            "{tool} is needed (CI installs it)"
        );
    }
    let _ = peer();
    let user = rootless.then(|| test_user().expect("the unprivileged test user wharf-test"));
    let victim_uid = user.as_ref().map_or(0, |u| u.uid);

    // The victim's store, in a directory of its own.
    let tmp = tempfile::Builder::new()
        .prefix("sec-rundir")
        .tempdir_in("/tmp")
        .unwrap();
    let tar = wharf_testkit::busybox::rootfs_tar(tmp.path()).unwrap();
    let root = tmp.path().join("store");
    // A replica of /tmp for the victim's TMPDIR: world-writable and sticky.
    let shared = tempfile::Builder::new()
        .prefix("sec-shared-tmp")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    if let Some(u) = &user {
        u.chown(tmp.path());
    }
    let runtime_roots: Vec<PathBuf> = match &user {
        Some(u) => vec![PathBuf::from(u.runtime_dir())],
        None => vec![PathBuf::from("/run/wharf"), PathBuf::from("/run/user/0")],
    };
    let victim = |program: &Path, args: &[&str]| -> Command {
        // At umask 000, as in the audit.
        let mut all: Vec<&std::ffi::OsStr> = vec![
            "-c".as_ref(),
            "umask 000; exec \"$@\"".as_ref(),
            "sh".as_ref(),
            program.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
        ];
        all.extend(args.iter().map(std::ffi::OsStr::new));
        let mut cmd = if let Some(u) = &user {
            u.command("sh")
        } else {
            let mut c = Command::new("sh");
            c.env_remove("XDG_RUNTIME_DIR").env_remove("WHARF_ROOT");
            c
        };
        cmd.args(all)
            .env("TMPDIR", shared.path())
            .current_dir("/tmp");
        cmd
    };
    let out = victim(
        &bin("berth"),
        &[
            "import",
            "--change",
            "CMD [\"sh\"]",
            tar.to_str().unwrap(),
            "box",
        ],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "import: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut roots = vec![shared.path().to_path_buf(), PathBuf::from("/tmp")];
    roots.extend(runtime_roots.iter().cloned());
    let roots_env = roots
        .iter()
        .map(|r| r.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(":");

    // The test's own view (as root) while the run lasts: which sockets appeared.
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (seen, done, roots) = (Arc::clone(&seen), Arc::clone(&done), roots.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                let now = walk(&roots, victim_uid);
                seen.lock().unwrap().extend(now);
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };

    // The attacker races from before the run starts.
    let stop = shared.path().join("stop-probing");
    let racer = as_peer(&[
        (ROOTS_ENV, roots_env),
        (STOP_ENV, stop.to_string_lossy().into_owned()),
        (OWNER_ENV, victim_uid.to_string()),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));

    // The victim's interactive session, on a pty the test holds.
    let pty = nix::pty::openpty(None, None).unwrap();
    let slave = pty.slave;
    let stdio = || Stdio::from(slave.try_clone().unwrap());
    let mut session = victim(
        &bin("berth"),
        &[
            "run",
            "--rm",
            "-it",
            "--runtime",
            "runc",
            "--network",
            "slirp4netns",
            "-p",
            "127.0.0.1::8080",
            "box",
            "sh",
            "-c",
            "echo READY-$((40+2)); sleep 3",
        ],
    )
    .stdin(stdio())
    .stdout(stdio())
    .stderr(stdio())
    .spawn()
    .unwrap();
    drop(slave);
    let output = Arc::new(Mutex::new(Vec::new()));
    {
        let output = Arc::clone(&output);
        let mut master = std::fs::File::from(pty.master);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = master.read(&mut buf) {
                if n == 0 {
                    break;
                }
                output.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
    }
    let text = || String::from_utf8_lossy(&output.lock().unwrap()).into_owned();
    let start = Instant::now();
    while !text().contains("READY-42") {
        if start.elapsed() > Duration::from_secs(30) || session.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Everything in those places now, tried by name by the peer.
    let now: Vec<String> = walk(&roots, victim_uid)
        .into_iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let sweep = as_peer(&[(PATHS_ENV, now.join(":"))]).output().unwrap();
    let status = session.wait().unwrap();
    done.store(true, Ordering::SeqCst);
    watcher.join().unwrap();
    std::fs::write(&stop, "").unwrap();
    let racer = racer.wait_with_output().unwrap();

    let mut accessible: Vec<String> = Vec::new();
    for out in [&racer.stdout, &sweep.stdout] {
        accessible.extend(
            String::from_utf8_lossy(out)
                .lines()
                // libtest prints the test's name on the same line as the first output.
                .filter_map(|l| l.find("ACCESSIBLE ").map(|i| l[i..].to_owned())),
        );
    }
    assert!(
        accessible.is_empty(),
        "another local user got into the victim's run:\n{}\n(session output: {})",
        accessible.join("\n"),
        text()
    );
    assert!(
        String::from_utf8_lossy(&racer.stdout).contains("PROBED"),
        "the peer's probe did not run: {}{}",
        String::from_utf8_lossy(&racer.stdout),
        String::from_utf8_lossy(&racer.stderr)
    );
    assert!(
        status.success() && text().contains("READY-42"),
        "the victim's session failed ({status}): {}\n(peer: {})",
        text(),
        String::from_utf8_lossy(&racer.stdout)
    );
    // The attack had its targets: both sockets appeared where the test looked.
    let seen = seen.lock().unwrap();
    let sockets: Vec<&PathBuf> = seen
        .iter()
        .filter(|p| std::fs::symlink_metadata(p).map_or(true, |m| m.file_type().is_socket()))
        .collect();
    for kind in ["console", "slirp"] {
        assert!(
            seen.iter().any(|p| p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().contains(kind))),
            "no {kind} socket seen in {roots:?}: {sockets:?}"
        );
    }
}

#[test]
fn sockets_of_a_run_are_private_rootless() {
    attack(true);
}

#[test]
fn sockets_of_a_run_are_private_as_root() {
    attack(false);
}

/// A command run as [`wharf_testkit::user::PEER_USER`].
fn peer_command(program: &str) -> Command {
    let (uid, gid) = peer();
    let mut cmd = Command::new("setpriv");
    cmd.arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"))
        .arg("--clear-groups")
        .arg("--")
        .arg(program)
        .env_clear()
        .env("PATH", "/usr/bin:/bin");
    cmd
}

/// Without `XDG_RUNTIME_DIR`, the runtime directory is `$TMPDIR/wharf-run-UID`, a name anyone
/// can guess: the peer plants it first, as an open directory and as a symbolic link to a
/// directory of its own. berth must refuse both, naming the directory, and put nothing there.
#[test]
fn planted_runtime_dir_is_refused_rootless() {
    assert!(
        wharf_testkit::busybox::available(),
        "busybox-static is needed (CI installs it)"
    );
    let (peer_uid, _) = peer();
    let user = test_user().expect("the unprivileged test user wharf-test");
    let tmp = tempfile::Builder::new()
        .prefix("sec-planted")
        .tempdir_in("/tmp")
        .unwrap();
    let tar = wharf_testkit::busybox::rootfs_tar(tmp.path()).unwrap();
    let root = tmp.path().join("store");
    user.chown(tmp.path());
    let shared = tempfile::Builder::new()
        .prefix("sec-shared-tmp")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let berth = |args: &[&str]| {
        user.command(bin("berth"))
            .arg("--root")
            .arg(&root)
            .args(args)
            .env_remove("XDG_RUNTIME_DIR")
            .env("TMPDIR", shared.path())
            .current_dir("/tmp")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = berth(&[
        "import",
        "--change",
        "CMD [\"sh\"]",
        tar.to_str().unwrap(),
        "box",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let planted = shared.path().join(format!("wharf-run-{}", user.uid));
    let trap = shared.path().join("peer-trap");
    let ok = |c: &mut Command| assert!(c.status().unwrap().success(), "{c:?}");
    ok(peer_command("mkdir").arg("-m").arg("777").arg(&trap));
    for how in ["directory", "symlink"] {
        let _ = std::fs::remove_dir(&planted);
        let _ = std::fs::remove_file(&planted);
        if how == "directory" {
            ok(peer_command("mkdir").arg("-m").arg("777").arg(&planted));
        } else {
            ok(peer_command("ln").arg("-s").arg(&trap).arg(&planted));
        }
        // -t through runc needs a console socket; slirp4netns an API socket.
        let out = berth(&[
            "run",
            "--rm",
            "-t",
            "--runtime",
            "runc",
            "--network",
            "slirp4netns",
            "box",
            "true",
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(&planted.display().to_string()),
            "a {how} planted by uid {peer_uid} at {} was not refused ({}): {err}",
            planted.display(),
            out.status
        );
        let inside: Vec<_> = std::fs::read_dir(&trap).unwrap().flatten().collect();
        assert!(
            inside.is_empty(),
            "the run put {inside:?} in the peer's directory"
        );
        let meta = std::fs::symlink_metadata(&planted).unwrap();
        assert_eq!(meta.uid(), peer_uid, "the planted {how} was replaced");
    }
}
