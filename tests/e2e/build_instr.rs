//! `kiln build` instructions and flags beyond the basics: FROM pulled from a registry (pull
//! policies, short-name resolution, TLS and credentials, rootless), ONBUILD, labels,
//! annotations and build-arg files. Each test reads the resulting image. RUN --mount is in
//! `build_mounts`, COPY/ADD options in `build_copy`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use wharf_testkit::registry::Registry;

use crate::build::{inspect, text, unpack};
use crate::{bin, busybox_store, have, ok};

/// Runs kiln against `root` with extra environment variables.
pub(crate) fn kiln_env(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
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

pub(crate) fn kiln_ok(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
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
pub(crate) fn context(dir: &Path, name: &str, dockerfile: &str) -> PathBuf {
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
    // ... then registries.conf's unqualified-search registries, `insecure` honoured. The name
    // must be one no alias names: the machine's /etc/containers/registries.conf.d drop-ins are
    // read whatever CONTAINERS_REGISTRIES_CONF says (as buildah does), and Debian's
    // shortnames.conf aliases busybox to docker.io.
    ok(
        "ferry",
        &seed,
        &[
            "copy",
            "--dest-tls-verify=false",
            "store:localhost/busybox:latest",
            &format!("docker://{a}/wharfshort:latest"),
        ],
    );
    let short = context(
        tmp.path(),
        "short2",
        "FROM wharfshort\nRUN echo short > /s.txt\n",
    );
    let short = short.to_str().unwrap();
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
        text(&out.stderr).contains(&format!("Pulling docker://{a}/wharfshort:latest")),
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

/// A build step's root is mounted `volatile` (its upper directory becomes a layer blob or is
/// thrown away), so its unmount does not sync the whole filesystem under the store; a
/// working container, which lives on across commands, is mounted without it.
#[test]
fn build_steps_are_mounted_volatile_and_working_containers_are_not() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let ctx = context(
        tmp.path(),
        "volatile",
        "FROM busybox\nRUN awk '$5 == \"/\"' /proc/self/mountinfo > /root-mount\n",
    );
    kiln_ok(
        &root,
        &["build", "-q", "-t", "vol", ctx.to_str().unwrap()],
        &[],
    );
    let ctr = text(&kiln_ok(&root, &["from", "vol"], &[]).stdout)
        .trim()
        .to_owned();
    let line = text(&kiln_ok(&root, &["run", &ctr, "--", "cat", "/root-mount"], &[]).stdout);
    assert!(line.contains("upperdir="), "{line}");
    assert!(line.contains("volatile"), "build step root: {line}");
    let line = text(
        &kiln_ok(
            &root,
            &[
                "run",
                &ctr,
                "--",
                "awk",
                "$5 == \"/\"",
                "/proc/self/mountinfo",
            ],
            &[],
        )
        .stdout,
    );
    assert!(line.contains("upperdir="), "{line}");
    assert!(!line.contains("volatile"), "working container root: {line}");
    kiln_ok(&root, &["rm", &ctr], &[]);
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

/// The config flags CI scripts pass to buildah (`--env`, `--unsetenv`, `--unsetlabel`,
/// `--omit-history`), BuildKit's `--metadata-file`, `--logfile`, `--skip-unused-stages` and
/// `--os/--arch`, run as a user would.
#[test]
fn config_edits_metadata_file_logfile_and_stage_selection() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let ctx = context(
        tmp.path(),
        "edits",
        "FROM busybox AS broken\nRUN exit 7\n\
         FROM busybox\nLABEL drop=me keep=me\nENV E1=x E2=y E3=z\nRUN echo hi > /hi\n",
    );
    let ctx_s = ctx.to_str().unwrap();
    let meta = tmp.path().join("meta.json");
    let log = tmp.path().join("build.log");
    let out = kiln_ok(
        &root,
        &[
            "build",
            "-t",
            "edits",
            "--env",
            "E1=new",
            "--env",
            "ADDED=1",
            "--env",
            "FROM_HOST",
            "--unsetenv",
            "E2",
            "--unsetlabel",
            "drop",
            "--omit-history",
            "--metadata-file",
            meta.to_str().unwrap(),
            "--logfile",
            log.to_str().unwrap(),
            "--arch",
            "amd64",
            ctx_s,
        ],
        &[("FROM_HOST", "host-value")],
    );
    // Progress went to the log file, not standard error; the unused broken stage was skipped.
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("STEP 4/4: RUN echo hi > /hi"), "{logged}");
    assert!(!text(&out.stderr).contains("STEP"), "{}", text(&out.stderr));
    let image = inspect(&root, "edits");
    let config = &image["Config"];
    let env: Vec<&str> = config["config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(env.contains(&"E1=new") && env.contains(&"E3=z"), "{env:?}");
    assert!(
        env.contains(&"ADDED=1") && env.contains(&"FROM_HOST=host-value"),
        "{env:?}"
    );
    assert!(!env.iter().any(|e| e.starts_with("E2=")), "{env:?}");
    let labels = &config["config"]["Labels"];
    assert_eq!(labels["keep"], "me");
    assert!(labels.get("drop").is_none(), "{labels}");
    assert!(
        config["history"].as_array().is_none_or(Vec::is_empty),
        "{}",
        config["history"]
    );
    assert_eq!(config["architecture"], "amd64");
    // BuildKit's metadata JSON names the manifest, its descriptor, the config and the name.
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&meta).unwrap()).unwrap();
    let manifest = manifest_json(&root, "edits");
    assert_eq!(m["image.name"], "localhost/edits:latest", "{m}");
    assert_eq!(
        m["containerimage.config.digest"], manifest["config"]["digest"],
        "{m}"
    );
    let digest = m["containerimage.digest"].as_str().unwrap();
    assert!(digest.starts_with("sha256:"), "{m}");
    assert_eq!(m["containerimage.descriptor"]["digest"], digest);
    // --skip-unused-stages=false builds the broken stage too: its RUN fails the build.
    let out = kiln_env(
        &root,
        &["build", "-q", "--skip-unused-stages=false", ctx_s],
        &[],
    );
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
}

