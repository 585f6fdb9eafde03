//! Images in the store: import, list, inspect, tag, remove, check, prune — and what we write is
//! valid by the OCI schemas and read by skopeo and umoci.

use std::process::Command;

use serde_json::Value;
use wharf_testkit::schema::{Kind, validate, validate_bytes};

use crate::{busybox_store, have, ok, run};

fn blob(root: &std::path::Path, digest: &str) -> Vec<u8> {
    let (alg, hex) = digest.split_once(':').unwrap();
    std::fs::read(root.join("oci/blobs").join(alg).join(hex)).unwrap()
}

#[test]
fn imported_image_is_listed_inspected_and_schema_valid() {
    let Some((_tmp, root)) = busybox_store() else {
        return;
    };
    let table = ok("kiln", &root, &["images"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("REPOSITORY") && lines[0].contains("IMAGE ID"),
        "{table}"
    );
    assert!(
        lines[1].starts_with("localhost/busybox") && lines[1].contains("latest"),
        "{table}"
    );

    let json: Value =
        serde_json::from_str(&ok("kiln", &root, &["images", "--format", "json"])).unwrap();
    let img = &json[0];
    assert_eq!(img["names"][0], "localhost/busybox:latest");
    let id = img["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 64);

    let inspect: Value = serde_json::from_str(&ok("kiln", &root, &["inspect", "busybox"])).unwrap();
    assert_eq!(inspect["Id"], id.as_str());
    assert_eq!(inspect["Config"]["config"]["Cmd"][0], "sh");
    let templ = ok(
        "berth",
        &root,
        &["images", "--format", "{{.Repository}}:{{.Tag}}"],
    );
    assert_eq!(templ.trim(), "localhost/busybox:latest");

    // Everything the store wrote validates against the image-spec schemas.
    validate_bytes(
        Kind::Layout,
        &std::fs::read(root.join("oci/oci-layout")).unwrap(),
    )
    .unwrap();
    let index: Value =
        serde_json::from_slice(&std::fs::read(root.join("oci/index.json")).unwrap()).unwrap();
    validate(Kind::Index, &index).unwrap();
    let mdigest = index["manifests"][0]["digest"].as_str().unwrap();
    let manifest = blob(&root, mdigest);
    validate_bytes(Kind::Manifest, &manifest).unwrap();
    let manifest: Value = serde_json::from_slice(&manifest).unwrap();
    validate_bytes(
        Kind::Config,
        &blob(&root, manifest["config"]["digest"].as_str().unwrap()),
    )
    .unwrap();
    assert_eq!(
        manifest["config"]["digest"].as_str().unwrap(),
        format!("sha256:{id}")
    );
}

#[test]
fn tag_rmi_check_and_prune() {
    let Some((_tmp, root)) = busybox_store() else {
        return;
    };
    ok(
        "kiln",
        &root,
        &["tag", "busybox", "other:v1", "quay.io/x/y:z"],
    );
    let names = ok(
        "kiln",
        &root,
        &["images", "--format", "{{.Repository}}:{{.Tag}}"],
    );
    for n in [
        "localhost/busybox:latest",
        "localhost/other:v1",
        "quay.io/x/y:z",
    ] {
        assert!(names.contains(n), "{n} missing from {names}");
    }
    let out = ok("kiln", &root, &["rmi", "other:v1"]);
    assert!(out.contains("untagged: localhost/other:v1"), "{out}");
    assert!(ok("kiln", &root, &["system", "check"]).contains(": ok"));

    // Corrupt a blob: check must find it and fail.
    let index: Value =
        serde_json::from_slice(&std::fs::read(root.join("oci/index.json")).unwrap()).unwrap();
    let manifest: Value = serde_json::from_slice(&blob(
        &root,
        index["manifests"][0]["digest"].as_str().unwrap(),
    ))
    .unwrap();
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    let (alg, hex) = layer.split_once(':').unwrap();
    let path = root.join("oci/blobs").join(alg).join(hex);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let out = run("kiln", &root, &["system", "check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(hex),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Removing every image and pruning leaves no blobs behind.
    ok("kiln", &root, &["rmi", "--all"]);
    ok("kiln", &root, &["system", "prune"]);
    let left = std::fs::read_dir(root.join("oci/blobs/sha256"))
        .unwrap()
        .count();
    assert_eq!(left, 0, "blobs left after rmi --all + prune");
    let out = run("kiln", &root, &["inspect", "busybox"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
}

#[test]
fn real_tools_read_the_store() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let reference = format!(
        "oci:{}:localhost/busybox:latest",
        root.join("oci").display()
    );
    if have("skopeo") {
        let out = Command::new("skopeo")
            .args(["inspect", &reference])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "skopeo inspect: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["Os"], "linux");
        let dest = format!("oci:{}:copy", tmp.path().join("copy").display());
        let out = Command::new("skopeo")
            .args(["copy", &reference, &dest])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "skopeo copy: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if have("umoci") {
        let bundle = tmp.path().join("bundle");
        let image = format!("{}:localhost/busybox:latest", root.join("oci").display());
        let out = Command::new("umoci")
            .args(["unpack", "--image", &image])
            .arg(&bundle)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "umoci unpack: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let busybox = bundle.join("rootfs/bin/busybox");
        assert_eq!(
            std::fs::read(&busybox).unwrap(),
            std::fs::read(wharf_testkit::busybox::BUSYBOX).unwrap()
        );
        assert_eq!(
            std::fs::read_link(bundle.join("rootfs/bin/sh"))
                .unwrap()
                .to_str(),
            Some("busybox")
        );
    }
}
