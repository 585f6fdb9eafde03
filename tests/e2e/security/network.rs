//! Issue 11, finding 6: a Dockerfile's RUN (and `kiln run` in a working container) reached a
//! service listening only on the host's 127.0.0.1, because RUN used the host's network by
//! default. The attack: the test listens on 127.0.0.1:PORT and a RUN step connects to it.
//! By default (and with `--network pasta|slirp4netns`) it must not get through, while the
//! namespace still has outbound plumbing (an interface besides `lo` with a default route, a
//! usable resolv.conf); `--network host` must still reach it, so the probe is known to work.
//!
//! No traffic leaves 127.0.0.0/8 or the namespaces the build creates: the probes connect to
//! 127.0.0.1 only and the plumbing is checked by reading the routing table.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wharf_testkit::user::{TestUser, test_user};

use crate::bin;

/// What the host-only service answers; a RUN that prints it has reached the host's loopback.
const SECRET: &str = "HOST-LOOPBACK-SECRET";

/// A TCP service on the host's 127.0.0.1 (in the test process), counting connections.
fn host_service() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            let _ = conn.write_all(format!("{SECRET}\n").as_bytes());
        }
    });
    (port, hits)
}

/// Who runs kiln: root itself, or the unprivileged test user.
struct Caller {
    user: Option<TestUser>,
    tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Caller {
    fn new(rootless: bool) -> Self {
        assert!(
            wharf_testkit::busybox::available(),
            "busybox-static is needed (CI installs it)"
        );
        let user = if rootless {
            let user = test_user().expect("the unprivileged test user wharf-test (run as root)");
            Some(user)
        } else {
            assert!(
                nix::unistd::geteuid().is_root(),
                "the as-root half of this test must run as root"
            );
            None
        };
        let tmp = tempfile::Builder::new()
            .prefix("sec-net")
            .tempdir_in("/tmp")
            .unwrap();
        let tar = wharf_testkit::busybox::rootfs_tar(tmp.path()).unwrap();
        let root = tmp.path().join("store");
        if let Some(u) = &user {
            u.chown(tmp.path());
        }
        let c = Self { user, tmp, root };
        c.ok(
            "berth",
            &[
                "import",
                "--change",
                "CMD [\"sh\"]",
                tar.to_str().unwrap(),
                "busybox",
            ],
        );
        c
    }

    fn run(&self, program: &str, args: &[&str]) -> Output {
        let mut cmd = if let Some(u) = &self.user {
            u.command(bin(program))
        } else {
            let mut c = std::process::Command::new(bin(program));
            c.env_remove("WHARF_ROOT");
            c
        };
        cmd.arg("--root")
            .arg(&self.root)
            .args(args)
            .current_dir("/tmp")
            .output()
            .unwrap()
    }

    fn ok(&self, program: &str, args: &[&str]) -> String {
        let out = self.run(program, args);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "{program} {args:?} failed ({}):\n{all}",
            out.status
        );
        all
    }

    fn context(&self, dockerfile: &str) -> PathBuf {
        let dir = self.tmp.path().join("ctx");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("Dockerfile"), dockerfile).unwrap();
        if let Some(u) = &self.user {
            u.chown(&dir);
        }
        dir
    }
}

/// A shell script that tries the host service and reports what the namespace looks like, one
/// marked line each.
fn probe_script(port: u16) -> String {
    format!(
        "(nc -w 3 127.0.0.1 {port} </dev/null 2>&1 || echo refused) | sed 's/^/PROBE /'; \
         awk '{{print \"ROUTE \" $1 \" \" $2}}' /proc/net/route; \
         ip -o link | sed 's/^/LINK /'; \
         sed 's/^/RESOLV /' /etc/resolv.conf; true"
    )
}

/// Lines of `out` after `MARKER `.
fn marked<'a>(out: &'a str, marker: &str) -> Vec<&'a str> {
    let tag = format!("{marker} ");
    out.lines()
        .filter_map(|l| l.find(&tag).map(|i| &l[i + tag.len()..]))
        .collect()
}

/// Whether the routing table has a default route through an interface other than `lo`.
fn has_default_route(out: &str) -> bool {
    marked(out, "ROUTE").iter().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() >= 2 && f[0] != "lo" && f[0] != "Iface" && f[1] == "00000000"
    })
}

/// What one RUN saw, and how many times the host service was reached meanwhile.
fn observe(out: &str, hits: &AtomicUsize, before: usize) -> (bool, usize) {
    (out.contains(SECRET), hits.load(Ordering::SeqCst) - before)
}