/// `--build-context NAME=DIR` and `NAME=docker-image://REF`: `COPY --from=NAME` reads the
/// directory (its own .dockerignore applies) or the image, and `FROM NAME` takes the image,
/// over a stage of that name; other sources are refused with the reason.
#[test]
fn named_build_contexts_feed_copy_from_and_from() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    let ctx = context(
        tmp.path(),
        "main",
        "FROM busybox AS tools\nRUN exit 9\n\
         FROM base\nCOPY --from=assets . /assets/\nCOPY --from=tools /bin/busybox /copied-busybox\n",
    );
    let assets = tmp.path().join("assets");
    std::fs::create_dir_all(assets.join("css")).unwrap();
    std::fs::write(assets.join("css/site.css"), "body{}\n").unwrap();
    std::fs::write(assets.join("secret.key"), "no\n").unwrap();
    std::fs::write(assets.join(".dockerignore"), "*.key\n").unwrap();
    let assets_ctx = format!("assets={}", assets.display());
    kiln_ok(
        &root,
        &[
            "build",
            "-q",
            "-t",
            "named",
            "--build-context",
            &assets_ctx,
            "--build-context",
            "base=docker-image://busybox",
            "--build-context",
            "tools=docker-image://busybox",
            ctx.to_str().unwrap(),
        ],
        &[],
    );
    let rootfs = unpack(&root, "localhost/named:latest", tmp.path());
    assert_eq!(
        std::fs::read_to_string(rootfs.join("assets/css/site.css")).unwrap(),
        "body{}\n"
    );
    assert!(
        !rootfs.join("assets/secret.key").exists(),
        "the named context's ignore file"
    );
    // `tools` is the image, not the stage of that name (whose failing RUN never ran).
    assert!(rootfs.join("copied-busybox").is_file());
    for bad in [
        "x=https://example.com/ctx.tar",
        "x=oci-layout:///tmp/l",
        "novalue",
    ] {
        let out = kiln_env(
            &root,
            &["build", "-q", "--build-context", bad, ctx.to_str().unwrap()],
            &[],
        );
        assert!(!out.status.success(), "{bad}");
        assert!(
            text(&out.stderr).contains("build-context"),
            "{}",
            text(&out.stderr)
        );
    }
}

/// `--source-date-epoch` (buildah 1.38): the created times of the image and its history, and
/// `$SOURCE_DATE_EPOCH` for the Dockerfile; file times are clamped only with
/// `--rewrite-timestamp`.
#[test]
fn source_date_epoch_and_rewrite_timestamp() {
    use std::os::unix::fs::MetadataExt;
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    let ctx = context(
        tmp.path(),
        "sde",
        "FROM busybox\nARG SOURCE_DATE_EPOCH\nRUN echo \"$SOURCE_DATE_EPOCH\" > /sde.txt\n",
    );
    let ctx_s = ctx.to_str().unwrap();
    for (name, rewrite) in [("kept", false), ("rewritten", true)] {
        let mut args = vec![
            "build",
            "-q",
            "-t",
            name,
            "--source-date-epoch",
            "1000000000",
        ];
        if rewrite {
            args.push("--rewrite-timestamp");
        }
        args.push(ctx_s);
        let out = kiln_ok(&root, &args, &[]);
        assert!(
            !text(&out.stderr).contains("not consumed"),
            "{}",
            text(&out.stderr)
        );
        let config = &inspect(&root, name)["Config"];
        assert_eq!(config["created"], "2001-09-09T01:46:40Z", "{config}");
        let history = config["history"].as_array().unwrap();
        assert_eq!(history.last().unwrap()["created"], "2001-09-09T01:46:40Z");
        let rootfs = unpack(&root, &format!("localhost/{name}:latest"), tmp.path());
        assert_eq!(
            std::fs::read_to_string(rootfs.join("sde.txt")).unwrap(),
            "1000000000\n"
        );
        let mtime = std::fs::metadata(rootfs.join("sde.txt")).unwrap().mtime();
        assert_eq!(mtime <= 1_000_000_000, rewrite, "{name}: mtime {mtime}");
    }
}

