//! Finding 2 of issue 11: descriptors the caller has open must not cross into a container.
//! Each binary is started by a shell that first opens descriptor 7 on a host directory (on
//! `/` as root: the way the audit read `/etc/shadow`), as `exec 7</home/user` would; the
//! container then tries to list, read and write through `/proc/self/fd/7`. Covered: `berth
//! run` (embedded runtime and runc), `berth run -d`, `berth exec`, `kiln run` on a working
//! container and a `kiln build` RUN step, rootless and as root.

use std::path::{Path, PathBuf};
use std::process::Output;

use super::exec_race::{Store, text};

/// What the container runs: reports every way it reached descriptor 7, then `DONE`.
const PROBE: &str = "\
[ -e /proc/self/fd/7 ] && echo \"LEAK fd 7 -> $(readlink /proc/self/fd/7)\"; \
ls /proc/self/fd/7/ >/dev/null 2>&1 && echo 'LEAK listed the directory'; \
s=$(cat /proc/self/fd/7/$SECRET 2>/dev/null) && echo \"LEAK read $s\"; \
echo pwned 2>/dev/null >/proc/self/fd/7/$PWNED && echo 'LEAK wrote a file'; \
head -n1 /proc/self/fd/7/etc/shadow 2>/dev/null | sed 's/^/LEAK shadow /'; \
echo \"FDS $(ls /proc/self/fd | tr '\\n' ' ')\"; \
echo DONE";

/// The host side: a directory the caller holds open as descriptor 7, a secret in it that the
/// container must not read, and the name of the file it must not create.
struct Bait {
    /// What descriptor 7 is opened on: the directory (rootless) or `/` (as root).
    fd7: PathBuf,
    dir: PathBuf,
    secret: String,
    /// `SECRET` and `PWNED` for the probe: paths relative to `fd7`.
    env: Vec<String>,
}

impl Bait {
    fn new(store: &Store) -> Bait {
        let dir = store.tmp.path().join("home");
        std::fs::create_dir_all(&dir).unwrap();
        let secret = format!("secret-{}", std::process::id());
        std::fs::write(dir.join("secret"), &secret).unwrap();
        store.own(&dir);
        let fd7 = if store.user.is_some() {
            dir.clone()
        } else {
            PathBuf::from("/")
        };
        let rel = |name: &str| {
            dir.join(name)
                .strip_prefix(&fd7)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        };
        let env = vec![
            format!("SECRET={}", rel("secret")),
            format!("PWNED={}", rel("pwned")),
        ];
        Bait {
            fd7,
            dir,
            secret,
            env,
        }
    }

    /// Runs the wharf binary `name` with descriptor 7 open on [`Bait::fd7`].
    fn spawn(&self, store: &Store, name: &str, args: &[&str]) -> Output {
        let argv = store.argv(name, args);
        store
            .command("sh")
            .arg("-c")
            .arg("exec 7<\"$0\" && exec \"$@\"")
            .arg(&self.fd7)
            .args(&argv)
            .output()
            .unwrap()
    }

    /// Asserts the probe ran to its end and reached nothing.
    fn check(&self, what: &str, output: &str) {
        assert!(
            output.contains("DONE"),
            "{what}: the probe did not run:\n{output}"
        );
        assert!(
            !output.lines().any(|l| l.starts_with("LEAK")) && !output.contains(&self.secret),
            "{what}: the caller's descriptor 7 ({}) crossed into the container:\n{output}",
            self.fd7.display()
        );
        assert!(
            !self.dir.join("pwned").exists(),
            "{what}: the container wrote into {} through descriptor 7",
            self.dir.display()
        );
        let fds = output
            .lines()
            .find_map(|l| l.strip_prefix("FDS "))
            .unwrap_or_default();
        // `ls` lists its own descriptors: the standard streams and the directory it reads.
        assert_eq!(
            fds.split_whitespace().collect::<Vec<_>>(),
            ["0", "1", "2", "3"],
            "{what}: a process in the container started with more than the standard streams:\n\
             {output}"
        );
    }
}

fn probe_args(bait: &Bait) -> Vec<String> {
    let mut v = Vec::new();
    for e in &bait.env {
        v.push("-e".to_owned());
        v.push(e.clone());
    }
    v
}

