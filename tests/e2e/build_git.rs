//! `ADD` of Git repositories from local servers started by the test: a bare repository served
//! over dumb HTTP by a tiny static file server (the `https://host/repo.git#REF:SUBDIR` form,
//! over plain HTTP) and over `git://` by `git daemon`. Checks refs (branch, tag, default
//! branch), subdirectories, `--keep-git-dir`, `--checksum=COMMIT`, modes and owners.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use crate::build::{text, unpack};
use crate::build_instr::{kiln_env, kiln_ok};
use crate::{busybox_store, have};

/// Serves the files under `root` (GET only) on a free port: enough for git's dumb HTTP.
fn serve_dir(root: PathBuf) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut request = String::new();
            let _ = reader.read_line(&mut request);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/");
            let path = path.split('?').next().unwrap_or_default();
            let file = (!path.contains(".."))
                .then(|| root.join(path.trim_start_matches('/')))
                .filter(|p| p.is_file());
            let _ = match file.and_then(|f| std::fs::read(f).ok()) {
                Some(body) => conn
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .and_then(|()| conn.write_all(&body)),
                None => conn.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
        }
    });
    port
}

/// `git daemon` exporting `base`, killed on drop.
struct GitDaemon(Child, u16);

impl GitDaemon {
    fn start(base: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("git")
            .arg("daemon")
            .arg("--reuseaddr")
            .arg("--export-all")
            .arg("--listen=127.0.0.1")
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", base.display()))
            .arg(base)
            // Its own process group (it forks a child per connection), quiet.
            .process_group(0)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Ready once it accepts connections.
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        Self(child, port)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        // The whole group: the daemon and any connection child it forked.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.wait();
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.test")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.test")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

/// A repository with `main` (two commits, the first tagged `v1`, a `docs/` directory and an
/// executable) and a `feature` branch, cloned bare to `<tmp>/srv/repo.git` with the dumb-HTTP
/// index; returns the server directory and the commit of `v1`.
fn make_repo(tmp: &Path) -> (PathBuf, String) {
    use std::os::unix::fs::PermissionsExt;
    let src = tmp.join("src");
    std::fs::create_dir_all(src.join("docs")).unwrap();
    git(&src, &["init", "-q", "-b", "main"]);
    std::fs::write(src.join("README"), "first\n").unwrap();
    std::fs::write(src.join("docs/guide.txt"), "guide\n").unwrap();
    std::fs::write(src.join("run.sh"), "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(src.join("run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    git(&src, &["add", "-A"]);
    git(&src, &["commit", "-q", "-m", "one"]);
    git(&src, &["tag", "v1"]);
    let v1 = git(&src, &["rev-parse", "HEAD"]);
    std::fs::write(src.join("README"), "second\n").unwrap();
    git(&src, &["commit", "-q", "-am", "two"]);
    git(&src, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(src.join("extra.txt"), "feature\n").unwrap();
    git(&src, &["add", "-A"]);
    git(&src, &["commit", "-q", "-m", "three"]);
    git(&src, &["checkout", "-q", "main"]);
    let srv = tmp.join("srv");
    std::fs::create_dir(&srv).unwrap();
    git(
        tmp,
        &[
            "clone",
            "-q",
            "--bare",
            src.to_str().unwrap(),
            "srv/repo.git",
        ],
    );
    git(&srv.join("repo.git"), &["update-server-info"]);
    (srv, v1)
}

#[test]
fn add_fetches_git_repositories_over_http_and_git_daemon() {
    use std::os::unix::fs::MetadataExt;
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") || !have("git") {
        return;
    }
    let (srv, v1) = make_repo(tmp.path());
    let http = format!("http://127.0.0.1:{}/repo.git", serve_dir(srv.clone()));
    let daemon = GitDaemon::start(&srv);
    let gitd = format!("git://127.0.0.1:{}/repo.git", daemon.1);

    let ctx = tmp.path().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    // The context's ignore rules (everything but the Dockerfile) do not reach a checkout.
    std::fs::write(ctx.join(".dockerignore"), "*\n!Dockerfile\n").unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!(
            "FROM busybox\nADD {http} /main/\nADD {http}#v1:docs /v1docs/\n\
             ADD --keep-git-dir=true {gitd}#feature /feature/\n\
             ADD --checksum={v1} {gitd}#v1 /checked/\n"
        ),
    )
    .unwrap();
    kiln_ok(
        &root,
        &["build", "-q", "-t", "g", ctx.to_str().unwrap()],
        &[],
    );
    let rootfs = unpack(&root, "localhost/g:latest", tmp.path());
    let read =
        |p: &str| std::fs::read_to_string(rootfs.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    // The default branch's head, without .git; modes from Git, owned by root.
    assert_eq!(read("main/README"), "second\n");
    assert!(!rootfs.join("main/.git").exists());
    let m = std::fs::metadata(rootfs.join("main/run.sh")).unwrap();
    assert_eq!((m.mode() & 0o7777, m.uid(), m.gid()), (0o755, 0, 0));
    assert!(!rootfs.join("main/extra.txt").exists());
    // A tag and a subdirectory: only its content.
    assert_eq!(read("v1docs/guide.txt"), "guide\n");
    assert!(!rootfs.join("v1docs/README").exists());
    // A branch over git://, keeping .git.
    assert_eq!(read("feature/extra.txt"), "feature\n");
    assert!(rootfs.join("feature/.git").is_dir());
    assert_eq!(read("checked/README"), "first\n");

    // A checksum naming another commit is refused, naming the commit found.
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("FROM busybox\nADD --checksum=0123456789abcdef {http}#v1 /x/\n"),
    )
    .unwrap();
    let out = kiln_env(&root, &["build", "-q", ctx.to_str().unwrap()], &[]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains(&v1), "{}", text(&out.stderr));
    // An unknown ref names itself.
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("FROM busybox\nADD {http}#no-such-branch /x/\n"),
    )
    .unwrap();
    let out = kiln_env(&root, &["build", "-q", ctx.to_str().unwrap()], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no-such-branch"),
        "{}",
        text(&out.stderr)
    );
}