/// `--cap-drop`/`--cap-add` change what RUN may do; `--disable-compression` and
/// `--compression-format zstd` change the new layers' media types.
#[test]
fn run_capabilities_and_layer_compression() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    let ctx = context(
        tmp.path(),
        "caps",
        "FROM busybox\nRUN grep CapEff /proc/self/status > /caps.txt\n",
    );
    let ctx_s = ctx.to_str().unwrap();
    let caps = |name: &str, extra: &[&str]| {
        let mut args = vec!["build", "-q", "-t", name];
        args.extend_from_slice(extra);
        args.push(ctx_s);
        kiln_ok(&root, &args, &[]);
        let rootfs = unpack(&root, &format!("localhost/{name}:latest"), tmp.path());
        std::fs::read_to_string(rootfs.join("caps.txt")).unwrap()
    };
    let default = caps("caps-default", &[]);
    let none = caps("caps-none", &["--cap-drop", "all"]);
    assert_eq!(
        none.split_whitespace().nth(1),
        Some("0000000000000000"),
        "{none}"
    );
    assert_ne!(default, none);
    let one = caps("caps-one", &["--cap-drop", "all", "--cap-add", "CAP_CHOWN"]);
    assert_eq!(
        one.split_whitespace().nth(1),
        Some("0000000000000001"),
        "{one}"
    );
    let out = kiln_env(&root, &["build", "--cap-add", "CAP_NOPE", ctx_s], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("CAP_NOPE"),
        "{}",
        text(&out.stderr)
    );

    for (name, flags, media) in [
        (
            "plain",
            &["--disable-compression"][..],
            "application/vnd.oci.image.layer.v1.tar",
        ),
        (
            "zstd",
            &["--compression-format", "zstd"][..],
            "application/vnd.oci.image.layer.v1.tar+zstd",
        ),
    ] {
        let mut args = vec!["build", "-q", "-t", name];
        args.extend_from_slice(flags);
        args.push(ctx_s);
        kiln_ok(&root, &args, &[]);
        let m = manifest_json(&root, name);
        let layers = m["layers"].as_array().unwrap();
        assert_eq!(layers.last().unwrap()["mediaType"], media, "{m}");
    }
}

/// `--add-host HOST:IP` adds a line to RUN's /etc/hosts; `--no-hosts` generates none (the base
/// has no /etc/hosts, so RUN sees none), and neither leaves a file in the layer.
#[test]
fn add_host_and_no_hosts() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    let ctx = context(
        tmp.path(),
        "hosts",
        "FROM busybox\nRUN (cat /etc/hosts 2>/dev/null || echo no-hosts-file) > /seen.txt\n",
    );
    let ctx_s = ctx.to_str().unwrap();
    kiln_ok(
        &root,
        &[
            "build",
            "-q",
            "-t",
            "added",
            "--add-host",
            "db.internal:10.1.2.3",
            ctx_s,
        ],
        &[],
    );
    let rootfs = unpack(&root, "localhost/added:latest", tmp.path());
    let seen = std::fs::read_to_string(rootfs.join("seen.txt")).unwrap();
    assert!(seen.contains("10.1.2.3\tdb.internal"), "{seen}");
    assert!(seen.contains("localhost"), "{seen}");
    assert!(!rootfs.join("etc/hosts").exists());
    kiln_ok(
        &root,
        &["build", "-q", "-t", "nohosts", "--no-hosts", ctx_s],
        &[],
    );
    let rootfs = unpack(&root, "localhost/nohosts:latest", tmp.path());
    assert_eq!(
        std::fs::read_to_string(rootfs.join("seen.txt")).unwrap(),
        "no-hosts-file\n"
    );
    let out = kiln_env(&root, &["build", "--add-host", "nohost", ctx_s], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--add-host"),
        "{}",
        text(&out.stderr)
    );
}
