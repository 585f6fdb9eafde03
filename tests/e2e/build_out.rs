//! `kiln build` outputs and sharing: the registry cache (`--cache-to`/`--cache-from`) across two
//! empty store roots, `--output` exports, `--squash`/`--layers`, parallel stages (`--jobs`),
//! and contexts that are not directories.

use std::path::{Path, PathBuf};
use std::process::Output;

use wharf_testkit::registry::Registry;

use crate::{ok, run};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn inspect(root: &Path, name: &str) -> serde_json::Value {
    serde_json::from_str(&ok("kiln", root, &["inspect", name])).unwrap()
}

fn built(out: &Output) -> String {
    assert!(
        out.status.success(),
        "build failed with {}:\n{}",
        out.status,
        text(&out.stderr)
    );
    text(&out.stdout).trim().to_owned()
}

fn cache_hits(out: &Output) -> usize {
    text(&out.stderr).matches("--> Using cache").count()
}

/// A context building FROM scratch (no base image, so two stores share nothing but the
/// inputs) whose RUN steps write the time: a step that runs again changes the image ID.
fn stamped_context(dir: &Path) -> PathBuf {
    let ctx = dir.join("ctx");
    wharf_testkit::busybox::make_rootfs(&ctx.join("rootfs")).unwrap();
    std::fs::write(ctx.join("app.txt"), "app\n").unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM scratch\n\
         COPY rootfs/ /\n\
         RUN date +%s%N > /stamp\n\
         ENV A=1\n\
         COPY app.txt /app/\n\
         RUN date +%s%N >> /stamp && rm /bin/vi\n\
         WORKDIR /app\n\
         CMD [\"cat\", \"/stamp\"]\n",
    )
    .unwrap();
    ctx
}

/// Steps after FROM in [`stamped_context`].
const STAMPED_STEPS: usize = 7;

