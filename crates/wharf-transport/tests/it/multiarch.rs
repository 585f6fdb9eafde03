//! Image indexes: `--all` keeps the index digest, a platform picks one image, conversion
//! rewrites the index and its children.

use wharf_oci::media_type;
use wharf_oci::{Platform, RawManifest};
use wharf_testkit::registry::Registry;
use wharf_transport::{CopyOptions, ManifestFormat, TransportError};

use crate::{BASE, base_store, client, copy, manifest, quick, try_copy};

#[test]
fn index_copies_all_or_one_platform() {
    let Some((tmp, store)) = base_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let c = client(tmp.path());
    let t = tmp.path().display();
    let a = reg.addr();
    // A second image (another creation time, so another config) stands in for arm64.
    crate::image_from_busybox(
        &store,
        &tmp.path().join("second"),
        "localhost/busybox:arm",
        "2020-01-01T00:00:00Z",
        wharf_oci::config::ContainerConfig::default(),
    );
    copy(
        &store,
        &c,
        &format!("store:{BASE}"),
        &format!("oci:{t}/multi:amd"),
        &quick(),
    );
    copy(
        &store,
        &c,
        "store:localhost/busybox:arm",
        &format!("oci:{t}/multi:arm"),
        &quick(),
    );
    let amd = manifest(&store, &c, &format!("oci:{t}/multi:amd"));
    let arm = manifest(&store, &c, &format!("oci:{t}/multi:arm"));
    let host = Platform::host();
    let entry = |m: &RawManifest, arch: &str| {
        serde_json::json!({
            "mediaType": media_type::OCI_MANIFEST,
            "digest": m.digest.to_string(),
            "size": m.bytes.len(),
            "platform": {"os": "linux", "architecture": arch},
        })
    };
    let other = if host.architecture == "arm64" {
        "amd64"
    } else {
        "arm64"
    };
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_INDEX,
        "manifests": [entry(&amd, &host.architecture), entry(&arm, other)],
    });
    let bytes = serde_json::to_vec(&index).unwrap();
    let index_digest = wharf_oci::digest::sha256(&bytes);
    let layout = tmp.path().join("multi");
    std::fs::write(
        layout.join("blobs/sha256").join(index_digest.digest()),
        &bytes,
    )
    .unwrap();
    let mut idx: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    idx["manifests"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "mediaType": media_type::OCI_INDEX,
            "digest": index_digest.to_string(),
            "size": bytes.len(),
            "annotations": {"org.opencontainers.image.ref.name": "all"},
        }));
    std::fs::write(layout.join("index.json"), serde_json::to_vec(&idx).unwrap()).unwrap();
    let src = format!("oci:{t}/multi:all");

    // --all: the index and both images, digests unchanged.
    let all = CopyOptions {
        all: true,
        ..quick()
    };
    let r = copy(&store, &c, &src, &format!("docker://{a}/multi:all"), &all);
    assert_eq!(r.manifest_digest.unwrap(), index_digest);
    assert_eq!(
        manifest(&store, &c, &format!("docker://{a}/multi:all")).digest,
        index_digest
    );
    assert_eq!(
        manifest(&store, &c, &format!("docker://{a}/multi@{}", arm.digest)).digest,
        arm.digest
    );

    // Default: the host's image; an override picks the other one; an absent platform fails.
    let r = copy(
        &store,
        &c,
        &src,
        &format!("docker://{a}/multi:host"),
        &quick(),
    );
    assert_eq!(r.manifest_digest.unwrap(), amd.digest);
    let pick = CopyOptions {
        platform: Some(Platform::new("linux", other, None)),
        ..quick()
    };
    let r = copy(&store, &c, &src, &format!("oci:{t}/picked:x"), &pick);
    assert_eq!(r.manifest_digest.unwrap(), arm.digest);
    let none = CopyOptions {
        platform: Some(Platform::new("linux", "s390x", None)),
        ..quick()
    };
    let err = try_copy(&store, &c, &src, &format!("oci:{t}/none:x"), &none).unwrap_err();
    assert!(matches!(err, TransportError::NoPlatform { .. }), "{err}");

    // --all --format v2s2: a Docker manifest list naming converted children.
    let conv = CopyOptions {
        all: true,
        format: Some(ManifestFormat::Docker),
        ..quick()
    };
    copy(&store, &c, &src, &format!("docker://{a}/multi:v2"), &conv);
    let list = manifest(&store, &c, &format!("docker://{a}/multi:v2"));
    assert_eq!(list.kind.media_type(), media_type::DOCKER_MANIFEST_LIST);
    let children = list.index().unwrap().manifests();
    assert_eq!(children.len(), 2);
    for d in children {
        assert_eq!(d.media_type().as_ref(), media_type::DOCKER_MANIFEST);
        let m = manifest(&store, &c, &format!("docker://{a}/multi@{}", d.digest()));
        assert_eq!(m.kind.media_type(), media_type::DOCKER_MANIFEST);
    }
    // docker-archive cannot hold an index: without --all it takes the host's image.
    let r = copy(
        &store,
        &c,
        &src,
        &format!("docker-archive:{t}/one.tar"),
        &all,
    );
    assert!(r.manifest_digest.is_some());
}
