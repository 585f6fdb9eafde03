//! Security finding 11: a decompression bomb. 1 GiB of zeros compresses to about 1 MB of
//! gzip; pulled and unpacked, it expanded without limit (2 MB became 2 GiB on disk). By default
//! a layer may expand at most 100 times past 512 MiB (`WHARF_LAYER_MAX_RATIO`), or to a size
//! given by `WHARF_LAYER_MAX_SIZE`; past that the unpack stops with an error naming the layer,
//! and nothing of it stays in the store.

use std::path::Path;
use std::process::Command;

use wharf_testkit::registry::Registry;

use crate::text;
use crate::{bin, busybox_store, ok};

/// The unpacked layers of a store (finished or half-written).
fn layer_dirs(root: &Path) -> usize {
    let count = |d: &Path| std::fs::read_dir(d).map_or(0, Iterator::count);
    count(&root.join("layers")) + count(&root.join("tmp"))
}

#[test]
fn a_decompression_bomb_is_refused_at_unpack() {
    let (tmp, store) = busybox_store().expect("busybox-static is installed on CI");
    let reg = Registry::start_plain().expect("docker-registry is installed on CI");
    // The bomb: a 1 GiB file of zeros (sparse, so the context costs nothing on disk), built
    // into a layer by kiln itself, pushed to a real registry.
    let ctx = tmp.path().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::File::create(ctx.join("zeros"))
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM localhost/busybox\nCOPY zeros /zeros\n",
    )
    .unwrap();
    ok(
        "kiln",
        &store,
        &["build", "-q", "-t", "bomb", ctx.to_str().unwrap()],
    );
    let image = format!("{}/hostile/bomb:1", reg.addr());
    ok(
        "ferry",
        &store,
        &[
            "copy",
            "--dest-tls-verify=false",
            "store:localhost/bomb:latest",
            &format!("docker://{image}"),
        ],
    );

    let victim = tmp.path().join("victim");
    let run = |envs: &[(&str, &str)]| {
        let mut cmd = Command::new(bin("berth"));
        cmd.arg("--root")
            .arg(&victim)
            .args(["run", "--rm", "--tls-verify=false", &image, "true"])
            .env_remove("WHARF_ROOT")
            .env_remove("WHARF_LAYER_MAX_RATIO")
            .env_remove("WHARF_LAYER_MAX_SIZE");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };

    // The default limits refuse it.
    let out = run(&[]);
    let err = text(&out.stderr);
    assert!(!out.status.success(), "the bomb was unpacked: {err}");
    assert!(
        err.contains("decompression bomb") && err.contains("WHARF_LAYER_MAX_RATIO"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    eprintln!("refused as expected:\n{err}");
    // Layers unpack while they download (issue 15): the refused pull leaves nothing of the
    // image, not even the base layer that unpacked before the bomb was met.
    assert_eq!(
        layer_dirs(&victim),
        0,
        "nothing of the refused image is kept"
    );

    // A size limit, set by the user, is as clear.
    let out = run(&[("WHARF_LAYER_MAX_SIZE", "64M")]);
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("WHARF_LAYER_MAX_SIZE"), "{err}");

    // Without limits (an image the user trusts) it unpacks: the test can fail.
    let out = run(&[("WHARF_LAYER_MAX_RATIO", "0")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}
