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
