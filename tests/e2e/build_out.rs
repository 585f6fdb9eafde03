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