/// The private network: the host's loopback is out of reach, the plumbing is there.
fn assert_private(what: &str, out: &str, hits: &AtomicUsize, before: usize) {
    let (leaked, n) = observe(out, hits, before);
    assert!(
        !leaked && n == 0,
        "{what}: the RUN reached the host's 127.0.0.1 service ({n} connections):\n{out}"
    );
    assert!(
        has_default_route(out),
        "{what}: no default route through an interface besides lo:\n{out}"
    );
    assert!(
        marked(out, "LINK").iter().any(|l| !l.contains(" lo:")),
        "{what}: no interface besides lo:\n{out}"
    );
    let resolv = marked(out, "RESOLV");
    assert!(
        resolv
            .iter()
            .any(|l| l.starts_with("nameserver ") && !l.contains(" 127.") && !l.contains(" ::1")),
        "{what}: resolv.conf names no name server the namespace can reach: {resolv:?}"
    );
}

fn assert_host(what: &str, out: &str, hits: &AtomicUsize, before: usize) {
    let (leaked, n) = observe(out, hits, before);
    assert!(
        leaked && n > 0,
        "{what}: --network host should reach the host's 127.0.0.1 service (the probe is broken?):\n{out}"
    );
}

fn attack(rootless: bool) {
    let caller = Caller::new(rootless);
    let (port, hits) = host_service();
    let ctx = caller.context(&format!("FROM busybox\nRUN {}\n", probe_script(port)));
    let ctx = ctx.to_str().unwrap();
    let build = |extra: &[&str]| {
        let before = hits.load(Ordering::SeqCst);
        let mut args = vec!["build", "--no-cache", "-t", "probe"];
        args.extend_from_slice(extra);
        args.push(ctx);
        (caller.ok("kiln", &args), before)
    };
    let (out, before) = build(&[]);
    assert_private("kiln build (default network)", &out, &hits, before);
    for tool in ["pasta", "slirp4netns"] {
        let (out, before) = build(&["--network", tool]);
        assert_private(&format!("kiln build --network {tool}"), &out, &hits, before);
    }
    let (out, before) = build(&["--network", "none"]);
    let (leaked, n) = observe(&out, &hits, before);
    assert!(!leaked && n == 0, "--network none reached the host:\n{out}");
    assert!(
        !has_default_route(&out),
        "--network none has a route:\n{out}"
    );
    let (out, before) = build(&["--network", "host"]);
    assert_host("kiln build --network host", &out, &hits, before);

    // The Dockerfile cannot pick the host's network itself: `RUN --network=host` needs the
    // caller's `--network host` (BuildKit's network.host entitlement).
    let ctx = caller.context(&format!(
        "FROM busybox\nRUN --network=host {}\n",
        probe_script(port)
    ));
    let ctx = ctx.to_str().unwrap();
    let before = hits.load(Ordering::SeqCst);
    let out = caller.run("kiln", &["build", "--no-cache", "-t", "probe", ctx]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let (leaked, n) = observe(&all, &hits, before);
    assert!(
        !out.status.success() && !leaked && n == 0,
        "RUN --network=host without kiln build --network host ran ({n} connections):\n{all}"
    );
    assert!(all.contains("kiln build --network host"), "{all}");
    let (out, before) = build(&["--network", "host"]);
    assert_host(
        "RUN --network=host with --network host",
        &out,
        &hits,
        before,
    );

    // A working container: `kiln run` defaults to the private network too.
    let ctr = "probe-ctr";
    caller.ok("kiln", &["from", "--name", ctr, "busybox"]);
    let script = probe_script(port);
    let run = |extra: &[&str]| {
        let before = hits.load(Ordering::SeqCst);
        let mut args = vec!["run"];
        args.extend_from_slice(extra);
        args.extend([ctr, "--", "sh", "-c", script.as_str()]);
        (caller.ok("kiln", &args), before)
    };
    let (out, before) = run(&[]);
    assert_private("kiln run (default network)", &out, &hits, before);
    let (out, before) = run(&["--network", "host"]);
    assert_host("kiln run --network host", &out, &hits, before);

    // `kiln from --network` sets the default of later runs, as buildah's; `kiln run
    // --network` still wins.
    caller.ok(
        "kiln",
        &["from", "--network", "host", "--name", "host-ctr", "busybox"],
    );
    let run_in = |extra: &[&str]| {
        let before = hits.load(Ordering::SeqCst);
        let mut args = vec!["run"];
        args.extend_from_slice(extra);
        args.extend(["host-ctr", "--", "sh", "-c", script.as_str()]);
        (caller.ok("kiln", &args), before)
    };
    let (out, before) = run_in(&[]);
    assert_host(
        "kiln from --network host, then kiln run",
        &out,
        &hits,
        before,
    );
    let (out, before) = run_in(&["--network", "private"]);
    assert_private("kiln run --network private", &out, &hits, before);
}

#[test]
fn kiln_run_cannot_reach_host_loopback_rootless() {
    attack(true);
}

#[test]
fn kiln_run_cannot_reach_host_loopback_as_root() {
    attack(false);
}
