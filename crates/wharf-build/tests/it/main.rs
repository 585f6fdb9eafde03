//! Integration tests of the build engine through its library API, without the `kiln` binary:
//! what a build puts in the store, the cache, reproducibility, `import`'s `--change` rules and a
//! RUN step in the sandbox. The e2e suite (`tests/e2e/build*.rs`) compares the same engine
//! with buildah through the command line.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use wharf_build::import::{ImportOptions, import};
use wharf_build::output::Output;
use wharf_build::{BuildOptions, Event, build};
use wharf_oci::{ImageConfig, RawManifest};
use wharf_store::Store;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn context(dir: &Path, dockerfile: &str) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Dockerfile"), dockerfile).unwrap();
    std::fs::write(dir.join("src/a.txt"), "alpha\n").unwrap();
    std::fs::write(dir.join("src/b.txt"), "beta\n").unwrap();
}

fn config_of(store: &Store, name: &str) -> ImageConfig {
    let record = store.resolve(name).unwrap();
    let raw = RawManifest::parse(store.read_small(record.digest()).unwrap(), None).unwrap();
    store
        .read_json(raw.image().unwrap().config().digest())
        .unwrap()
}

const SCRATCH: &str = "FROM scratch\nCOPY src/ /app/\nENV A=1 B=two\nLABEL team=wharf\n\
                       WORKDIR /app\nCMD [\"/app/a.txt\"]\n";

#[test]
fn a_scratch_build_is_stored_cached_and_reproducible() {
    let rt = runtime();
    let tmp = tempfile::tempdir().unwrap();
    let ctx = tmp.path().join("ctx");
    context(&ctx, SCRATCH);
    let store = Store::open(tmp.path().join("store")).unwrap();
    let mut opts = BuildOptions::new(&ctx, rt.handle().clone());
    opts.tags.push("app".into());
    opts.timestamp = Some(1_700_000_000);
    let mut steps = 0;
    let first = build(&store, &opts, &mut |e| {
        if matches!(e, Event::Step { .. }) {
            steps += 1;
        }
    })
    .unwrap();
    assert_eq!(steps, 6, "one step event per instruction, FROM included");
    assert_eq!(first.cached, 0);

    let config = config_of(&store, "localhost/app");
    let c = config.config.clone().unwrap();
    // BuildKit gives FROM scratch images the default PATH (issue 14 §5).
    assert_eq!(
        c.env.unwrap(),
        [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "A=1",
            "B=two"
        ]
    );
    assert_eq!(c.labels.unwrap()["team"], "wharf");
    assert_eq!(c.working_dir.as_deref(), Some("/app"));
    assert_eq!(config.created.as_deref(), Some("2023-11-14T22:13:20Z"));

    // Again in the same store: every step from the cache, the same image.
    let mut hits = 0;
    let again = build(&store, &opts, &mut |e| {
        if matches!(e, Event::CacheHit { .. }) {
            hits += 1;
        }
    })
    .unwrap();
    assert_eq!(again.image_id, first.image_id);
    assert!(hits >= 1 && again.cached >= 1, "cache unused: {again:?}");

    // In another store with the same timestamp: the same manifest, byte for byte.
    let other = Store::open(tmp.path().join("other")).unwrap();
    let elsewhere = build(&other, &opts, &mut |_| {}).unwrap();
    assert_eq!(elsewhere.manifest, first.manifest);

    // The image's files, written out as `--output type=local` does.
    let out = tmp.path().join("out");
    Output::parse(&format!("type=local,dest={}", out.display()))
        .unwrap()
        .write(&store, &first.manifest, &[], rt.handle())
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(out.join("app/b.txt")).unwrap(),
        "beta\n"
    );
}

#[test]
fn a_failed_instruction_names_the_step_and_leaves_no_image() {
    let rt = runtime();
    let tmp = tempfile::tempdir().unwrap();
    let ctx = tmp.path().join("ctx");
    context(&ctx, "FROM scratch\nCOPY missing.txt /x\n");
    let store = Store::open(tmp.path().join("store")).unwrap();
    let mut opts = BuildOptions::new(&ctx, rt.handle().clone());
    opts.tags.push("broken".into());
    let e = build(&store, &opts, &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("missing.txt"), "{e}");
    assert!(store.resolve("localhost/broken").is_err());
}

#[test]
fn import_applies_changes_with_the_dockerfile_rules_and_run_sees_them() {
    assert!(
        wharf_testkit::busybox::available(),
        "busybox-static is not installed: apt-get install busybox-static"
    );
    let rt = runtime();
    let tmp = tempfile::tempdir().unwrap();
    let tar = wharf_testkit::busybox::rootfs_tar(tmp.path()).unwrap();
    let store = Store::open(tmp.path().join("store")).unwrap();
    let opts = ImportOptions {
        changes: vec![
            "ENV GREETING=hello".into(),
            "WORKDIR=/srv".into(),
            "LABEL a=\"quoted value\"".into(),
        ],
        message: Some("imported".into()),
        created: Some("2024-01-02T03:04:05Z".into()),
    };
    let imported = import(
        &store,
        std::fs::File::open(&tar).unwrap(),
        &["localhost/box:1".to_owned()],
        &opts,
    )
    .unwrap();
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    let c = config_of(&store, "localhost/box:1").config.unwrap();
    assert_eq!(c.working_dir.as_deref(), Some("/srv"));
    assert_eq!(c.labels.unwrap()["a"], "quoted value");
    assert!(c.env.unwrap().contains(&"GREETING=hello".to_owned()));
    let bad = ImportOptions {
        changes: vec!["RUN rm -rf /".into()],
        ..ImportOptions::default()
    };
    let e = import(&store, std::fs::File::open(&tar).unwrap(), &[], &bad)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("RUN rm -rf /") && e.contains("CMD, ENTRYPOINT"),
        "{e}"
    );

    // RUN in the sandbox sees the imported ENV and WORKDIR; its output is in the layer.
    let ctx = tmp.path().join("ctx");
    context(
        &ctx,
        "FROM localhost/box:1\nRUN echo \"$GREETING from $(pwd)\" > /greeting\n",
    );
    let mut bopts = BuildOptions::new(&ctx, rt.handle().clone());
    bopts.tags.push("ran".into());
    let built = build(&store, &bopts, &mut |_| {}).unwrap();
    let out = tmp.path().join("out");
    Output::parse(&format!("type=local,dest={}", out.display()))
        .unwrap()
        .write(&store, &built.manifest, &[], rt.handle())
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(out.join("greeting")).unwrap(),
        "hello from /srv\n"
    );
}
