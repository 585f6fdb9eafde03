//! `kiln build` RUN --mount (bind, cache, tmpfs, secret, ssh) and RUN --network, as root and
//! rootless: each test reads the resulting image, its layers and the store.

use std::path::Path;
use std::process::Command;

use crate::build::{inspect, text, unpack};
use crate::build_instr::{context, kiln_env, kiln_ok};
use crate::{bin, busybox_store, have};

/// Every layer blob of the store, decompressed, as one tar listing and one byte stream.
fn layer_listing_and_bytes(root: &Path) -> (String, Vec<u8>) {
    let blobs = root.join("oci/blobs/sha256");
    let script = "for f in \"$1\"/*; do zcat -f \"$f\" | tar -t 2>/dev/null; done";
    let list = Command::new("sh")
        .args(["-c", script, "sh", blobs.to_str().unwrap()])
        .output()
        .unwrap();
    let bytes = Command::new("sh")
        .args([
            "-c",
            "for f in \"$1\"/*; do zcat -f \"$f\"; done",
            "sh",
            blobs.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    (text(&list.stdout), bytes.stdout)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn run_mounts_cache_tmpfs_secret_bind_ssh_and_network() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    let ctx = crate::build::copy_context("mounts/ctx", tmp.path());
    let ctx_s = ctx.to_str().unwrap();
    let value: &str = "s3cr3t-VALUE-4f9a";
    let secret = tmp.path().join("tok.txt");
    std::fs::write(&secret, value).unwrap();
    let sock = tmp.path().join("agent.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let secret_arg = format!("id=tok,src={}", secret.display());
    let ssh_arg = format!("default={}", sock.display());
    let build = |extra: &[&str]| {
        let mut args = vec![
            "build",
            "-t",
            "m",
            "--secret",
            &secret_arg,
            "--ssh",
            &ssh_arg,
        ];
        args.extend_from_slice(extra);
        args.push(ctx_s);
        kiln_ok(&root, &args, &[])
    };
    build(&[]);
    let rootfs = unpack(&root, "localhost/m:latest", tmp.path());
    let read =
        |p: &str| std::fs::read_to_string(rootfs.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    // cache: owner and mode from the mount options; nothing of it in the image.
    assert_eq!(read("runs.txt").trim(), "1");
    assert_eq!(read("cache-owner.txt").trim(), "65534:65534:750");
    assert!(!rootfs.join("var/cache/app").exists());
    // tmpfs: a tmpfs, gone afterwards.
    assert_eq!(read("tmpfs.txt"), "tmpfs\ntemp\n");
    assert!(!rootfs.join("scratch").exists());
    // secret: readable as a file (0400 by default, mode= honoured) and as env=.
    assert_eq!(read("secret-len.txt").trim(), value.len().to_string());
    assert_eq!(read("secret-env.txt"), "env-ok\n");
    assert_eq!(read("secret-modes.txt"), "400\n444\n");
    assert!(!rootfs.join("run/secrets").exists());
    assert!(!rootfs.join("etc/tok2").exists());
    // bind from the context: read-only, ignore rules applied; rw writes are discarded.
    assert_eq!(read("bound.txt"), "bound content\n");
    assert_eq!(read("bound-ls.txt"), "a.txt\n");
    assert_eq!(read("bind-rw.txt"), "readonly\n");
    assert_eq!(read("rw-saw.txt"), "scribble\n");
    assert_eq!(
        std::fs::read_to_string(ctx.join("data/a.txt")).unwrap(),
        "bound content\n"
    );
    assert!(!rootfs.join("mnt/data").exists() && !rootfs.join("rw").exists());
    // bind from a stage.
    assert_eq!(read("from-stage.txt"), "made\n");
    assert!(!rootfs.join("b").exists());
    // ssh: the agent socket, named by SSH_AUTH_SOCK.
    assert_eq!(read("ssh.txt"), "/run/buildkit/ssh_agent.0\n");
    assert!(!rootfs.join("run/buildkit").exists());
    // network: none has loopback only; the default is a private network: loopback and the
    // helper's interface (issue 11: never the host's network unless asked).
    assert_eq!(read("net-none.txt").trim(), "3");
    assert_eq!(read("net-default.txt").trim(), "4");

    // No layer holds the cache, tmpfs, secret or mount points; no blob and no file of the
    // store holds the secret's value.
    let (listing, bytes) = layer_listing_and_bytes(&root);
    for p in [
        "var/cache/app",
        "scratch/",
        "run/secrets",
        "etc/tok2",
        "mnt/data",
        "rw/",
    ] {
        assert!(!listing.contains(p), "{p} in a layer:\n{listing}");
    }
    assert!(listing.contains("runs.txt"));
    assert!(
        !contains(&bytes, value.as_bytes()),
        "secret value in a blob"
    );
    let grep = Command::new("grep")
        .args(["-r", "-l", value])
        .arg(&root)
        .output()
        .unwrap();
    assert!(grep.stdout.is_empty(), "secret in {}", text(&grep.stdout));
    let history = inspect(&root, "m")["Config"]["history"].to_string();
    assert!(!history.contains(value));

    // The cache directory survives between builds (--no-cache reruns every step).
    build(&["--no-cache"]);
    let rootfs = unpack(&root, "localhost/m:latest", &tmp.path().join("second"));
    assert_eq!(
        std::fs::read_to_string(rootfs.join("runs.txt"))
            .unwrap()
            .trim(),
        "2"
    );

    // Keys: a secret's value is not in the key (a new value hits the cache), its presence
    // is; a bind source's content is.
    std::fs::write(&secret, "another value").unwrap();
    let out = build(&[]);
    assert_eq!(text(&out.stderr).matches("--> Using cache").count(), 10);
    let out = kiln_ok(&root, &["build", "-t", "m", "--ssh", &ssh_arg, ctx_s], &[]);
    let err = text(&out.stderr);
    // FROM builder's RUN, cache RUN, tmpfs RUN hit; the secret RUN and all after it miss.
    assert_eq!(err.matches("--> Using cache").count(), 3, "{err}");
    std::fs::write(ctx.join("data/a.txt"), "changed\n").unwrap();
    let out = build(&[]);
    let err = text(&out.stderr);
    // FROM builder's RUN and three RUNs before the bind hit.
    assert_eq!(err.matches("--> Using cache").count(), 4, "{err}");
    // An ignored file changing changes nothing.
    std::fs::write(ctx.join("data/ignored.txt"), "still unseen\n").unwrap();
    let out = build(&[]);
    assert_eq!(text(&out.stderr).matches("--> Using cache").count(), 10);

    // A required secret that is missing fails, naming the line.
    let req = context(
        tmp.path(),
        "required",
        "FROM busybox\nRUN --mount=type=secret,id=nope,required=true true\n",
    );
    let out = kiln_env(&root, &["build", req.to_str().unwrap()], &[]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("Dockerfile:2: RUN --mount"), "{err}");
    assert!(err.contains("secret \"nope\" is required"), "{err}");
}

#[test]
fn rootless_run_mounts_as_unprivileged_user() {
    let Some(user) = wharf_testkit::user::test_user() else {
        eprintln!("SKIP: no unprivileged test user (needs root to create it)");
        return;
    };
    if !wharf_testkit::busybox::available() || !have("umoci") {
        return;
    }
    let tmp = tempfile::Builder::new()
        .prefix("kiln-mounts")
        .tempdir_in("/tmp")
        .unwrap();
    let tar = wharf_testkit::busybox::rootfs_tar(tmp.path()).unwrap();
    let ctx = crate::build::copy_context("mounts/ctx", tmp.path());
    let root = tmp.path().join("store");
    let value: &str = "rootless-s3cr3t-77";
    let secret = tmp.path().join("tok.txt");
    std::fs::write(&secret, value).unwrap();
    let sock = tmp.path().join("agent.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    user.chown(tmp.path());
    let as_user = |prog: &str, args: &[&str]| {
        let out = user
            .command(bin(prog))
            .arg("--root")
            .arg(&root)
            .args(args)
            .env("CONTAINERS_REGISTRIES_CONF", "/nonexistent/registries.conf")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{prog} {args:?} as {}: {}",
            user.name,
            text(&out.stderr)
        );
        out
    };
    as_user(
        "berth",
        &[
            "import",
            "--change",
            "CMD [\"sh\"]",
            tar.to_str().unwrap(),
            "busybox",
        ],
    );
    let secret_arg = format!("id=tok,src={}", secret.display());
    let ssh_arg = format!("default={}", sock.display());
    let args = [
        "build",
        "-t",
        "m",
        "--secret",
        &secret_arg,
        "--ssh",
        &ssh_arg,
        ctx.to_str().unwrap(),
    ];
    as_user("kiln", &args);
    let mut again = args.to_vec();
    again.insert(1, "--no-cache");
    as_user("kiln", &again);
    let rootfs = unpack(&root, "localhost/m:latest", tmp.path());
    let read = |p: &str| std::fs::read_to_string(rootfs.join(p)).unwrap();
    assert_eq!(read("runs.txt").trim(), "2", "the cache mount persisted");
    assert_eq!(read("cache-owner.txt").trim(), "65534:65534:750");
    assert_eq!(read("secret-len.txt").trim(), value.len().to_string());
    assert_eq!(read("secret-modes.txt"), "400\n444\n");
    assert_eq!(read("bound-ls.txt"), "a.txt\n");
    assert_eq!(read("rw-saw.txt"), "scribble\n");
    assert_eq!(read("from-stage.txt"), "made\n");
    assert_eq!(read("ssh.txt"), "/run/buildkit/ssh_agent.0\n");
    let (listing, bytes) = layer_listing_and_bytes(&root);
    assert!(!listing.contains("var/cache/app"), "{listing}");
    assert!(
        !contains(&bytes, value.as_bytes()),
        "secret value in a blob"
    );
    let grep = Command::new("grep")
        .args(["-r", "-l", value])
        .arg(&root)
        .output()
        .unwrap();
    assert!(grep.stdout.is_empty(), "secret in {}", text(&grep.stdout));
}
