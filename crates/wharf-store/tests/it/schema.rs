//! Everything the store writes validates against the OCI image-spec JSON schemas in
//! `../shared/conformance/oci-image-spec/schema` (draft-04; `$ref` aliases wired as its README says).

use std::path::PathBuf;

use serde_json::{Value, json};
use wharf_oci::media_type::{OCI_INDEX, OCI_MANIFEST};
use wharf_testkit::schema::{self, Kind};

use crate::common::{build_image, commit_tiny, temp_store};

/// The testkit's validator (draft-04, `$ref` aliases wired as the conformance README says),
/// or a SKIP when the shared folder is absent.
fn schemas_present() -> bool {
    let ok = schema::schema_dir()
        .join("image-manifest-schema.json")
        .is_file();
    if !ok {
        eprintln!(
            "SKIP: OCI schemas not found at {}",
            schema::schema_dir().display()
        );
    }
    ok
}

fn assert_valid(kind: Kind, doc: &Value, what: &str) {
    if let Err(errors) = schema::validate(kind, doc) {
        panic!("{what} fails its schema: {errors}\n{doc:#}");
    }
}

fn is_valid(kind: Kind, doc: &Value) -> bool {
    schema::validate(kind, doc).is_ok()
}

#[test]
fn the_validator_rejects_what_the_spec_forbids() {
    if !schemas_present() {
        return;
    }
    let d = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
    let good = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": d, "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": 9_223_372_036_854_775_807_i64}]});
    assert_valid(Kind::Manifest, &good, "a minimal manifest");
    let mut bad = good.clone();
    bad["config"]["size"] = json!(-1);
    assert!(!is_valid(Kind::Manifest, &bad), "negative size accepted");
    let mut bad = good.clone();
    bad["layers"] = json!([]);
    assert!(!is_valid(Kind::Manifest, &bad), "empty layers accepted");
    let mut bad = good;
    bad["config"]["digest"] = json!("sha256:NOT HEX");
    assert!(!is_valid(Kind::Manifest, &bad), "bad digest accepted");
    assert!(!is_valid(Kind::Layout, &json!({"imageLayoutVersion": 1})));
    assert!(!is_valid(
        Kind::Index,
        &json!({"schemaVersion": 2, "manifests": [{"mediaType": OCI_MANIFEST, "digest": d, "size": 2, "platform": {"architecture": "amd64"}}]})
    ));
}

#[test]
fn layout_files_and_images_the_store_writes_are_schema_valid() {
    if !schemas_present() {
        return;
    }
    let (_tmp, store) = temp_store();
    let read =
        |p: PathBuf| -> Value { serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap() };

    // A fresh store.
    assert_valid(
        Kind::Layout,
        &read(store.oci_dir().join("oci-layout")),
        "oci-layout",
    );
    assert_valid(
        Kind::Index,
        &read(store.oci_dir().join("index.json")),
        "empty index.json",
    );

    // With named, renamed and unnamed images, and an image index among them.
    let (img, _) = commit_tiny(&store, "app:1");
    store.tag("app:1", "docker.io/library/app:latest").unwrap();
    commit_tiny(&store, "other");
    store.tag("other", "app:1").unwrap(); // moves a name
    let unnamed = build_image(&store, "unnamed");
    store
        .commit_image(&unnamed.manifest, OCI_MANIFEST, &[])
        .unwrap();
    let child = store.put_blob_bytes(OCI_MANIFEST, &img.manifest).unwrap();
    let idx = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": child.digest().to_string(), "size": child.size(),
                       "platform": {"architecture": "amd64", "os": "linux"}}]}))
    .unwrap();
    store
        .commit_image(&idx, OCI_INDEX, &["multi".into()])
        .unwrap();
    let index_doc = read(store.oci_dir().join("index.json"));
    assert_eq!(index_doc["manifests"].as_array().unwrap().len(), 5);
    assert_valid(Kind::Index, &index_doc, "index.json");
    assert_valid(
        Kind::Layout,
        &read(store.oci_dir().join("oci-layout")),
        "oci-layout",
    );

    // The manifests and configs the tests write (through the store's own blob path).
    for rec in store.list_images().unwrap() {
        let doc: Value = store.read_json(rec.digest()).unwrap();
        if rec.manifest.media_type().to_string() == OCI_INDEX {
            assert_valid(Kind::Index, &doc, "stored index");
            continue;
        }
        assert_valid(Kind::Manifest, &doc, "stored manifest");
        let cfg = wharf_oci::digest::parse(doc["config"]["digest"].as_str().unwrap()).unwrap();
        assert_valid(
            Kind::Config,
            &store.read_json(&cfg).unwrap(),
            "stored config",
        );
    }
    let extra = build_image(&store, "loose");
    assert_valid(
        Kind::Manifest,
        &serde_json::from_slice(&extra.manifest).unwrap(),
        "manifest",
    );
    assert_valid(
        Kind::Config,
        &serde_json::from_slice(&extra.config).unwrap(),
        "config",
    );
}