/// Builds `dockerfile` (in a fresh context) and expects a failure whose message holds `needle`.
fn refused(root: &Path, tmp: &Path, dockerfile: &str, flags: &[&str], needle: &str) {
    let ctx = tmp.join("ctx-refused");
    let _ = std::fs::remove_dir_all(&ctx);
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
    let mut args = vec!["build", "-q"];
    args.extend_from_slice(flags);
    args.push(ctx.to_str().unwrap());
    let out = kiln_env(root, &args, &[]);
    assert!(!out.status.success(), "accepted: {dockerfile}");
    let err = text(&out.stderr);
    assert!(err.contains(needle), "{dockerfile}: {err}");
}

/// BuildKit 0.24's query form (`repo.git?tag=…&subdir=…`, docker docs "URL queries"): `tag`,
/// `branch`, `ref`, `subdir`, `checksum`, `keep-git-dir`, `submodules`, beside the fragment
/// form; submodules are checked out by default (without their `.git` files) and skipped with
/// `submodules=false`; a query that contradicts ADD's flags or the fragment is refused as
/// BuildKit refuses it.
#[test]
fn add_git_query_form_follows_buildkit() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") || !have("git") {
        return;
    }
    let (srv, v1) = make_repo(tmp.path());
    let http = format!("http://127.0.0.1:{}/repo.git", serve_dir(srv.clone()));
    let daemon = GitDaemon::start(&srv);
    let gitd = format!("git://127.0.0.1:{}", daemon.1);
    // A repository with a submodule, both served by the daemon.
    let lib = tmp.path().join("lib");
    std::fs::create_dir(&lib).unwrap();
    git(&lib, &["init", "-q", "-b", "main"]);
    std::fs::write(lib.join("lib.txt"), "lib\n").unwrap();
    git(&lib, &["add", "-A"]);
    git(&lib, &["commit", "-q", "-m", "lib"]);
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            "--bare",
            lib.to_str().unwrap(),
            "srv/lib.git",
        ],
    );
    let sup = tmp.path().join("super");
    std::fs::create_dir(&sup).unwrap();
    git(&sup, &["init", "-q", "-b", "main"]);
    std::fs::write(sup.join("top.txt"), "top\n").unwrap();
    git(
        &sup,
        &["submodule", "add", "-q", &format!("{gitd}/lib.git"), "lib"],
    );
    git(&sup, &["add", "-A"]);
    git(&sup, &["commit", "-q", "-m", "super"]);
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            "--bare",
            sup.to_str().unwrap(),
            "srv/super.git",
        ],
    );

    let ctx = tmp.path().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!(
            "FROM busybox\n\
             ADD {http}?tag=v1&subdir=docs /q-tag/\n\
             ADD {gitd}/repo.git?branch=feature /q-branch/\n\
             ADD {gitd}/repo.git?ref=v1&keep-git-dir=true /q-keep/\n\
             ADD {http}?tag=v1&checksum={v1} /q-sum/\n\
             ADD {gitd}/repo.git?ref=main#main:docs /q-both/\n\
             ADD {gitd}/super.git /sub/\n\
             ADD {gitd}/super.git?submodules=false /sub-off/\n"
        ),
    )
    .unwrap();
    kiln_ok(
        &root,
        &["build", "-q", "-t", "gq", ctx.to_str().unwrap()],
        &[],
    );
    let rootfs = unpack(&root, "localhost/gq:latest", tmp.path());
    let read =
        |p: &str| std::fs::read_to_string(rootfs.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    assert_eq!(read("q-tag/guide.txt"), "guide\n");
    assert!(!rootfs.join("q-tag/README").exists());
    assert_eq!(read("q-branch/extra.txt"), "feature\n");
    assert!(!rootfs.join("q-branch/.git").exists());
    assert_eq!(read("q-keep/README"), "first\n");
    assert!(rootfs.join("q-keep/.git").is_dir());
    assert_eq!(read("q-sum/README"), "first\n");
    assert_eq!(read("q-both/guide.txt"), "guide\n");
    assert_eq!(read("sub/top.txt"), "top\n");
    assert_eq!(read("sub/lib/lib.txt"), "lib\n");
    assert!(!rootfs.join("sub/lib/.git").exists() && !rootfs.join("sub/.git").exists());
    assert!(rootfs.join("sub-off/lib").is_dir());
    assert!(!rootfs.join("sub-off/lib/lib.txt").exists());

    let t = tmp.path();
    refused(
        &root,
        t,
        &format!("FROM busybox\nADD --keep-git-dir=false {http}?keep-git-dir=true /x/\n"),
        &[],
        "inconsistent keep-git-dir",
    );
    refused(
        &root,
        t,
        &format!("FROM busybox\nADD --checksum=abcdef0 {http}?checksum={v1} /x/\n"),
        &[],
        "checksum mismatch",
    );
    refused(
        &root,
        t,
        &format!("FROM busybox\nADD {http}?tag=v1&checksum=0123456789abcdef /x/\n"),
        &[],
        &v1,
    );
    refused(
        &root,
        t,
        &format!("FROM busybox\nADD {http}?colour=red /x/\n"),
        &[],
        "unexpected query \"colour\"",
    );
    refused(
        &root,
        t,
        &format!("FROM busybox\nADD {http}?tag=v1&branch=main /x/\n"),
        &[],
        "branch conflicts with tag",
    );
    refused(
        &root,
        t,
        &format!("FROM busybox\nADD {http}?ref=main#v1 /x/\n"),
        &[],
        "ref conflicts",
    );
}

