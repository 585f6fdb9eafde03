//! `kiln build`: testdata Dockerfiles built FROM the imported busybox, as root and as an
//! unprivileged user, checked by unpacking the image with umoci and reading its config; cache
//! hits and misses; reproducibility across store roots; bad input.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::{busybox_store, have, ok, run};

fn testdata(rel: &str) -> PathBuf {
    wharf_testkit::repo_root().join("testdata/build").join(rel)
}

pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `cp -a` of a testdata context into `dir`, so that tests may change files.
pub(crate) fn copy_context(rel: &str, dir: &Path) -> PathBuf {
    let dest = dir.join(rel.replace('/', "_"));
    let st = Command::new("cp")
        .arg("-a")
        .arg(testdata(rel))
        .arg(&dest)
        .status()
        .unwrap();
    assert!(st.success());
    dest
}

/// Unpacks `name` from the store with umoci and returns the root filesystem.
pub(crate) fn unpack(root: &Path, name: &str, dir: &Path) -> PathBuf {
    let bundle = dir.join(format!("bundle-{}", name.replace([':', '/'], "_")));
    let out = Command::new("umoci")
        .arg("unpack")
        .arg("--image")
        .arg(format!("{}:{name}", root.join("oci").display()))
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(out.status.success(), "umoci unpack: {}", text(&out.stderr));
    bundle.join("rootfs")
}

pub(crate) fn inspect(root: &Path, name: &str) -> serde_json::Value {
    serde_json::from_str(&ok("kiln", root, &["inspect", name])).unwrap()
}

pub(crate) fn owner_mode(p: &Path) -> (u32, u32, u32) {
    let m = std::fs::symlink_metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    (m.uid(), m.gid(), m.permissions().mode() & 0o7777)
}

