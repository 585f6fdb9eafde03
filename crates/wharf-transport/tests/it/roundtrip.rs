//! Every transport pair round trip, digests preserved; format conversion read back.

use wharf_oci::media_type;
use wharf_testkit::registry::Registry;
use wharf_transport::{CopyOptions, Format, TransportError};

use crate::{BASE, base_store, client, copy, manifest, quick, try_copy};

#[test]
fn every_transport_keeps_the_digest() {
    let Some((tmp, store)) = base_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let c = client(tmp.path());
    let original = store.resolve(BASE).unwrap().manifest.digest().clone();
    let t = tmp.path().display();
    let a = reg.addr();
    let chain = [
        format!("store:{BASE}"),
        format!("docker://{a}/one/busybox:v1"),
        format!("oci:{t}/layout:v1"),
        format!("oci-archive:{t}/image.oci.tar:v1"),
        format!("dir:{t}/dir"),
        format!("docker://{a}/two/busybox:v2"),
        format!("docker://{a}/three/busybox:v3"),
        "store:localhost/back:again".to_owned(),
    ];
    for pair in chain.windows(2) {
        let r = copy(&store, &c, &pair[0], &pair[1], &quick());
        assert_eq!(
            r.manifest_digest.as_ref(),
            Some(&original),
            "{} -> {}",
            pair[0],
            pair[1]
        );
        assert_eq!(
            manifest(&store, &c, &pair[1]).digest,
            original,
            "{}",
            pair[1]
        );
    }
    // The second registry hop mounted the blobs from the first repository instead of copying.
    let r = copy(
        &store,
        &c,
        &format!("docker://{a}/one/busybox:v1"),
        &format!("docker://{a}/four/busybox:v1"),
        &quick(),
    );
    assert_eq!(r.copied, 0);
    assert_eq!(r.mounted, 2);
    // Everything present: nothing moves.
    let r = copy(
        &store,
        &c,
        &format!("store:{BASE}"),
        &format!("docker://{a}/one/busybox:v1"),
        &quick(),
    );
    assert_eq!((r.copied, r.skipped), (0, 2));
    assert_eq!(
        store
            .resolve("localhost/back:again")
            .unwrap()
            .manifest
            .digest(),
        &original
    );
}

#[test]
fn docker_archive_round_trip_keeps_config_and_diff_ids() {
    let Some((tmp, store)) = base_store() else {
        return;
    };
    let c = client(tmp.path());
    let t = tmp.path().display();
    let orig = manifest(&store, &c, &format!("store:{BASE}"));
    let archive = format!("docker-archive:{t}/saved.tar:busybox:saved");
    copy(&store, &c, &format!("store:{BASE}"), &archive, &quick());
    let back = manifest(&store, &c, &archive);
    assert_eq!(back.kind.media_type(), media_type::DOCKER_MANIFEST);
    let (o, b) = (orig.image().unwrap(), back.image().unwrap());
    assert_eq!(o.config().digest(), b.config().digest());
    assert_eq!(
        b.layers()[0].media_type().as_ref(),
        media_type::DOCKER_LAYER_TAR
    );
    let r = copy(
        &store,
        &c,
        &format!("docker-archive:{t}/saved.tar"),
        "store:localhost/loaded",
        &quick(),
    );
    assert_eq!(r.manifest_digest.as_ref(), Some(&back.digest));
    // --preserve-digests refuses to write a docker-archive (its layers are decompressed).
    let opts = CopyOptions {
        preserve_digests: true,
        ..quick()
    };
    let err = try_copy(
        &store,
        &c,
        &format!("store:{BASE}"),
        &format!("docker-archive:{t}/x.tar"),
        &opts,
    )
    .unwrap_err();
    assert!(
        matches!(err, TransportError::WouldChangeDigest { .. }),
        "{err}"
    );
}

#[test]
fn format_conversion_reads_back() {
    let Some((tmp, store)) = base_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let c = client(tmp.path());
    let a = reg.addr();
    let orig = manifest(&store, &c, &format!("store:{BASE}"));
    assert_eq!(orig.kind.media_type(), media_type::OCI_MANIFEST);
    let to_v2 = CopyOptions {
        format: Some(Format::V2s2),
        ..quick()
    };
    let r = copy(
        &store,
        &c,
        &format!("store:{BASE}"),
        &format!("docker://{a}/conv:v2"),
        &to_v2,
    );
    let v2 = manifest(&store, &c, &format!("docker://{a}/conv:v2"));
    assert_eq!(r.manifest_digest.as_ref(), Some(&v2.digest));
    assert_ne!(v2.digest, orig.digest);
    assert_eq!(v2.kind.media_type(), media_type::DOCKER_MANIFEST);
    let m = v2.image().unwrap();
    assert_eq!(m.config().media_type().as_ref(), media_type::DOCKER_CONFIG);
    assert_eq!(m.config().digest(), orig.image().unwrap().config().digest());
    assert_eq!(
        m.layers()[0].digest(),
        orig.image().unwrap().layers()[0].digest()
    );
    assert_eq!(
        m.layers()[0].media_type().as_ref(),
        media_type::DOCKER_LAYER_GZIP
    );
    // And back to OCI: the OCI media types return and every blob is shared.
    let to_oci = CopyOptions {
        format: Some(Format::Oci),
        ..quick()
    };
    let t = tmp.path().display();
    copy(
        &store,
        &c,
        &format!("docker://{a}/conv:v2"),
        &format!("oci:{t}/conv:oci"),
        &to_oci,
    );
    let oci = manifest(&store, &c, &format!("oci:{t}/conv:oci"));
    assert_eq!(oci.kind.media_type(), media_type::OCI_MANIFEST);
    let m = oci.image().unwrap();
    assert_eq!(m.config().media_type().as_ref(), media_type::OCI_CONFIG);
    assert_eq!(
        m.layers()[0].media_type().as_ref(),
        media_type::OCI_LAYER_GZIP
    );
    wharf_testkit::schema::validate_bytes(wharf_testkit::schema::Kind::Manifest, &oci.bytes)
        .unwrap();
    // --preserve-digests refuses a conversion (into dir:, which holds either format: an OCI
    // layout refuses Docker manifests before that).
    let opts = CopyOptions {
        format: Some(Format::V2s2),
        preserve_digests: true,
        ..quick()
    };
    let err = try_copy(
        &store,
        &c,
        &format!("store:{BASE}"),
        &format!("dir:{t}/p"),
        &opts,
    )
    .unwrap_err();
    assert!(
        matches!(err, TransportError::WouldChangeDigest { .. }),
        "{err}"
    );
}