/// Git over ssh, for real: an OpenSSH server on a free loopback port with its own host key
/// and `authorized_keys`, the key held by an agent given with `--ssh default=SOCKET` (what
/// BuildKit's git source uses: the client's `default` ssh socket). Without `--ssh` the build
/// is refused before git runs, naming the flag, for `ssh://` and `git@host:` remotes alike.
#[test]
fn add_git_over_ssh_uses_the_build_agent() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") || !have("git") {
        return;
    }
    let Some(sshd) = wharf_testkit::sshd::Sshd::start() else {
        return;
    };
    let (srv, v1) = make_repo(tmp.path());
    let remote = format!(
        "ssh://{}@127.0.0.1:{}{}/repo.git",
        sshd.user(),
        sshd.port(),
        srv.display()
    );
    let ctx = tmp.path().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!(
            "FROM busybox\nADD {remote} /main/\nADD {remote}?tag=v1&checksum={v1} /v1/\n\
             ADD {remote}#feature /feature/\n"
        ),
    )
    .unwrap();
    let agent = format!("default={}", sshd.agent_socket().display());
    let out = kiln_env(
        &root,
        &[
            "build",
            "-q",
            "-t",
            "gs",
            "--ssh",
            &agent,
            ctx.to_str().unwrap(),
        ],
        &[],
    );
    assert!(
        out.status.success(),
        "{}\nsshd: {}",
        text(&out.stderr),
        sshd.log()
    );
    let rootfs = unpack(&root, "localhost/gs:latest", tmp.path());
    let read =
        |p: &str| std::fs::read_to_string(rootfs.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    assert_eq!(read("main/README"), "second\n");
    assert_eq!(read("v1/README"), "first\n");
    assert_eq!(read("feature/extra.txt"), "feature\n");

    let t = tmp.path();
    let scp = format!("{}@127.0.0.1:{}/repo.git", sshd.user(), srv.display());
    for src in [remote.as_str(), scp.as_str()] {
        refused(
            &root,
            t,
            &format!("FROM busybox\nADD {src} /x/\n"),
            &["--no-cache"],
            "--ssh default",
        );
    }
}