/// Checks the image `testdata/build/basic` gives.
fn check_basic_image(root: &Path, tmp: &Path) {
    let rootfs = unpack(root, "localhost/app:latest", tmp);
    let read = |p: &str| std::fs::read_to_string(rootfs.join(p)).unwrap();
    assert_eq!(read("srv/app/greeting.txt"), "hello from /srv/app\n");
    assert_eq!(read("srv/app/hello.txt"), "hello world\n");
    assert_eq!(owner_mode(&rootfs.join("srv/app/hello.txt")), (0, 0, 0o644));
    // --chown names resolved in the image's /etc/passwd and /etc/group; --chmod on everything.
    assert_eq!(
        owner_mode(&rootfs.join("srv/conf/app.conf")),
        (65534, 65534, 0o640)
    );
    assert_eq!(read("srv/conf/sub/n.conf"), "nested\n");
    // The ignore file keeps secrets out, even below a copied directory.
    assert!(!rootfs.join("srv/conf/secret.key").exists());
    assert_eq!(
        owner_mode(&rootfs.join("usr/local/bin/run.sh")),
        (0, 0, 0o755)
    );
    assert_eq!(owner_mode(&rootfs.join("var/data")), (65534, 65534, 0o755));
    // Deletions and a replaced directory reach the image as whiteouts.
    assert!(!rootfs.join("bin/vi").exists());
    assert!(rootfs.join("bin/sh").exists());
    assert_eq!(owner_mode(&rootfs.join("tmp")).2, 0o1777);

    let img = inspect(root, "app");
    let c = &img["Config"]["config"];
    assert_eq!(c["User"], "nobody");
    assert_eq!(c["WorkingDir"], "/srv/app");
    assert_eq!(
        c["Entrypoint"],
        serde_json::json!(["/usr/local/bin/run.sh"])
    );
    assert_eq!(c["Cmd"], serde_json::json!(["--serve"]));
    assert_eq!(c["StopSignal"], "SIGTERM");
    assert_eq!(c["Labels"]["org.example.title"], "kiln test");
    assert_eq!(c["Labels"]["maintainer.team"], "wharf");
    assert!(c["ExposedPorts"]["8080/tcp"].is_object());
    assert!(c["ExposedPorts"]["53/udp"].is_object());
    assert!(c["Volumes"]["/var/data"].is_object());
    let env: Vec<&str> = c["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(env.contains(&"APP_HOME=/srv/app"), "{env:?}");
    assert!(env.contains(&"LANG=C.UTF-8"), "{env:?}");
    assert!(
        !env.iter().any(|e| e.starts_with("GREETING=")),
        "ARG leaked into Env: {env:?}"
    );
    // History: the base's entry plus one per instruction; layers only where files changed.
    let history = img["Config"]["history"].as_array().unwrap();
    assert_eq!(history.len(), 1 + 15);
    let layered: Vec<&str> = history
        .iter()
        .filter(|h| h["empty_layer"] != true)
        .map(|h| h["created_by"].as_str().unwrap())
        .collect();
    assert_eq!(layered.len(), 7, "{layered:?}");
    assert!(layered[1].starts_with("WORKDIR"), "{layered:?}");
    assert_eq!(
        img["Config"]["rootfs"]["diff_ids"]
            .as_array()
            .unwrap()
            .len(),
        layered.len()
    );
}

fn cache_hits(out: &Output) -> usize {
    text(&out.stderr).matches("--> Using cache").count()
}

#[test]
fn basic_build_as_root_config_tree_and_cache() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    let ctx = copy_context("basic/ctx", tmp.path());
    let iid = tmp.path().join("iid");
    let out = run(
        "kiln",
        &root,
        &[
            "build",
            "-t",
            "app",
            "--iidfile",
            iid.to_str().unwrap(),
            ctx.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = std::fs::read_to_string(&iid).unwrap();
    assert!(
        text(&out.stdout)
            .trim_end()
            .ends_with(id.trim_start_matches("sha256:"))
    );
    assert_eq!(cache_hits(&out), 0);
    check_basic_image(&root, tmp.path());
    // Working containers are gone.
    assert_eq!(
        std::fs::read_dir(root.join("containers")).unwrap().count(),
        0
    );

    // An identical build hits every step and gives the same image ID.
    let again = run(
        "kiln",
        &root,
        &["build", "-q", "-t", "app", ctx.to_str().unwrap()],
    );
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(text(&again.stdout).trim(), id.trim_start_matches("sha256:"));

    let again = run(
        "kiln",
        &root,
        &["build", "-t", "app", ctx.to_str().unwrap()],
    );
    assert_eq!(cache_hits(&again), 15, "{}", text(&again.stderr));

    // Changing a file invalidates from the first instruction that reads it (step 7).
    std::fs::write(ctx.join("hello.txt"), "hello again\n").unwrap();
    let changed = run(
        "kiln",
        &root,
        &["build", "-t", "app2", ctx.to_str().unwrap()],
    );
    assert!(changed.status.success(), "{}", text(&changed.stderr));
    assert_eq!(cache_hits(&changed), 5, "{}", text(&changed.stderr));
    assert_ne!(
        text(&changed.stdout).trim(),
        id.trim_start_matches("sha256:")
    );
    // A change in an ignored file changes nothing.
    std::fs::write(ctx.join("ignored.txt"), "still ignored\n").unwrap();
    let ignored = run(
        "kiln",
        &root,
        &["build", "-t", "app2", ctx.to_str().unwrap()],
    );
    assert_eq!(cache_hits(&ignored), 15, "{}", text(&ignored.stderr));

    // --no-cache runs everything again.
    let fresh = run(
        "kiln",
        &root,
        &["build", "--no-cache", "-t", "app3", ctx.to_str().unwrap()],
    );
    assert!(fresh.status.success(), "{}", text(&fresh.stderr));
    assert_eq!(cache_hits(&fresh), 0);
}

#[test]
fn multistage_copies_from_a_stage_and_prunes_unused_ones() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    let ctx = testdata("multistage");
    let out = run(
        "kiln",
        &root,
        &["build", "-t", "multi", ctx.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("RUN exit 1"),
        "unused stage ran"
    );
    let out = run(
        "kiln",
        &root,
        &[
            "build",
            "--format",
            "docker",
            "-t",
            "multi-docker",
            ctx.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let img = inspect(&root, "multi-docker");
    assert_eq!(
        img["ManifestType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    let rootfs = unpack(&root, "localhost/multi:latest", tmp.path());
    // COPY --from keeps the owners and modes of the stage's files.
    assert_eq!(
        owner_mode(&rootfs.join("app/result.txt")),
        (65534, 65534, 0o600)
    );
    assert_eq!(
        std::fs::read_to_string(rootfs.join("app/result.txt")).unwrap(),
        "built\n"
    );
    assert!(rootfs.join("bin/busybox").is_file());
    assert!(
        !rootfs.join("bin/sh").exists(),
        "scratch has only what was copied"
    );

    // --target builds the named stage.
    let out = run(
        "kiln",
        &root,
        &[
            "build",
            "--target",
            "builder",
            "-t",
            "b",
            ctx.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rootfs = unpack(&root, "localhost/b:latest", tmp.path());
    assert!(rootfs.join("bin/sh").exists());
}

/// Builds FROM scratch with a busybox tree from the context: no base image, so two stores
/// share nothing but the inputs.
fn reproducible_context(dir: &Path) -> PathBuf {
    let ctx = dir.join("repro");
    wharf_testkit::busybox::make_rootfs(&ctx.join("rootfs")).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM scratch\nCOPY rootfs/ /\nENV A=1\nRUN echo made > /made.txt && mkdir /d\nCMD [\"sh\"]\n",
    )
    .unwrap();
    ctx
}

#[test]
fn timestamp_builds_are_reproducible_across_store_roots() {
    if !wharf_testkit::busybox::available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let ctx = reproducible_context(tmp.path());
    let digest = |root: &Path| {
        let out = run(
            "kiln",
            root,
            &[
                "build",
                "--timestamp",
                "1700000000",
                "-t",
                "r",
                ctx.to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let img = inspect(root, "r");
        (img["Digest"].as_str().unwrap().to_owned(), img)
    };
    let (a, img) = digest(&tmp.path().join("store-a"));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (b, _) = digest(&tmp.path().join("store-b"));
    assert_eq!(a, b);
    assert_eq!(img["Config"]["created"], "2023-11-14T22:13:20Z");
    // SOURCE_DATE_EPOCH does the same.
    let root_c = tmp.path().join("store-c");
    let out = Command::new(crate::bin("kiln"))
        .arg("--root")
        .arg(&root_c)
        .args(["build", "-t", "r", ctx.to_str().unwrap()])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(inspect(&root_c, "r")["Digest"].as_str().unwrap(), a);
}

fn assert_untagged(root: &Path, name: &str) {
    let out = run("kiln", root, &["inspect", name]);
    assert!(!out.status.success(), "{name} was tagged");
}

#[test]
fn bad_input_names_the_line_and_tags_nothing() {
    let Some((_tmp, root)) = busybox_store() else {
        return;
    };
    let dir = testdata("errors");
    let build = |file: &str, extra: &[&str]| {
        let f = dir.join(file);
        let mut args = vec!["build", "-t", "broken", "-f", f.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.push(dir.to_str().unwrap());
        run("kiln", &root, &args)
    };
    let out = build("missing-source.Dockerfile", &[]);
    assert_eq!(out.status.code(), Some(125));
    let err = text(&out.stderr);
    assert!(
        err.contains("missing-source.Dockerfile:3: COPY does-not-exist.txt /"),
        "{err}"
    );
    assert!(
        err.contains("\"does-not-exist.txt\" not found in the build context"),
        "{err}"
    );
    assert_untagged(&root, "broken");

    let out = build("failing-run.Dockerfile", &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("failing-run.Dockerfile:3: RUN echo boom-output; exit 3"),
        "{err}"
    );
    assert!(err.contains("exited with status 3"), "{err}");
    assert!(text(&out.stdout).contains("boom-output"));
    assert_untagged(&root, "broken");

    let out = build("unknown-stage.Dockerfile", &[]);
    assert_eq!(out.status.code(), Some(125));
    let err = text(&out.stderr);
    assert!(err.contains("unknown-stage.Dockerfile:2:"), "{err}");
    assert!(err.contains("\"nosuchstage\" not found"), "{err}");
    assert_untagged(&root, "broken");

    // COPY --from with a wildcard: matched in the stage's root; no match at all is an error
    // naming the line. (Several matches to a non-directory destination are copied one after
    // the other, as BuildKit does: the equivalence case copy-several-to-file.)
    let out = build("from-wildcard-none.Dockerfile", &[]);
    assert_eq!(out.status.code(), Some(125));
    let err = text(&out.stderr);
    assert!(
        err.contains("from-wildcard-none.Dockerfile:4: COPY --from=src /out/*.md /w/"),
        "{err}"
    );
    assert!(
        err.contains("no source file matched in src: \"/out/*.md\" not found"),
        "{err}"
    );
    assert_untagged(&root, "broken");

    let out = build("failing-run.Dockerfile", &["--target", "nope"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("nope"), "{}", text(&out.stderr));
    assert_untagged(&root, "broken");

    // --platform: the host's own is built (this build then fails at its RUN, exit 3); another
    // platform, alone or in a list, refuses the local base made for the host, naming both.
    let (host, other) = match std::env::consts::ARCH {
        "aarch64" => ("linux/arm64", "linux/amd64"),
        _ => ("linux/amd64", "linux/arm64"),
    };
    let out = build("failing-run.Dockerfile", &["--platform", host]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let out = build("failing-run.Dockerfile", &["--platform", other]);
    assert_eq!(out.status.code(), Some(125));
    let err = text(&out.stderr);
    assert!(
        err.contains("failing-run.Dockerfile:1: FROM busybox")
            && err.contains(&format!("is for {host}"))
            && err.contains(&format!("not {other}")),
        "{err}"
    );
    let both = format!("{host},{other}");
    let out = build("failing-run.Dockerfile", &["--platform", &both]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let out = build(
        "failing-run.Dockerfile",
        &["--platform", "linux/amd64,linux/amd64"],
    );
    assert_eq!(out.status.code(), Some(125));
    assert!(
        text(&out.stderr).contains("named twice"),
        "{}",
        text(&out.stderr)
    );
    assert_untagged(&root, "broken");
    // Nothing left behind.
    assert_eq!(
        std::fs::read_dir(root.join("containers")).unwrap().count(),
        0
    );
}

#[test]
fn rootless_build_as_unprivileged_user() {
    let Some(user) = wharf_testkit::user::test_user() else {
        eprintln!("SKIP: no unprivileged test user (needs root to create it)");
        return;
    };
    if !wharf_testkit::busybox::available() || !have("umoci") {
        return;
    }
    let tmp = tempfile::Builder::new()
        .prefix("kiln-rootless")
        .tempdir_in("/tmp")
        .unwrap();
    let tar = wharf_testkit::busybox::rootfs_tar(tmp.path()).unwrap();
    let ctx = copy_context("basic/ctx", tmp.path());
    let root = tmp.path().join("store");
    user.chown(tmp.path());
    let as_user = |bin: &str, args: &[&str]| {
        let out = user
            .command(crate::bin(bin))
            .arg("--root")
            .arg(&root)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{bin} {args:?} as {}: {}",
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
    as_user("kiln", &["build", "-t", "app", ctx.to_str().unwrap()]);
    check_basic_image(&root, tmp.path());
    let again = as_user("kiln", &["build", "-t", "app", ctx.to_str().unwrap()]);
    assert_eq!(cache_hits(&again), 15, "{}", text(&again.stderr));
}

/// A base image (imported by root) holding a device node: a rootless build skips the node
/// when it unpacks the layer and says so once, on one line naming the count and a path.
#[test]
fn rootless_build_warns_about_skipped_device_nodes() {
    let Some(user) = wharf_testkit::user::test_user() else {
        eprintln!("SKIP: no unprivileged test user (needs root to create it)");
        return;
    };
    let tmp = tempfile::Builder::new()
        .prefix("kiln-devs")
        .tempdir_in("/tmp")
        .unwrap();
    let rootfs = tmp.path().join("devroot");
    std::fs::create_dir_all(rootfs.join("srv")).unwrap();
    std::fs::write(rootfs.join("srv/kept.txt"), "kept\n").unwrap();
    let mk = Command::new("mknod")
        .arg(rootfs.join("srv/null"))
        .args(["c", "1", "3"])
        .status()
        .unwrap();
    assert!(mk.success(), "mknod as root");
    let tar = tmp.path().join("dev-layer.tar");
    let st = Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .arg("-cf")
        .arg(&tar)
        .args(["--numeric-owner", "--owner=0", "--group=0", "."])
        .status()
        .unwrap();
    assert!(st.success());
    let root = tmp.path().join("store");
    ok("berth", &root, &["import", tar.to_str().unwrap(), "devs"]);
    let ctx = tmp.path().join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM devs\nCOPY a.txt /srv/a.txt\n").unwrap();
    std::fs::write(ctx.join("a.txt"), "a\n").unwrap();
    user.chown(tmp.path());
    let build = |tag: &str| {
        let out = user
            .command(crate::bin("kiln"))
            .arg("--root")
            .arg(&root)
            .args(["build", "--no-cache", "-t", tag, ctx.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stderr)
    };
    let err = build("app");
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("device node")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].starts_with("WARN: layer sha256:")
            && warnings[0].contains("skipped 1 device node(s)")
            && warnings[0].contains("/srv/null"),
        "{err}"
    );
    // The layer stays unpacked: the next build has nothing to skip and says nothing.
    let err = build("app2");
    assert!(!err.contains("device node"), "{err}");

    // `kiln from` unpacks the base at once, as buildah does, and says the same.
    let root2 = tmp.path().join("store2");
    ok("berth", &root2, &["import", tar.to_str().unwrap(), "devs"]);
    user.chown(tmp.path());
    let out = user
        .command(crate::bin("kiln"))
        .arg("--root")
        .arg(&root2)
        .args(["from", "devs"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("device node")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(warnings[0].contains("/srv/null"), "{err}");
    assert_eq!(text(&out.stdout).trim(), "devs-working-container");
}

#[test]
fn add_unpacks_archives_and_heredoc_runs() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    let ctx = copy_context("add", tmp.path());
    let src = tmp.path().join("bundle-src/bundle");
    std::fs::create_dir_all(src.join("lib")).unwrap();
    std::fs::write(src.join("lib/a.txt"), "archived\n").unwrap();
    let st = Command::new("tar")
        .arg("-C")
        .arg(src.parent().unwrap())
        .args(["--numeric-owner", "--owner=7", "--group=8", "-czf"])
        .arg(ctx.join("bundle.tar.gz"))
        .arg("bundle")
        .status()
        .unwrap();
    assert!(st.success());
    let out = run(
        "kiln",
        &root,
        &[
            "build",
            "--format",
            "docker",
            "-t",
            "add",
            ctx.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(
        "kiln",
        &root,
        &["build", "-t", "add-oci", ctx.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("Healthcheck, Shell not supported for the OCI image format"),
        "{}",
        text(&out.stderr)
    );
    let docker = inspect(&root, "add");
    let c = &docker["Config"]["config"];
    assert_eq!(
        c["Healthcheck"]["Test"],
        serde_json::json!(["CMD", "/bin/true"])
    );
    assert_eq!(c["Healthcheck"]["Interval"], 30_000_000_000_i64);
    assert_eq!(c["Shell"], serde_json::json!(["/bin/sh", "-ec"]));

    let rootfs = unpack(&root, "localhost/add-oci:latest", tmp.path());
    let read = |p: &str| std::fs::read_to_string(rootfs.join(p)).unwrap();
    assert_eq!(read("opt/bundle/lib/a.txt"), "archived\n");
    assert_eq!(owner_mode(&rootfs.join("opt/bundle/lib/a.txt")).0, 7);
    assert_eq!(read("opt/notes-renamed.txt"), "some notes\n");
    assert_eq!(owner_mode(&rootfs.join("opt/notes-renamed.txt")).2, 0o600);
    assert!(rootfs.join("opt/followed.txt").is_file());
    assert!(!rootfs.join("opt/followed.txt").is_symlink());
    assert_eq!(read("opt/heredoc.txt"), "from heredoc\n");
    assert_eq!(read("opt/listing.txt"), "lib\n");
}

#[test]
fn build_check_reports_lint_findings_without_building() {
    let tmp = tempfile::tempdir().unwrap();
    let ctx = tmp.path().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox AS Builder\nMAINTAINER someone\nCMD echo hi\n",
    )
    .unwrap();
    let root = tmp.path().join("store");
    let out = crate::run(
        "kiln",
        &root,
        &["build", "--check", "-t", "checked", ctx.to_str().unwrap()],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for rule in [
        "StageNameCasing",
        "MaintainerDeprecated",
        "JSONArgsRecommended",
    ] {
        assert!(text.contains(rule), "{rule} missing from:\n{text}");
    }
    // Nothing was built: the store has no image of that name.
    let images = crate::run("kiln", &root, &["images", "--format", "{{.Repository}}"]);
    assert!(!String::from_utf8_lossy(&images.stdout).contains("checked"));
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nCMD [\"sh\"]\n").unwrap();
    let out = crate::run("kiln", &root, &["build", "--check", ctx.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a clean Dockerfile passes: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}
