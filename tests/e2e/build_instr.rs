//! `kiln build` instructions and flags beyond the basics: FROM pulled from a registry (pull
//! policies, short-name resolution), ONBUILD, RUN --mount, COPY/ADD options, labels and
//! annotations. Each test reads the resulting image.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use wharf_testkit::registry::Registry;

use crate::build::{inspect, text, unpack};
use crate::{bin, busybox_store, have, ok};

/// Runs kiln against `root` with extra environment variables.
fn kiln_env(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(bin("kiln"));
    cmd.arg("--root")
        .arg(root)
        .args(args)
        .env_remove("WHARF_ROOT")
        // No registries.conf of the machine leaks into a test unless the test names one.
        .env("CONTAINERS_REGISTRIES_CONF", "/nonexistent/registries.conf");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn kiln_ok(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let out = kiln_env(root, args, env);
    assert!(
        out.status.success(),
        "kiln {args:?} failed with {}:\n{}{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

/// A context directory holding `Dockerfile` with `dockerfile`.
fn context(dir: &Path, name: &str, dockerfile: &str) -> PathBuf {
    let ctx = dir.join(name);
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
    ctx
}

#[test]
fn from_pulls_from_a_registry_with_pull_policies_and_short_names() {
    let Some((tmp, seed)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let a = reg.addr().to_owned();
    ok(
        "ferry",
        &seed,
        &[
            "copy",
            "--dest-tls-verify=false",
            "store:localhost/busybox:latest",
            &format!("docker://{a}/busybox:latest"),
        ],
    );
    let ctx = context(
        tmp.path(),
        "qualified",
        &format!("# pulled base\nFROM {a}/busybox\nRUN echo pulled > /p.txt\n"),
    );
    let ctx = ctx.to_str().unwrap();

    // --pull=never with an empty store: the error names the image and the FROM line.
    let root = tmp.path().join("empty");
    let out = kiln_env(&root, &["build", "--pull=never", "-t", "app", ctx], &[]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("Dockerfile:2: FROM {a}/busybox")),
        "{err}"
    );
    assert!(err.contains("--pull=never"), "{err}");
    assert!(err.contains(&format!("\"{a}/busybox\"")), "{err}");

    // The default policy (missing) pulls into the empty store.
    let out = kiln_ok(
        &root,
        &["build", "--tls-verify=false", "-t", "app", ctx],
        &[],
    );
    assert!(
        text(&out.stderr).contains(&format!("Pulling docker://{a}/busybox:latest")),
        "{}",
        text(&out.stderr)
    );
    let rootfs = unpack(&root, "localhost/app:latest", tmp.path());
    assert_eq!(
        std::fs::read_to_string(rootfs.join("p.txt")).unwrap(),
        "pulled\n"
    );
    assert!(rootfs.join("bin/busybox").is_file());
    // The base is kept under its full name: --pull=never now finds it, all steps cached.
    let base = inspect(&root, &format!("{a}/busybox:latest"));
    assert!(base["Digest"].as_str().unwrap().starts_with("sha256:"));
    let out = kiln_ok(&root, &["build", "--pull=never", "-t", "app", ctx], &[]);
    assert!(!text(&out.stderr).contains("Pulling"));
    assert!(text(&out.stderr).contains("--> Using cache"));
    // buildah's bool form: --pull=false is never, --pull (true) pulls again.
    kiln_ok(&root, &["build", "--pull=false", "-t", "app", ctx], &[]);
    let out = kiln_ok(
        &root,
        &["build", "--pull", "--tls-verify=false", "-t", "app", ctx],
        &[],
    );
    assert!(text(&out.stderr).contains("Pulling"));
    // --pull=always fails when the registry cannot be reached (TLS required by default).
    let out = kiln_env(&root, &["build", "--pull=always", "-t", "app", ctx], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("Dockerfile:2:"),
        "{}",
        text(&out.stderr)
    );
    let out = kiln_env(&root, &["build", "--pull=sometimes", ctx], &[]);
    assert!(!out.status.success());

    // A short name: the store first (localhost/busybox in the seed store, no pull) ...
    let short = context(
        tmp.path(),
        "short",
        "FROM busybox\nRUN echo short > /s.txt\n",
    );
    let short = short.to_str().unwrap();
    let out = kiln_ok(&seed, &["build", "-t", "s", short], &[]);
    assert!(
        !text(&out.stderr).contains("Pulling"),
        "{}",
        text(&out.stderr)
    );
    // ... then registries.conf's unqualified-search registries, `insecure` honoured.
    let conf = tmp.path().join("registries.conf");
    std::fs::write(
        &conf,
        format!(
            "unqualified-search-registries = [\"{a}\"]\n[[registry]]\nlocation = \"{a}\"\ninsecure = true\n"
        ),
    )
    .unwrap();
    let root2 = tmp.path().join("empty2");
    let env = [("CONTAINERS_REGISTRIES_CONF", conf.to_str().unwrap())];
    let out = kiln_ok(&root2, &["build", "-t", "s", short], &env);
    assert!(
        text(&out.stderr).contains(&format!("Pulling docker://{a}/busybox:latest")),
        "{}",
        text(&out.stderr)
    );
    let rootfs = unpack(&root2, "localhost/s:latest", tmp.path());
    assert_eq!(
        std::fs::read_to_string(rootfs.join("s.txt")).unwrap(),
        "short\n"
    );
    // Without a search registry a short name missing from the store is a clear error.
    let out = kiln_env(&tmp.path().join("empty3"), &["build", short], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("unqualified-search registries"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn onbuild_triggers_of_the_base_run_after_from_and_are_not_inherited() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    let base = context(
        tmp.path(),
        "base",
        "FROM busybox\nONBUILD RUN echo triggered > /trig.txt\nONBUILD COPY src.txt /from-ctx.txt\n",
    );
    // The OCI format has no OnBuild: the build warns and the triggers are gone.
    let out = kiln_ok(
        &root,
        &["build", "-t", "base-oci", base.to_str().unwrap()],
        &[],
    );
    assert!(
        text(&out.stderr).contains("OnBuild not supported for the OCI image format"),
        "{}",
        text(&out.stderr)
    );
    assert!(inspect(&root, "base-oci")["Config"]["config"]["OnBuild"].is_null());
    kiln_ok(
        &root,
        &[
            "build",
            "--format",
            "docker",
            "-t",
            "base",
            base.to_str().unwrap(),
        ],
        &[],
    );
    let cfg = inspect(&root, "base");
    assert_eq!(
        cfg["Config"]["config"]["OnBuild"],
        serde_json::json!([
            "RUN echo triggered > /trig.txt",
            "COPY src.txt /from-ctx.txt"
        ])
    );

    let child = context(
        tmp.path(),
        "child",
        "FROM base\nRUN cat /trig.txt /from-ctx.txt > /seen.txt\nONBUILD RUN echo grandchild\n",
    );
    std::fs::write(child.join("src.txt"), "from the child's context\n").unwrap();
    let out = kiln_ok(
        &root,
        &[
            "build",
            "--format",
            "docker",
            "-t",
            "child",
            child.to_str().unwrap(),
        ],
        &[],
    );
    assert!(
        text(&out.stderr).contains("STEP 2/5: RUN echo triggered"),
        "{}",
        text(&out.stderr)
    );
    // umoci reads OCI images only: the same build (all cached) in the OCI format to unpack.
    let out = kiln_ok(
        &root,
        &["build", "-t", "child-oci", child.to_str().unwrap()],
        &[],
    );
    assert_eq!(text(&out.stderr).matches("--> Using cache").count(), 4);
    let rootfs = unpack(&root, "localhost/child-oci:latest", tmp.path());
    assert_eq!(
        std::fs::read_to_string(rootfs.join("seen.txt")).unwrap(),
        "triggered\nfrom the child's context\n"
    );
    let img = inspect(&root, "child");
    // Only the child's own trigger; the base's were consumed.
    assert_eq!(
        img["Config"]["config"]["OnBuild"],
        serde_json::json!(["RUN echo grandchild"])
    );
    let history: Vec<String> = img["Config"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["created_by"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(
        history
            .iter()
            .any(|h| h == "RUN echo triggered > /trig.txt"),
        "{history:?}"
    );

    // A trigger that fails names the FROM line.
    let broken = context(tmp.path(), "broken", "FROM base\nRUN true\n");
    let out = kiln_env(&root, &["build", broken.to_str().unwrap()], &[]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("Dockerfile:1: COPY src.txt /from-ctx.txt: source \"src.txt\" not found"),
        "{err}"
    );
}

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
    // network: none has loopback only; the default is the host's network.
    let host_lines = std::fs::read_to_string("/proc/net/dev")
        .unwrap()
        .lines()
        .count();
    assert_eq!(read("net-none.txt").trim(), "3");
    assert_eq!(read("net-default.txt").trim(), host_lines.to_string());

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

/// A tiny HTTP/1.1 server for ADD URLs (the content source, not a registry): serves `body` at
/// `/files/tool.txt` with a Last-Modified time, 404 elsewhere. Returns the port.
fn serve_file(body: &'static [u8]) -> u16 {
    use std::io::{BufRead, BufReader, Write};
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
            let head = if request.starts_with("GET /files/tool.txt ") {
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nLast-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\nConnection: close\r\n\r\n",
                    body.len()
                )
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_owned()
            };
            let _ = conn.write_all(head.as_bytes());
            if head.starts_with("HTTP/1.1 200") {
                let _ = conn.write_all(body);
            }
        }
    });
    port
}

fn sha256_hex(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    text(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn copy_add_exclude_parents_link_heredocs_urls_and_archives() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    const BODY: &[u8] = b"downloaded tool\n";
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") || !have("bzip2") || !have("xz") {
        return;
    }
    let port = serve_file(BODY).to_string();
    let ctx = crate::build::copy_context("copy", tmp.path());
    // bzip2 and xz tars, made on the spot.
    let inner = tmp.path().join("archive-src/inner");
    std::fs::create_dir_all(&inner).unwrap();
    std::fs::write(inner.join("hello.txt"), "from an archive\n").unwrap();
    for (flag, name) in [("-j", "data.tar.bz2"), ("-J", "data.tar.xz")] {
        let st = Command::new("tar")
            .arg("-C")
            .arg(tmp.path().join("archive-src"))
            .arg(flag)
            .arg("-cf")
            .arg(ctx.join(name))
            .arg("inner")
            .status()
            .unwrap();
        assert!(st.success());
    }
    let body_file = tmp.path().join("body");
    std::fs::write(&body_file, BODY).unwrap();
    let template = std::fs::read_to_string(ctx.join("Dockerfile.in")).unwrap();
    let write_dockerfile = |sum: &str| {
        let df = template.replace("@PORT@", &port).replace("@SUM@", sum);
        std::fs::write(ctx.join("Dockerfile"), df).unwrap();
    };
    write_dockerfile(&format!("sha256:{}", sha256_hex(&body_file)));
    kiln_ok(&root, &["build", "-t", "c", ctx.to_str().unwrap()], &[]);
    let rootfs = unpack(&root, "localhost/c:latest", tmp.path());
    let read =
        |p: &str| std::fs::read_to_string(rootfs.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    // --exclude: on wildcard matches, and inside a directory source.
    assert_eq!(read("ex/hom2.md"), "two\n");
    assert!(!rootfs.join("ex/hom1.txt").exists() && !rootfs.join("ex/homx.txt").exists());
    assert_eq!(read("app/main.rs"), "fn main() {}\n");
    assert_eq!(read("app/doc/keep.md"), "keep\n");
    assert!(!rootfs.join("app/readme.txt").exists());
    assert!(!rootfs.join("app/doc/x.log").exists());
    // --parents keeps the source's directories.
    assert_eq!(read("par/a/b/f.txt"), "f\n");
    assert_eq!(read("par/a/c/g.txt"), "g\n");
    assert!(!rootfs.join("par/f.txt").exists());
    assert_eq!(read("linked/hom2.md"), "two\n");
    // Heredocs: expanded unless the delimiter is quoted; <<- strips tabs.
    assert_eq!(read("etc/greeting"), "hello world\n");
    assert_eq!(read("docs/RAW"), "raw $NAME\n");
    assert_eq!(read("docs/TABS"), "tabbed\n");
    // ADD URL: named after the URL or the destination, 0600, Last-Modified as mtime.
    for p in ["dl/tool.txt", "dl/renamed.bin"] {
        assert_eq!(read(p), "downloaded tool\n");
        let m = std::fs::metadata(rootfs.join(p)).unwrap();
        assert_eq!(m.permissions().mode() & 0o7777, 0o600, "{p}");
        assert_eq!(m.mtime(), 1_445_412_480, "{p}");
    }
    // bzip2 and xz tars are unpacked.
    assert_eq!(read("bz/inner/hello.txt"), "from an archive\n");
    assert_eq!(read("xz/inner/hello.txt"), "from an archive\n");

    // A wrong --checksum fails the ADD, naming its line.
    write_dockerfile(&format!("sha256:{}", "0".repeat(64)));
    let out = kiln_env(&root, &["build", "-t", "bad", ctx.to_str().unwrap()], &[]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("Dockerfile:16: ADD --checksum"), "{err}");
    assert!(err.contains("checksum mismatch"), "{err}");

    // --link gives the very same layer as a plain COPY.
    let diff_ids = |dockerfile: &str, tag: &str| {
        let dir = context(tmp.path(), tag, dockerfile);
        std::fs::write(dir.join("f.txt"), "same\n").unwrap();
        kiln_ok(
            &root,
            &[
                "build",
                "--timestamp",
                "1700000000",
                "-t",
                tag,
                dir.to_str().unwrap(),
            ],
            &[],
        );
        inspect(&root, tag)["Config"]["rootfs"]["diff_ids"].clone()
    };
    assert_eq!(
        diff_ids("FROM busybox\nCOPY --link f.txt /x/\n", "link"),
        diff_ids("FROM busybox\nCOPY f.txt /x/\n", "nolink")
    );
}

fn manifest_json(root: &Path, name: &str) -> serde_json::Value {
    let digest = inspect(root, name)["Digest"].as_str().unwrap().to_owned();
    let hex = digest.strip_prefix("sha256:").unwrap();
    let bytes = std::fs::read(root.join("oci/blobs/sha256").join(hex)).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn labels_annotations_and_build_arg_files() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    let ctx = context(
        tmp.path(),
        "meta",
        "FROM busybox\nARG A=default-a\nARG B=default-b\nARG C=default-c\n\
         LABEL org.example.title=dockerfile keep=me\nRUN echo \"$A $B $C\" > /args.txt\n",
    );
    let argfile = tmp.path().join("argfile.conf");
    std::fs::write(&argfile, "# versions\nA=from-file\n\nB=from-file\n").unwrap();
    let argfile_s = argfile.to_str().unwrap();
    let ctx_s = ctx.to_str().unwrap();
    let common = [
        "--build-arg-file",
        argfile_s,
        "--build-arg",
        "B=from-flag",
        "--label",
        "org.example.title=flag",
        "--label",
        "extra=1",
        "--annotation",
        "org.opencontainers.image.source=https://example.com/src",
        "--annotation",
        "team=wharf",
    ];
    let mut args = vec!["build", "-t", "meta"];
    args.extend_from_slice(&common);
    args.push(ctx_s);
    kiln_ok(&root, &args, &[]);
    let rootfs = unpack(&root, "localhost/meta:latest", tmp.path());
    assert_eq!(
        std::fs::read_to_string(rootfs.join("args.txt")).unwrap(),
        "from-file from-flag default-c\n"
    );
    let labels = &inspect(&root, "meta")["Config"]["config"]["Labels"];
    assert_eq!(labels["org.example.title"], "flag");
    assert_eq!(labels["keep"], "me");
    assert_eq!(labels["extra"], "1");
    let m = manifest_json(&root, "meta");
    assert_eq!(
        m["annotations"],
        serde_json::json!({
            "org.opencontainers.image.source": "https://example.com/src",
            "team": "wharf"
        })
    );
    // The Docker format has no annotations: dropped with a warning, labels kept.
    let mut args = vec!["build", "--format", "docker", "-t", "meta-docker"];
    args.extend_from_slice(&common);
    args.push(ctx_s);
    let out = kiln_ok(&root, &args, &[]);
    assert!(
        text(&out.stderr).contains("annotations are not supported for the docker image format"),
        "{}",
        text(&out.stderr)
    );
    assert!(manifest_json(&root, "meta-docker")["annotations"].is_null());
    assert_eq!(
        inspect(&root, "meta-docker")["Config"]["config"]["Labels"]["extra"],
        "1"
    );
    // A malformed argument file names the file and line.
    std::fs::write(&argfile, "A=1\n=nameless\n").unwrap();
    let out = kiln_env(&root, &["build", "--build-arg-file", argfile_s, ctx_s], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains(&format!("{argfile_s}:2:")),
        "{}",
        text(&out.stderr)
    );
    let out = kiln_env(&root, &["build", "--label", "=x", ctx_s], &[]);
    assert!(!out.status.success());
}

#[test]
fn from_pulls_from_a_tls_registry_with_creds_authfile_and_cert_dir() {
    let Some((tmp, seed)) = busybox_store() else {
        return;
    };
    let Some(reg) = Registry::start_tls_auth("alice", "s3cret") else {
        return;
    };
    let a = reg.addr().to_owned();
    let certs = reg.cert_dir().unwrap();
    let certs = certs.to_str().unwrap();
    ok(
        "ferry",
        &seed,
        &[
            "copy",
            "-q",
            "--dest-creds",
            "alice:s3cret",
            "--dest-cert-dir",
            certs,
            "store:localhost/busybox",
            &format!("docker://{a}/secure/busybox:1"),
        ],
    );
    let ctx = context(
        tmp.path(),
        "tls",
        &format!("FROM {a}/secure/busybox:1\nRUN echo secure > /s.txt\n"),
    );
    let ctx = ctx.to_str().unwrap();
    // No credentials: the registry refuses, and the error names the FROM line.
    let out = kiln_env(
        &tmp.path().join("s1"),
        &["build", "--cert-dir", certs, ctx],
        &[],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("Dockerfile:1: FROM"),
        "{}",
        text(&out.stderr)
    );
    // No certificates: TLS verification fails.
    let out = kiln_env(
        &tmp.path().join("s1"),
        &["build", "--creds", "alice:s3cret", ctx],
        &[],
    );
    assert!(!out.status.success());
    kiln_ok(
        &tmp.path().join("s2"),
        &[
            "build",
            "--cert-dir",
            certs,
            "--creds",
            "alice:s3cret",
            "-t",
            "t",
            ctx,
        ],
        &[],
    );
    assert!(inspect(&tmp.path().join("s2"), "t")["Digest"].is_string());
    // An auth file works as well.
    let authfile = tmp.path().join("auth.json");
    let auth = format!(
        "{{\"auths\":{{\"{a}\":{{\"auth\":\"{}\"}}}}}}",
        "YWxpY2U6czNjcmV0" // base64("alice:s3cret")
    );
    std::fs::write(&authfile, auth).unwrap();
    kiln_ok(
        &tmp.path().join("s3"),
        &[
            "build",
            "--cert-dir",
            certs,
            "--authfile",
            authfile.to_str().unwrap(),
            "-t",
            "t",
            ctx,
        ],
        &[],
    );
}

#[test]
fn rootless_from_pulls_from_a_registry() {
    let Some(user) = wharf_testkit::user::test_user() else {
        eprintln!("SKIP: no unprivileged test user (needs root to create it)");
        return;
    };
    let Some((_seed_tmp, seed)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let a = reg.addr().to_owned();
    ok(
        "ferry",
        &seed,
        &[
            "copy",
            "-q",
            "--dest-tls-verify=false",
            "store:localhost/busybox",
            &format!("docker://{a}/busybox:latest"),
        ],
    );
    let tmp = tempfile::Builder::new()
        .prefix("kiln-pull")
        .tempdir_in("/tmp")
        .unwrap();
    let ctx = context(
        tmp.path(),
        "ctx",
        &format!("FROM {a}/busybox\nRUN echo rootless > /r.txt && ls -ln /bin/busybox > /ls.txt\n"),
    );
    let root = tmp.path().join("store");
    user.chown(tmp.path());
    let out = user
        .command(bin("kiln"))
        .arg("--root")
        .arg(&root)
        .args([
            "build",
            "--tls-verify=false",
            "-t",
            "r",
            ctx.to_str().unwrap(),
        ])
        .env("CONTAINERS_REGISTRIES_CONF", "/nonexistent/registries.conf")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rootfs = unpack(&root, "localhost/r:latest", tmp.path());
    assert_eq!(
        std::fs::read_to_string(rootfs.join("r.txt")).unwrap(),
        "rootless\n"
    );
    // Pulled layers were extracted with their owners inside the user namespace: root-owned.
    let ls = std::fs::read_to_string(rootfs.join("ls.txt")).unwrap();
    let fields: Vec<&str> = ls.split_whitespace().collect();
    assert_eq!((fields[2], fields[3]), ("0", "0"), "{ls}");
}
