//! Finding 1 of issue 11 (CVE-2019-5736 class): a process inside the container races for the
//! PID of the helper that `berth exec` forks into the container's PID namespace. That helper
//! is a copy of the host `berth` binary until it executes the command; if the racer can
//! `PTRACE_SEIZE` it or open `/proc/PID/exe`, it holds the host binary (and could overwrite it
//! once an upgrade replaced it, or skip the helper's seccomp set-up). The racer is a small
//! static C program compiled at test time and bind-mounted into a busybox container.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use wharf_testkit::user::{TestUser, test_user};

use crate::bin;
pub(crate) use crate::text;

/// A store with `localhost/box:latest` (busybox, `CMD sh`), driven as root or as the
/// unprivileged test user. A missing prerequisite fails the test: CI has them all.
pub(crate) struct Store {
    pub(crate) tmp: tempfile::TempDir,
    pub(crate) root: PathBuf,
    /// `None`: as root.
    pub(crate) user: Option<TestUser>,
    /// Where `berth` and `berth-monitor` are run from: the build's, or a copy owned by the
    /// store's user ([`Store::own_binaries`]).
    bin_dir: Option<PathBuf>,
}

impl Store {
    pub(crate) fn new(rootless: bool) -> Store {
        assert!(
            nix::unistd::geteuid().is_root() || rootless,
            "the as-root half of this test must run as root (CI does)"
        );
        assert!(
            wharf_testkit::busybox::available(),
            "busybox-static must be installed"
        );
        let user = if rootless {
            Some(test_user().expect("an unprivileged test user (wharf-test)"))
        } else {
            None
        };
        let tmp = tempfile::Builder::new()
            .prefix("wharf-sec")
            .tempdir_in("/tmp")
            .unwrap();
        let tar = wharf_testkit::busybox::rootfs_tar(tmp.path()).unwrap();
        let root = tmp.path().join("store");
        let store = Store {
            tmp,
            root,
            user,
            bin_dir: None,
        };
        if let Some(u) = &store.user {
            u.chown(store.tmp.path());
        }
        store.ok(
            "berth",
            &[
                "import",
                "--change",
                "CMD [\"sh\"]",
                tar.to_str().unwrap(),
                "box",
            ],
        );
        store
    }

