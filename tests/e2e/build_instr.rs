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
