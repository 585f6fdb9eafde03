//! Every transport pair round trip, digests preserved; format conversion read back.

use wharf_oci::media_type;
use wharf_testkit::registry::Registry;
use wharf_transport::{CopyOptions, ManifestFormat, TransportError};

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
        format: Some(ManifestFormat::Docker),
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
        format: Some(ManifestFormat::Oci),
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
        format: Some(ManifestFormat::Docker),
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

/// An OCI layout at `dir` (tag `many`) with `n` one-file uncompressed layers.
fn many_layers(dir: &std::path::Path, n: usize) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        let d = wharf_oci::digest::sha256(bytes);
        std::fs::write(blobs.join(d.digest()), bytes).unwrap();
        (d, bytes.len())
    };
    let (mut layers, mut diff_ids) = (Vec::new(), Vec::new());
    for i in 0..n {
        let mut tar = tar::Builder::new(Vec::new());
        let body = format!("layer {i}\n");
        let mut h = tar::Header::new_ustar();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, format!("f{i}"), body.as_bytes())
            .unwrap();
        let (d, size) = put(&tar.into_inner().unwrap());
        diff_ids.push(d.to_string());
        layers.push(serde_json::json!({"mediaType": media_type::OCI_LAYER_TAR,
            "digest": d.to_string(), "size": size}));
    }
    let config = serde_json::to_vec(&serde_json::json!({"architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids}}))
    .unwrap();
    let (c, cs) = put(&config);
    let manifest = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2,
        "mediaType": media_type::OCI_MANIFEST,
        "config": {"mediaType": media_type::OCI_CONFIG, "digest": c.to_string(), "size": cs},
        "layers": layers}))
    .unwrap();
    let (m, ms) = put(&manifest);
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": media_type::OCI_MANIFEST, "digest": m.to_string(), "size": ms,
        "annotations": {"org.opencontainers.image.ref.name": "many"}}]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

/// On a real network a small blob costs round trips, not bandwidth: existence checks and small
/// blobs are not held to `parallel` (which bounds the heavy transfers), so a 24-layer image
/// keeps many requests in flight. Counted at a slow link in front of the registry.
#[test]
fn small_blobs_and_existence_checks_run_beyond_the_transfer_bound() {
    use wharf_testkit::slowlink::{Shape, SlowLink};
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let store = wharf_store::Store::open(tmp.path().join("store")).unwrap();
    let c = client(tmp.path());
    many_layers(&tmp.path().join("layout"), 24);
    let shape = Shape {
        rtt: std::time::Duration::from_millis(30),
        bits_per_second: 0,
    };
    let upstream = reg.addr().parse().unwrap();
    let opts = CopyOptions {
        parallel: 2,
        ..quick()
    };
    let src = format!("oci:{}/layout:many", tmp.path().display());
    // The second round goes to another tag: every blob is there, but the tag names nothing,
    // so each blob is checked.
    for (round, tag) in [("absent", 1), ("present", 2)] {
        let link = SlowLink::start(upstream, shape).unwrap();
        let dst = format!("docker://{}/many/img:{tag}", link.addr());
        let r = copy(&store, &c, &src, &dst, &opts);
        assert_eq!(r.copied + r.skipped, 25, "{round}: {r:?}");
        assert!(
            link.peak_connections() > 2 * opts.parallel,
            "{round}: at most {} requests in flight",
            link.peak_connections()
        );
    }
    // The same tag again: it names this very manifest, so nothing is checked blob by blob.
    let link = SlowLink::start(upstream, shape).unwrap();
    let dst = format!("docker://{}/many/img:1", link.addr());
    let r = copy(&store, &c, &src, &dst, &opts);
    assert_eq!((r.copied, r.skipped), (0, 25), "{r:?}");
    // The ping over https and plain http, and one more for the manifest HEAD when the ping's
    // connection is not back in the pool yet; checking the 25 blobs took more than 4 above.
    assert!(
        link.peak_connections() <= 3,
        "{} connections for a copy that had nothing to do",
        link.peak_connections()
    );
}