#[test]
fn registry_cache_gives_hits_in_an_empty_store() {
    if !wharf_testkit::busybox::available() {
        eprintln!("SKIP: busybox-static is not installed");
        return;
    }
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let ctx = stamped_context(tmp.path());
    let repo = format!("{}/ci/cache", reg.addr());
    let ctx_s = ctx.to_str().unwrap();

    let root_a = tmp.path().join("store-a");
    let out = run(
        "kiln",
        &root_a,
        &[
            "build",
            "--tls-verify=false",
            "--cache-to",
            &repo,
            "-t",
            "app",
            ctx_s,
        ],
    );
    let id_a = built(&out);
    assert_eq!(cache_hits(&out), 0, "{}", text(&out.stderr));
    let digest_a = inspect(&root_a, "app")["Digest"]
        .as_str()
        .unwrap()
        .to_owned();

    // A second machine: an empty store, the same context, the cache from the registry.
    let root_b = tmp.path().join("store-b");
    let out = run(
        "kiln",
        &root_b,
        &[
            "build",
            "--tls-verify=false",
            "--cache-from",
            &format!("{}/ci/nothing-here", reg.addr()),
            "--cache-from",
            &repo,
            "-t",
            "app",
            ctx_s,
        ],
    );
    let id_b = built(&out);
    assert_eq!(cache_hits(&out), STAMPED_STEPS, "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("WARN"), "{}", text(&out.stderr));
    assert_eq!(id_a, id_b, "a RUN step ran again");
    assert_eq!(
        inspect(&root_b, "app")["Digest"].as_str().unwrap(),
        digest_a
    );
    // The layers came from the registry: the image is complete in B.
    let dest = tmp.path().join("b.oci");
    ok(
        "kiln",
        &root_b,
        &["push", "app", &format!("oci:{}:app", dest.display())],
    );

    // The pulled records are local now: B rebuilds from its own cache, without the registry.
    let out = run("kiln", &root_b, &["build", "-t", "app", ctx_s]);
    assert_eq!(built(&out), id_a);
    assert_eq!(cache_hits(&out), STAMPED_STEPS);

    // A changed input misses from its step on; the steps before it still hit in the registry.
    std::fs::write(ctx.join("app.txt"), "changed\n").unwrap();
    let root_c = tmp.path().join("store-c");
    let out = run(
        "kiln",
        &root_c,
        &[
            "build",
            "--tls-verify=false",
            "--cache-from",
            &repo,
            "-t",
            "app",
            ctx_s,
        ],
    );
    let id_c = built(&out);
    assert_ne!(id_c, id_a);
    assert_eq!(cache_hits(&out), 3, "{}", text(&out.stderr));

    // A registry that cannot be reached is a warning and a miss, not a failure.
    let root_d = tmp.path().join("store-d");
    let out = run(
        "kiln",
        &root_d,
        &[
            "build",
            "--tls-verify=false",
            "--cache-from",
            "127.0.0.1:1/none",
            "-t",
            "app",
            ctx_s,
        ],
    );
    built(&out);
    assert!(text(&out.stderr).contains("WARN: registry cache 127.0.0.1:1/none"));

    // A repository with a tag is refused.
    let out = run(
        "kiln",
        &root_d,
        &["build", "--cache-to", &format!("{repo}:x"), ctx_s],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("without a tag or digest"),
        "{}",
        text(&out.stderr)
    );
}

/// `skopeo inspect REF` as JSON.
fn skopeo_inspect(reference: &str) -> serde_json::Value {
    let out = std::process::Command::new("skopeo")
        .args(["inspect", reference])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skopeo inspect {reference}: {}",
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn output_writes_the_tree_a_tar_and_image_archives() {
    if !wharf_testkit::busybox::available() {
        eprintln!("SKIP: busybox-static is not installed");
        return;
    }
    if !crate::have("skopeo") || !crate::have("tar") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let ctx = stamped_context(tmp.path());
    let root = tmp.path().join("store");
    let build = |output: &str| {
        let out = run(
            "kiln",
            &root,
            &["build", "-o", output, "-t", "app:v1", ctx.to_str().unwrap()],
        );
        built(&out)
    };
    let check_tree = |dir: &Path| {
        assert_eq!(
            std::fs::read_to_string(dir.join("app/app.txt")).unwrap(),
            "app\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("stamp"))
                .unwrap()
                .lines()
                .count(),
            2
        );
        assert!(dir.join("bin/busybox").is_file());
        // A file a later layer deleted is not there.
        assert!(!dir.join("bin/vi").exists());
        assert!(dir.join("bin/sh").exists());
    };

    // The short form and type=local: the final filesystem.
    let local = tmp.path().join("local");
    let id = build(local.to_str().unwrap());
    check_tree(&local);
    let local2 = tmp.path().join("local2");
    assert_eq!(build(&format!("type=local,dest={}", local2.display())), id);
    check_tree(&local2);

    // type=tar: the same tree as one tar.
    let tar = tmp.path().join("fs.tar");
    build(&format!("type=tar,dest={}", tar.display()));
    let unpacked = tmp.path().join("from-tar");
    std::fs::create_dir(&unpacked).unwrap();
    let st = std::process::Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(st.success());
    check_tree(&unpacked);

    // type=oci and type=docker: image archives other tools read, with the image's layers.
    let img = inspect(&root, "app:v1");
    let layers = img["Config"]["rootfs"]["diff_ids"]
        .as_array()
        .unwrap()
        .len();
    let oci = tmp.path().join("image.oci.tar");
    build(&format!("type=oci,dest={}", oci.display()));
    let i = skopeo_inspect(&format!("oci-archive:{}", oci.display()));
    assert_eq!(i["Layers"].as_array().unwrap().len(), layers);
    assert_eq!(i["Digest"], img["Digest"]);
    let docker = tmp.path().join("image.docker.tar");
    build(&format!("type=docker,dest={}", docker.display()));
    let i = skopeo_inspect(&format!("docker-archive:{}", docker.display()));
    assert_eq!(i["Layers"].as_array().unwrap().len(), layers);
    assert_eq!(i["Env"], img["Config"]["config"]["Env"]);

    // Bad values fail before anything is built.
    let out = run(
        "kiln",
        &root,
        &["build", "-o", "type=registry,dest=x", ctx.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("invalid --output"),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stderr).contains("STEP"), "{}", text(&out.stderr));
}

fn layer_count(img: &serde_json::Value) -> usize {
    let diff_ids = img["Config"]["rootfs"]["diff_ids"]
        .as_array()
        .unwrap()
        .len();
    let layered = img["Config"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["empty_layer"] != true)
        .count();
    assert_eq!(layered, diff_ids, "history and layers disagree: {img}");
    diff_ids
}

#[test]
fn squash_and_layers_false_give_one_new_layer_over_the_base() {
    if !wharf_testkit::busybox::available() {
        eprintln!("SKIP: busybox-static is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox_base(tmp.path());
    let ctx = tmp.path().join("sq");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(ctx.join("f.txt"), "from the context\n").unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox\n\
         RUN rm /bin/vi && mkdir -p /d/sub && echo a > /a && echo keep > /d/sub/k\n\
         ENV X=1\n\
         RUN rm /a && echo b > /b && rm -r /d/sub && echo new > /d/n\n\
         COPY f.txt /d/\n\
         CMD [\"sh\"]\n",
    )
    .unwrap();
    let ctx_s = ctx.to_str().unwrap();
    let base_layers = layer_count(&inspect(&root, "busybox"));
    let check = |name: &str, dir: &Path| {
        let out = run(
            "kiln",
            &root,
            &["build", "-o", dir.to_str().unwrap(), "-t", name, ctx_s],
        );
        built(&out);
        // Export the filesystem through the layers: whiteouts of the base and of earlier new
        // layers must both have survived the merge.
        assert!(!dir.join("bin/vi").exists());
        assert!(dir.join("bin/sh").exists());
        assert!(!dir.join("a").exists());
        assert_eq!(std::fs::read_to_string(dir.join("b")).unwrap(), "b\n");
        assert!(!dir.join("d/sub").exists());
        assert_eq!(std::fs::read_to_string(dir.join("d/n")).unwrap(), "new\n");
        assert_eq!(
            std::fs::read_to_string(dir.join("d/f.txt")).unwrap(),
            "from the context\n"
        );
        out
    };
    check("plain", &tmp.path().join("plain"));
    assert_eq!(layer_count(&inspect(&root, "plain")), base_layers + 3);

    let sq = |extra: &[&str], name: &str| {
        let mut args = vec!["build"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["-t", name, ctx_s]);
        let out = run("kiln", &root, &args);
        built(&out);
        out
    };
    let out = sq(&["--squash"], "squashed");
    // The steps themselves still hit the cache of the plain build.
    assert_eq!(cache_hits(&out), 5, "{}", text(&out.stderr));
    let img = inspect(&root, "squashed");
    assert_eq!(layer_count(&img), base_layers + 1);
    assert_eq!(
        img["Config"]["rootfs"]["diff_ids"][0],
        inspect(&root, "busybox")["Config"]["rootfs"]["diff_ids"][0]
    );
    let dir = tmp.path().join("squashed");
    let st = std::process::Command::new("umoci")
        .arg("unpack")
        .arg("--image")
        .arg(format!(
            "{}:localhost/squashed:latest",
            root.join("oci").display()
        ))
        .arg(&dir)
        .output();
    if let Ok(o) = st {
        assert!(o.status.success(), "umoci: {}", text(&o.stderr));
        let rootfs = dir.join("rootfs");
        assert!(!rootfs.join("bin/vi").exists());
        assert!(!rootfs.join("a").exists() && rootfs.join("b").is_file());
        assert!(!rootfs.join("d/sub").exists() && rootfs.join("d/f.txt").is_file());
    }
    // Squashing is deterministic: the same inputs give the same image.
    let again = sq(&["--squash"], "squashed2");
    assert_eq!(text(&again.stdout), text(&out.stdout));

    // --layers=false: nothing from the cache, nothing into it, one new layer.
    let cache_files = || std::fs::read_dir(root.join("cache")).unwrap().count();
    let before = cache_files();
    let out = sq(&["--layers=false"], "nolayers");
    assert_eq!(cache_hits(&out), 0, "{}", text(&out.stderr));
    assert_eq!(cache_files(), before);
    assert_eq!(layer_count(&inspect(&root, "nolayers")), base_layers + 1);
    check("nolayers", &tmp.path().join("nolayers"));
}

/// A store with busybox as `localhost/busybox`, built here in one layer.
fn busybox_base(tmp: &Path) -> PathBuf {
    let root = tmp.join("store");
    let base = tmp.join("base");
    wharf_testkit::busybox::make_rootfs(&base.join("rootfs")).unwrap();
    std::fs::write(base.join("Dockerfile"), "FROM scratch\nCOPY rootfs/ /\n").unwrap();
    built(&run(
        "kiln",
        &root,
        &["build", "-t", "busybox", base.to_str().unwrap()],
    ));
    root
}

#[test]
fn independent_stages_run_in_parallel_with_the_same_result() {
    if !wharf_testkit::busybox::available() {
        eprintln!("SKIP: busybox-static is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox_base(tmp.path());
    let ctx = tmp.path().join("par");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        // The two stages meet in a shared cache mount: each leaves a mark and waits (up to
        // 10 s) for the other's. Run in parallel they meet; one after the other, the first
        // waits in vain. What the test checks is whether they met, not how long it took.
        // (`$(echo b)`: the step line kiln prints must not contain the words looked for.)
        "FROM busybox AS a\n\
         RUN --mount=type=cache,id=meet,target=/meet touch /meet/a && i=0 && \
         while [ ! -e /meet/b ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done && \
         if [ -e /meet/b ]; then echo a-met-$(echo b); fi && echo a > /a\n\
         FROM busybox AS unused\n\
         RUN echo unused-stage-ran && exit 1\n\
         FROM busybox AS b\n\
         RUN --mount=type=cache,id=meet,target=/meet touch /meet/b && i=0 && \
         while [ ! -e /meet/a ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done && \
         if [ -e /meet/a ]; then echo b-met-$(echo a); fi && echo b > /b\n\
         FROM busybox\n\
         COPY --from=a /a /a\n\
         COPY --from=b /b /b\n",
    )
    .unwrap();
    let build = |jobs: &str| {
        // A fresh meeting place for each build: the cache mount outlives a build.
        let _ = std::fs::remove_dir_all(root.join("cache/mounts"));
        let out = run(
            "kiln",
            &root,
            &[
                "build",
                "--no-cache",
                "--timestamp",
                "1700000000",
                "--jobs",
                jobs,
                "-t",
                "par",
                ctx.to_str().unwrap(),
            ],
        );
        let log = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!log.contains("unused-stage-ran"));
        let met = log.contains("a-met-b") && log.contains("b-met-a");
        // RUN's output comes first on standard output; the image ID is the last line.
        let id = built(&out).lines().last().unwrap_or_default().to_owned();
        (id, met)
    };
    let (one, met1) = build("1");
    let (two, met2) = build("2");
    assert_eq!(one, two, "the stages' order changed the image");
    assert!(!met1, "--jobs 1 ran the two stages at the same time");
    assert!(
        met2,
        "--jobs 2 did not run the two independent stages at the same time"
    );
    let dir = tmp.path().join("out");
    built(&run(
        "kiln",
        &root,
        &[
            "build",
            "--jobs",
            "2",
            "-o",
            dir.to_str().unwrap(),
            ctx.to_str().unwrap(),
        ],
    ));
    assert_eq!(std::fs::read_to_string(dir.join("a")).unwrap(), "a\n");
    assert_eq!(std::fs::read_to_string(dir.join("b")).unwrap(), "b\n");
}

/// Runs `kiln --root ROOT ARGS` with `input` on standard input.
fn kiln_with_stdin(root: &Path, args: &[&str], input: &[u8]) -> Output {
    use std::io::Write as _;
    let mut child = std::process::Command::new(crate::bin("kiln"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env_remove("WHARF_ROOT")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn context_and_dockerfile_from_standard_input() {
    if !wharf_testkit::busybox::available() {
        eprintln!("SKIP: busybox-static is not installed");
        return;
    }
    if !crate::have("tar") || !crate::have("gzip") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox_base(tmp.path());
    let ctx = tmp.path().join("stdin-ctx");
    std::fs::create_dir_all(ctx.join("docker")).unwrap();
    std::fs::write(ctx.join("data.txt"), "from the tar\n").unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox\nCOPY data.txt /data.txt\n",
    )
    .unwrap();
    std::fs::write(
        ctx.join("docker/Other.Dockerfile"),
        "FROM busybox\nCOPY data.txt /other.txt\n",
    )
    .unwrap();
    let tar = |gzip: bool| {
        let out = std::process::Command::new("tar")
            .arg(if gzip { "-czf" } else { "-cf" })
            .arg("-")
            .arg("-C")
            .arg(&ctx)
            .arg(".")
            .output()
            .unwrap();
        assert!(out.status.success());
        out.stdout
    };
    let read = |dir: &Path, f: &str| std::fs::read_to_string(dir.join(f)).unwrap();

    // A plain tar: the context, with its own Dockerfile.
    let d1 = tmp.path().join("o1");
    let out = kiln_with_stdin(
        &root,
        &["build", "-o", d1.to_str().unwrap(), "-t", "s1", "-"],
        &tar(false),
    );
    built(&out);
    assert_eq!(read(&d1, "data.txt"), "from the tar\n");

    // A gzip tar with -f naming a file inside it.
    let d2 = tmp.path().join("o2");
    let out = kiln_with_stdin(
        &root,
        &[
            "build",
            "-f",
            "docker/Other.Dockerfile",
            "-o",
            d2.to_str().unwrap(),
            "-",
        ],
        &tar(true),
    );
    built(&out);
    assert_eq!(read(&d2, "other.txt"), "from the tar\n");

    // A Dockerfile alone: no context.
    let d3 = tmp.path().join("o3");
    let out = kiln_with_stdin(
        &root,
        &["build", "-o", d3.to_str().unwrap(), "-"],
        b"FROM busybox\nRUN echo piped > /piped.txt\n",
    );
    built(&out);
    assert_eq!(read(&d3, "piped.txt"), "piped\n");

    // -f - with a directory context.
    let d4 = tmp.path().join("o4");
    let out = kiln_with_stdin(
        &root,
        &[
            "build",
            "-f",
            "-",
            "-o",
            d4.to_str().unwrap(),
            ctx.to_str().unwrap(),
        ],
        b"FROM busybox\nCOPY data.txt /from-dir.txt\n",
    );
    built(&out);
    assert_eq!(read(&d4, "from-dir.txt"), "from the tar\n");

    // Nothing is left in the store's tmp/.
    let left: Vec<_> = std::fs::read_dir(root.join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".context") || n.ends_with(".dockerfile") || n.ends_with(".output"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Serves `body` once per connection on a free loopback port; returns the URL base.
fn serve(body: Vec<u8>) -> String {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut req = [0u8; 4096];
            let n = conn.read(&mut req).unwrap_or(0);
            let found = String::from_utf8_lossy(&req[..n]).starts_with("GET /ctx.tar.gz ");
            let head = if found {
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into()
            };
            let _ = conn.write_all(head.as_bytes());
            if found {
                let _ = conn.write_all(&body);
            }
        }
    });
    format!("http://{addr}")
}

#[test]
fn context_from_a_tarball_url() {
    if !wharf_testkit::busybox::available() {
        eprintln!("SKIP: busybox-static is not installed");
        return;
    }
    if !crate::have("tar") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = busybox_base(tmp.path());
    let ctx = tmp.path().join("url-ctx");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(ctx.join("f.txt"), "over http\n").unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nCOPY f.txt /f.txt\n").unwrap();
    let out = std::process::Command::new("tar")
        .args(["-czf", "-", "-C"])
        .arg(&ctx)
        .arg(".")
        .output()
        .unwrap();
    assert!(out.status.success());
    let base = serve(out.stdout);
    let dir = tmp.path().join("out");
    let url = format!("{base}/ctx.tar.gz");
    built(&run(
        "kiln",
        &root,
        &["build", "-o", dir.to_str().unwrap(), &url],
    ));
    assert_eq!(
        std::fs::read_to_string(dir.join("f.txt")).unwrap(),
        "over http\n"
    );
    let out = run("kiln", &root, &["build", &format!("{base}/missing.tar")]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("404"), "{}", text(&out.stderr));
}

#[test]
fn rootless_registry_cache_output_and_squash() {
    use std::os::unix::fs::MetadataExt as _;
    let Some(user) = wharf_testkit::user::test_user() else {
        eprintln!("SKIP: no unprivileged test user (needs root to create it)");
        return;
    };
    if !wharf_testkit::busybox::available() || !crate::have("tar") {
        return;
    }
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let tmp = tempfile::Builder::new()
        .prefix("kiln-out-rootless")
        .tempdir_in("/tmp")
        .unwrap();
    let ctx = stamped_context(tmp.path());
    user.chown(tmp.path());
    let as_user = |root: &Path, args: &[&str]| {
        let out = user
            .command(crate::bin("kiln"))
            .arg("--root")
            .arg(root)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kiln {args:?} as {}: {}",
            user.name,
            text(&out.stderr)
        );
        out
    };
    let repo = format!("{}/rootless/cache", reg.addr());
    let ctx_s = ctx.to_str().unwrap();
    let root_a = tmp.path().join("store-a");
    let a = as_user(
        &root_a,
        &[
            "build",
            "--tls-verify=false",
            "--cache-to",
            &repo,
            "-t",
            "app",
            ctx_s,
        ],
    );
    let root_b = tmp.path().join("store-b");
    let out_dir = tmp.path().join("out");
    let b = as_user(
        &root_b,
        &[
            "build",
            "--tls-verify=false",
            "--cache-from",
            &repo,
            "-o",
            out_dir.to_str().unwrap(),
            "-t",
            "app",
            ctx_s,
        ],
    );
    assert_eq!(text(&a.stdout), text(&b.stdout));
    assert_eq!(cache_hits(&b), STAMPED_STEPS, "{}", text(&b.stderr));
    // The exported tree belongs to the user, not to ids of the user's subordinate range.
    let meta = std::fs::metadata(out_dir.join("app/app.txt")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (user.uid, user.gid));
    assert!(!out_dir.join("bin/vi").exists());

    let sq = as_user(&root_b, &["build", "--squash", "-t", "sq", ctx_s]);
    assert_eq!(cache_hits(&sq), STAMPED_STEPS);
    let img = inspect(&root_b, "sq");
    assert_eq!(
        img["Config"]["rootfs"]["diff_ids"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// `kiln push IMAGE oci:DIR` of a `--format docker` image converts it to OCI media types, as
/// skopeo and buildah do, so skopeo and umoci read the layout; `--format v2s2` there is refused
/// with the fix.
#[test]
fn a_docker_format_image_pushed_to_an_oci_layout_becomes_oci() {
    let Some((tmp, root)) = crate::busybox_store() else {
        return;
    };
    if !crate::have("umoci") || !crate::have("skopeo") {
        return;
    }
    let ctx = crate::build_instr::context(tmp.path(), "ctx", "FROM busybox\nRUN echo hi > /hi\n");
    let out = run(
        "kiln",
        &root,
        &[
            "build",
            "-q",
            "--format",
            "docker",
            "-t",
            "dock",
            ctx.to_str().unwrap(),
        ],
    );
    built(&out);
    let layout = tmp.path().join("layout");
    let dest = format!("oci:{}:dock", layout.display());
    ok("kiln", &root, &["push", "-q", "dock", &dest]);
    let raw = std::process::Command::new("skopeo")
        .args(["inspect", "--raw", &dest])
        .output()
        .unwrap();
    assert!(raw.status.success(), "skopeo: {}", text(&raw.stderr));
    let m: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
    assert_eq!(
        m["mediaType"], "application/vnd.oci.image.manifest.v1+json",
        "{m}"
    );
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    let out = std::process::Command::new("umoci")
        .arg("unpack")
        .arg("--image")
        .arg(format!("{}:dock", layout.display()))
        .arg(tmp.path().join("bundle"))
        .output()
        .unwrap();
    assert!(out.status.success(), "umoci: {}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("bundle/rootfs/hi")).unwrap(),
        "hi\n"
    );
    let out = run(
        "kiln",
        &root,
        &["push", "-q", "--format", "v2s2", "dock", &dest],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--format oci"),
        "{}",
        text(&out.stderr)
    );
}
