//! A real unprivileged user with `/etc/subuid` and `/etc/subgid` ranges, for tests that claim
//! rootless behaviour.
//!
//! CI runs as root: [`test_user`] creates the user `wharf-test` (once, idempotently) and tests run
//! their rootless part as that user, usually by re-running their own test binary with
//! [`TestUser::run_self`]. Run as a non-root developer, the current user is used as it is.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

/// The name of the unprivileged user the harness creates.
pub const TEST_USER: &str = "wharf-test";
/// Environment variable set in the re-run test process so that it does the inner work.
pub const INNER_ENV: &str = "WHARF_TEST_INNER";

/// An unprivileged user that tests can run commands as.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
    /// Whether commands must be switched to this user (true when the tests run as root).
    switch: bool,
}

fn id_of(flag: &str, name: &str) -> Option<u32> {
    let out = Command::new("id").arg(flag).arg(name).output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn has_range(file: &str, name: &str) -> bool {
    std::fs::read_to_string(file)
        .is_ok_and(|s| s.lines().any(|l| l.split(':').next() == Some(name)))
}

/// Returns the unprivileged test user, creating it with subordinate ID ranges when running as
/// root. Returns `None` (after a `SKIP:` line) when no such user can be had.
pub fn test_user() -> Option<TestUser> {
    let euid = rustix_euid();
    if euid != 0 {
        let name = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        return Some(TestUser {
            uid: euid,
            gid: id_of("-g", &name).unwrap_or(euid),
            home: std::env::var("HOME").unwrap_or_else(|_| "/tmp".into()),
            name,
            switch: false,
        });
    }
    if id_of("-u", TEST_USER).is_none() {
        // Several test processes may race here; useradd's own lock makes one win, and the others
        // see the user afterwards.
        let _ = Command::new("useradd")
            .args(["--create-home", "--shell", "/bin/sh", TEST_USER])
            .output();
    }
    let Some(uid) = id_of("-u", TEST_USER) else {
        eprintln!("SKIP: cannot create the unprivileged user {TEST_USER} (is useradd installed?)");
        return None;
    };
    let gid = id_of("-g", TEST_USER).unwrap_or(uid);
    for file in ["/etc/subuid", "/etc/subgid"] {
        if !has_range(file, TEST_USER) {
            // Same range useradd would pick on a fresh machine; usermod appends atomically.
            let flag = if file.ends_with("subuid") {
                "--add-subuids"
            } else {
                "--add-subgids"
            };
            let _ = Command::new("usermod")
                .args([flag, "231072-296607", TEST_USER])
                .output();
        }
    }
    let home = format!("/home/{TEST_USER}");
    let runtime = format!("/run/user/{uid}");
    if std::fs::create_dir_all(&runtime).is_ok() {
        let _ = Command::new("chown")
            .arg(format!("{uid}:{gid}"))
            .arg(&runtime)
            .output();
        let _ = Command::new("chmod").arg("0700").arg(&runtime).output();
    }
    Some(TestUser {
        name: TEST_USER.into(),
        uid,
        gid,
        home,
        switch: true,
    })
}

fn rustix_euid() -> u32 {
    // `id -u` keeps this crate free of unsafe code and of a libc call for one number.
    Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(u32::MAX)
}

impl TestUser {
    /// The user's `XDG_RUNTIME_DIR`.
    pub fn runtime_dir(&self) -> String {
        format!("/run/user/{}", self.uid)
    }

    /// A command that runs `program` as this user with a clean login-like environment
    /// (`HOME`, `USER`, `XDG_RUNTIME_DIR`, `PATH`); other variables are passed with `.env()`.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = if self.switch {
            let mut c = Command::new("setpriv");
            c.arg(format!("--reuid={}", self.uid))
                .arg(format!("--regid={}", self.gid))
                .arg("--init-groups")
                .arg("--")
                .arg(program);
            c.env_clear();
            c
        } else {
            Command::new(program)
        };
        cmd.env("HOME", &self.home)
            .env("USER", &self.name)
            .env("LOGNAME", &self.name)
            .env("XDG_RUNTIME_DIR", self.runtime_dir())
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            );
        if let Ok(v) = std::env::var("RUST_BACKTRACE") {
            cmd.env("RUST_BACKTRACE", v);
        }
        cmd
    }

    /// Gives `path` (recursively) to this user, so that a test's temporary directory can be
    /// written by the unprivileged part of the test.
    pub fn chown(&self, path: &Path) {
        if self.switch {
            let _ = Command::new("chown")
                .arg("-R")
                .arg(format!("{}:{}", self.uid, self.gid))
                .arg(path)
                .output();
        }
    }

    /// Re-runs the current test binary as this user, running only `test_name` (exact match,
    /// ignored tests included) with `WHARF_TEST_INNER=1` and `envs` set. The inner test checks
    /// [`is_inner`] to know it is the unprivileged half.
    pub fn run_self(&self, test_name: &str, envs: &[(&str, &str)]) -> Output {
        let exe = std::env::current_exe().expect("current test executable");
        let mut cmd = self.command(exe);
        cmd.args([
            test_name,
            "--exact",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(INNER_ENV, "1");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.output()
            .expect("spawn test binary as the unprivileged user")
    }
}

/// The second unprivileged user of the security tests: another local user, the attacker of a
/// victim's store. It has no subordinate IDs (it runs nothing in containers).
pub const PEER_USER: &str = "wharf-peer";

/// Returns [`PEER_USER`], creating it (idempotently, so a fresh CI machine gets it) when
/// running as root. Panics when it cannot be had: attack tests need a real second user and
/// must not pass by skipping (run the tests as root, as CI does).
pub fn peer_user() -> TestUser {
    assert_eq!(
        rustix_euid(),
        0,
        "tests with a second local user must run as root (they create {PEER_USER}), as CI does"
    );
    if id_of("-u", PEER_USER).is_none() {
        // Test processes may race here; useradd's lock makes one win.
        let _ = Command::new("useradd")
            .args(["--create-home", "--shell", "/bin/sh", PEER_USER])
            .output();
    }
    let uid = id_of("-u", PEER_USER)
        .unwrap_or_else(|| panic!("cannot create the user {PEER_USER} (is useradd installed?)"));
    TestUser {
        name: PEER_USER.into(),
        uid,
        gid: id_of("-g", PEER_USER).unwrap_or(uid),
        home: format!("/home/{PEER_USER}"),
        switch: true,
    }
}

/// Whether this process is the unprivileged half started by [`TestUser::run_self`].
pub fn is_inner() -> bool {
    std::env::var_os(INNER_ENV).is_some()
}

/// Panics with the inner process's output when it failed, so the failure shows in the report.
pub fn assert_inner_ok(out: &Output) {
    assert!(
        out.status.success(),
        "unprivileged part failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