    /// `program` as this store's user (root or the test user).
    pub(crate) fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = match &self.user {
            Some(u) => u.command(program),
            None => Command::new(program),
        };
        c.current_dir("/tmp").env_remove("WHARF_ROOT");
        c
    }

    /// From now on, runs a copy of `berth` (and `berth-monitor`) that the store's user owns,
    /// as a user who installed it in `~/.cargo/bin` would: a file the container's processes
    /// could write if they ever reached it.
    pub(crate) fn own_binaries(&mut self) {
        let dir = self.tmp.path().join("bin");
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["berth", "berth-monitor"] {
            std::fs::copy(bin(name), dir.join(name)).unwrap();
        }
        self.own(&dir);
        for name in ["berth", "berth-monitor"] {
            self.own(&dir.join(name));
        }
        self.bin_dir = Some(dir);
    }

    fn binary(&self, name: &str) -> PathBuf {
        match &self.bin_dir {
            Some(d) if name.starts_with("berth") => d.join(name),
            _ => bin(name),
        }
    }

    /// The arguments that run the wharf binary `name` against this store.
    pub(crate) fn argv(&self, name: &str, args: &[&str]) -> Vec<String> {
        let mut v = vec![
            self.binary(name).to_str().unwrap().to_owned(),
            "--root".into(),
            self.root.to_str().unwrap().to_owned(),
        ];
        v.extend(args.iter().map(|a| (*a).to_owned()));
        v
    }

    pub(crate) fn run(&self, name: &str, args: &[&str]) -> Output {
        let argv = self.argv(name, args);
        self.command(&argv[0]).args(&argv[1..]).output().unwrap()
    }

    pub(crate) fn ok(&self, name: &str, args: &[&str]) -> String {
        let out = self.run(name, args);
        assert!(
            out.status.success(),
            "{name} {args:?} failed with {}:\n{}{}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// Gives `path` to the test user (rootless), so that it can be bind-mounted and read.
    pub(crate) fn own(&self, path: &Path) {
        if let Some(u) = &self.user {
            u.chown(path);
        }
    }
}

impl Drop for Store {
    /// A failed test must not leave containers running.
    fn drop(&mut self) {
        let ids = self.run("berth", &["ps", "-a", "-q", "--no-trunc"]);
        for id in text(&ids.stdout).lines() {
            let _ = self.run("berth", &["rm", "-f", id]);
        }
    }
}

/// The racer: watches the next PIDs of its namespace; for each new process it tries
/// `PTRACE_SEIZE` (then stops it and looks at its executable) and `open("/proc/PID/exe",
/// O_PATH)`, and prints the device and inode of every executable it reached.
const RACER: &str = r#"
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void say(const char *fmt, ...) {
    char b[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    if (n > 0) write(1, b, (size_t)n);
}

/* Once `pid` is gone (a running program cannot be opened for writing: ETXTBSY), tries to
   open what `fd` reached for writing, as CVE-2019-5736 does; reports WRITABLE or READONLY.
   Nothing is written. */
static void try_write(int fd, int pid, struct stat *st) {
    char p[64], q[64];
    snprintf(p, sizeof p, "/proc/%d", pid);
    for (int i = 0; i < 300 && access(p, F_OK) == 0; i++) usleep(1000);
    snprintf(q, sizeof q, "/proc/self/fd/%d", fd);
    int w = open(q, O_WRONLY | O_CLOEXEC);
    if (w >= 0) {
        say("WRITABLE %d %llu %llu\n", pid, (unsigned long long)st->st_dev,
            (unsigned long long)st->st_ino);
        close(w);
    } else {
        say("READONLY %d %d %llu %llu\n", pid, errno, (unsigned long long)st->st_dev,
            (unsigned long long)st->st_ino);
    }
}

/* 1: the exe was reached (reported), 0: not reachable now, -1: no such process. */
static int exe(const char *what, int pid) {
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/exe", pid);
    int fd = open(p, O_PATH | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT || errno == ESRCH ? -1 : 0;
    struct stat st;
    if (fstat(fd, &st) == 0) {
        say("%s %d %llu %llu\n", what, pid, (unsigned long long)st.st_dev,
            (unsigned long long)st.st_ino);
        try_write(fd, pid, &st);
    }
    close(fd);
    return 1;
}

/* Races one new process until it is gone or its executable has been reached. */
static void hammer(int pid) {
    int seized = 0;
    for (long i = 0; i < 20000000L; i++) {
        if (!seized && ptrace(PTRACE_SEIZE, pid, 0, 0) == 0) {
            seized = 1;
            int st;
            ptrace(PTRACE_INTERRUPT, pid, 0, 0);
            waitpid(pid, &st, __WALL);
            exe("SEIZED", pid);
            ptrace(PTRACE_DETACH, pid, 0, 0);
        }
        if (exe("EXE", pid) != 0) return;
    }
}

int main(int argc, char **argv) {
    int secs = argc > 1 ? atoi(argv[1]) : 120;
    time_t end = time(NULL) + secs;
    int me = getpid();
    int next = me + 1;
    struct stat t;
    if (stat("/bin/true", &t) == 0)
        say("TRUE %llu %llu\n", (unsigned long long)t.st_dev, (unsigned long long)t.st_ino);
    say("READY %d\n", me);
    while (time(NULL) < end) {
        /* A wide window: a process missed (gone before the scan) must not leave the racer
           looking below every later one. */
        for (int pid = next; pid < next + 64; pid++) {
            char p[64];
            snprintf(p, sizeof p, "/proc/%d", pid);
            if (access(p, F_OK) != 0) continue;
            say("SAW %d\n", pid);
            hammer(pid);
            next = pid + 1;
            break;
        }
    }
    say("END\n");
    return 0;
}
"#;

/// Compiles the racer statically into `dir/racer`.
fn compile_racer(dir: &Path) -> PathBuf {
    crate::compile_static(dir, "racer", RACER)
}

const EXECS: usize = 20;

/// Starts the racer in a container of its own, runs `berth exec ID COMMAND` [`EXECS`] times,
/// and returns the racer's log.
fn race(store: &Store, dir: &Path, command: &str) -> String {
    let volume = format!("{}:/racer:ro", dir.display());
    let id = store
        .ok(
            "berth",
            &["run", "-d", "-v", &volume, "box", "/racer/racer", "300"],
        )
        .trim()
        .to_owned();
    let logs = || text(&store.run("berth", &["logs", &id]).stdout);
    let t0 = std::time::Instant::now();
    while !logs().contains("READY") {
        assert!(
            t0.elapsed().as_secs() < 60,
            "the racer did not start: {}",
            logs()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    for _ in 0..EXECS {
        // `/racer/evil` fails (berth's usage error): only what the racer reached matters.
        let out = store.run("berth", &["exec", &id, command]);
        assert!(
            out.status.success() || command != "true",
            "berth exec failed: {}",
            text(&out.stderr)
        );
    }
    // The racer's lines reach the log through its monitor after the last exec has returned:
    // wait for them (up to 30 s) before judging what it saw.
    let seen = |log: &str| log.lines().filter(|l| l.starts_with("SAW ")).count();
    let mut log = logs();
    let t0 = std::time::Instant::now();
    while seen(&log) < EXECS / 2 && t0.elapsed().as_secs() < 30 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        log = logs();
    }
    let _ = store.run("berth", &["rm", "-f", &id]);
    // The racer must have raced: it saw the exec'd processes appear.
    let saw = seen(&log);
    assert!(
        saw >= EXECS / 2,
        "the racer saw only {saw} of {EXECS} exec'd processes:\n{log}"
    );
    log
}

/// The executables the racer reached: "PID DEV INO" after `EXE`/`SEIZED`.
fn reached(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.starts_with("EXE ") || l.starts_with("SEIZED "))
        .collect()
}

fn exec_race(rootless: bool) {
    let mut store = Store::new(rootless);
    store.own_binaries();
    let dir = store.tmp.path().join("racer");
    compile_racer(&dir);
    // CVE-2019-5736 itself: the command `berth exec` runs has been replaced by a script whose
    // interpreter is `/proc/self/exe`, which the kernel resolves while the helper still runs
    // the host binary: the container then runs that binary, dumpable, for the racer to open.
    let evil = dir.join("evil");
    std::fs::write(&evil, "#!/proc/self/exe\n").unwrap();
    std::fs::set_permissions(&evil, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    store.own(&dir);

    // The helper itself: until it has executed `true`, nothing of it may be reached.
    let log = race(&store, &dir, "true");
    let ours = log
        .lines()
        .find_map(|l| l.strip_prefix("TRUE "))
        .expect("the racer's /bin/true")
        .to_owned();
    let other: Vec<&str> = reached(&log)
        .into_iter()
        .filter(|l| !l.ends_with(&ours))
        .collect();
    assert!(
        other.is_empty(),
        "a process in the container reached the `berth exec` helper before it executed the \
         command (only /bin/true, {ours}, may be reached):\n{}\n--- racer log\n{log}",
        other.join("\n")
    );

    // Should the container then run berth's binary itself (the kernel refuses to now, but the
    // defence must not depend on that), it must not be able to write it: the commands that
    // enter containers run from a read-only clone (or a sealed copy) of it. The binary is one
    // the container could write without that: root's, or, rootless, a copy the user owns, as
    // with `cargo install`. (On the code before the fix the racer reached it: WRITABLE.)
    let log = race(&store, &dir, "/racer/evil");
    let writable: Vec<&str> = log.lines().filter(|l| l.starts_with("WRITABLE ")).collect();
    assert!(
        writable.is_empty(),
        "a process in the container could open berth's binary for writing through a \
         `#!/proc/self/exe` command of `berth exec`:\n{}\n--- racer log\n{log}",
        writable.join("\n")
    );
}

#[test]
fn exec_helper_is_out_of_reach_rootless() {
    exec_race(true);
}

#[test]
fn exec_helper_is_out_of_reach_as_root() {
    exec_race(false);
}

/// The run path's own host process in the container: with `--init`, PID 1 stays a fork of
/// berth for the container's lifetime. The container's processes must not reach its
/// executable, memory or descriptors, nor attach to it.
fn init_race(rootless: bool) {
    let store = Store::new(rootless);
    // Only opens and link reads (a descriptor may be a pipe: reading it would block);
    // `/proc/1/mem` needs what PTRACE_ATTACH needs.
    let probe = "readlink /proc/1/exe && echo REACHED exe; \
                 (exec 3</proc/1/mem) 2>/dev/null && echo REACHED mem; \
                 (exec 3</proc/1/environ) 2>/dev/null && echo REACHED environ; \
                 for f in /proc/1/fd/*; do readlink $f && echo REACHED $f; done; \
                 echo DONE";
    let out = store.ok(
        "berth",
        &["run", "--rm", "--init", "box", "sh", "-c", probe],
    );
    assert!(out.contains("DONE"), "the probe did not run: {out}");
    assert!(
        !out.contains("REACHED"),
        "a process in the container reached berth's init (PID 1):\n{out}"
    );
}

#[test]
fn init_is_out_of_reach_rootless() {
    init_race(true);
}

#[test]
fn init_is_out_of_reach_as_root() {
    init_race(false);
}
