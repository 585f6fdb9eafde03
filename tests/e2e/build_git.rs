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

#[test]
fn add_fetches_git_repositories_over_http_and_git_daemon() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") || !have("git") {
        return;
    }
    let src = tmp.path().join("src");
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
    let srv = tmp.path().join("srv");
    std::fs::create_dir(&srv).unwrap();
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            "--bare",
            src.to_str().unwrap(),
            "srv/repo.git",
        ],
    );
    git(&srv.join("repo.git"), &["update-server-info"]);
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