fn all(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// `berth run`, with the embedded runtime or `--runtime runc` (which must not pass them on
/// either: berth gives it no `--preserve-fds`).
fn berth_run(store: &Store, bait: &Bait, runtime: &str) {
    let mut args = vec!["run".to_owned(), "--rm".to_owned()];
    if runtime != "embedded" {
        args.extend(["--runtime".to_owned(), runtime.to_owned()]);
    }
    args.extend(probe_args(bait));
    args.extend(["box", "sh", "-c", PROBE].map(str::to_owned));
    let out = bait.spawn(store, "berth", &strs(&args));
    let what = format!("berth run ({runtime})");
    assert!(out.status.success(), "{what}: {}", all(&out));
    bait.check(&what, &text(&out.stdout));
}

fn berth_run_detached(store: &Store, bait: &Bait) {
    let mut args = vec!["run".to_owned(), "-d".to_owned()];
    args.extend(probe_args(bait));
    args.extend(["box", "sh", "-c", PROBE].map(str::to_owned));
    let out = bait.spawn(store, "berth", &strs(&args));
    assert!(out.status.success(), "berth run -d: {}", all(&out));
    let id = text(&out.stdout).trim().to_owned();
    store.ok("berth", &["wait", &id]);
    let logs = store.ok("berth", &["logs", &id]);
    store.ok("berth", &["rm", &id]);
    bait.check("berth run -d", &logs);
}

fn berth_exec(store: &Store, bait: &Bait) {
    let id = store
        .ok("berth", &["run", "-d", "box", "sleep", "600"])
        .trim()
        .to_owned();
    let mut args = vec!["exec".to_owned()];
    args.extend(probe_args(bait));
    args.extend([id.as_str(), "sh", "-c", PROBE].map(str::to_owned));
    let out = bait.spawn(store, "berth", &strs(&args));
    let _ = store.run("berth", &["rm", "-f", &id]);
    assert!(out.status.success(), "berth exec: {}", all(&out));
    bait.check("berth exec", &text(&out.stdout));
}

fn kiln_run(store: &Store, bait: &Bait) {
    let ctr = store
        .ok("kiln", &["from", "--pull=never", "box"])
        .trim()
        .to_owned();
    let mut args = vec!["run".to_owned()];
    for e in &bait.env {
        args.push("--env".to_owned());
        args.push(e.clone());
    }
    args.extend([ctr.as_str(), "--", "sh", "-c", PROBE].map(str::to_owned));
    let out = bait.spawn(store, "kiln", &strs(&args));
    let _ = store.run("kiln", &["rm", &ctr]);
    assert!(out.status.success(), "kiln run: {}", all(&out));
    bait.check("kiln run", &all(&out));
}

fn kiln_build_run(store: &Store, bait: &Bait) {
    let ctx = store.tmp.path().join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    let env: String = bait
        .env
        .iter()
        .map(|e| ["ENV ", e, "\n"].concat())
        .collect();
    // JSON form: the probe's quotes stay as they are.
    let probe = serde_json::to_string(PROBE).unwrap();
    let dockerfile = format!("FROM box\n{env}RUN [\"sh\", \"-c\", {probe}]\n");
    std::fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
    store.own(&ctx);
    let out = bait.spawn(
        store,
        "kiln",
        &[
            "build",
            "--pull=never",
            "-t",
            "probe",
            ctx.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "kiln build: {}", all(&out));
    bait.check("kiln build RUN", &all(&out));
}

fn no_fd_crosses(rootless: bool) {
    let store = Store::new(rootless);
    let bait = Bait::new(&store);
    berth_run(&store, &bait, "embedded");
    berth_run(&store, &bait, "runc");
    berth_run_detached(&store, &bait);
    berth_exec(&store, &bait);
    kiln_run(&store, &bait);
    kiln_build_run(&store, &bait);
    assert!(Path::new(&bait.dir).join("secret").exists());
}

#[test]
fn caller_fds_do_not_cross_rootless() {
    no_fd_crosses(true);
}

#[test]
fn caller_fds_do_not_cross_as_root() {
    no_fd_crosses(false);
}
