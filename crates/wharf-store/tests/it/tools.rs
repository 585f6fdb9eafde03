//! Real tools read the layout the store writes: skopeo (containers/image's `oci:` transport)
//! and umoci.

use std::process::Command;

use crate::common::{commit_tiny, have_tool, temp_store};

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn skopeo_inspects_and_copies_a_stored_image() {
    if !have_tool("skopeo") {
        return;
    }
    let (dir, store) = temp_store();
    let (img, manifest) = commit_tiny(&store, "app");
    commit_tiny(&store, "docker.io/library/busybox:latest"); // a second entry to pick among
    let oci = store.oci_dir();
    let src = format!("oci:{}:localhost/app:latest", oci.display());

    let inspect: serde_json::Value =
        serde_json::from_str(&run(Command::new("skopeo").args(["inspect", &src]))).unwrap();
    assert_eq!(inspect["Digest"], manifest.to_string());
    assert_eq!(inspect["Layers"][0], img.layer.to_string());
    assert_eq!(inspect["Architecture"], "amd64");
    let raw: serde_json::Value =
        serde_json::from_str(&run(Command::new("skopeo").args(["inspect", "--raw", &src])))
            .unwrap();
    assert_eq!(serde_json::to_vec(&raw).unwrap(), img.manifest);

    let dest = dir.path().join("copy");
    run(Command::new("skopeo").args([
        "copy",
        "--quiet",
        &src,
        &format!("oci:{}:localhost/app:latest", dest.display()),
    ]));
    // Copied as is: the compressed layer blob is byte-identical (no recompression needed).
    let copied = dest.join("blobs/sha256").join(img.layer.digest());
    assert_eq!(
        std::fs::read(copied).unwrap(),
        std::fs::read(store.blob_path(&img.layer)).unwrap()
    );

    // And skopeo can write into the store's layout next to our entries, which we then read.
    run(Command::new("skopeo").args([
        "copy",
        "--quiet",
        &src,
        &format!("oci:{}:localhost/copied:1", oci.display()),
    ]));
    assert_eq!(store.resolve("copied:1").unwrap().digest(), &manifest);
    assert_eq!(store.resolve("app").unwrap().digest(), &manifest);
    assert!(store.fsck().unwrap().is_clean());
}

#[test]
fn umoci_unpacks_a_stored_image() {
    if !have_tool("umoci") {
        return;
    }
    let (dir, store) = temp_store();
    commit_tiny(&store, "app");
    let bundle = dir.path().join("bundle");
    let mut cmd = Command::new("umoci");
    cmd.arg("unpack");
    if !rustix::process::geteuid().is_root() {
        cmd.arg("--rootless");
    }
    run(cmd
        .arg("--image")
        .arg(format!(
            "{}:localhost/app:latest",
            store.oci_dir().display()
        ))
        .arg(&bundle));
    let hello = std::fs::read_to_string(bundle.join("rootfs/etc/hello")).unwrap();
    assert_eq!(hello, "hello from app\n");
    assert!(bundle.join("config.json").is_file());
}
