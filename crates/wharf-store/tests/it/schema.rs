//! Everything the store writes validates against the OCI image-spec JSON schemas in
//! `../shared/conformance/oci-image-spec/schema` (draft-04; `$ref` aliases wired as its README says).

use std::path::PathBuf;

use jsonschema::{Draft, Retrieve, Uri, Validator};
use serde_json::{Value, json};
use wharf_oci::media_type::{OCI_INDEX, OCI_MANIFEST};

use crate::common::{build_image, commit_tiny, temp_store};

fn schema_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/oci-image-spec/schema");
    if dir.join("image-manifest-schema.json").is_file() {
        Some(dir)
    } else {
        eprintln!("SKIP: OCI schemas not found at {}", dir.display());
        None
    }
}

/// Resolves the schemas' `$ref`s to the files, under their plain names and upstream's aliases.
struct SchemaFiles(PathBuf);

const ALIASES: &[(&str, &str)] = &[
    (
        "https://opencontainers.org/schema/image/config",
        "config-schema.json",
    ),
    (
        "https://opencontainers.org/schema/descriptor",
        "content-descriptor.json",
    ),
    (
        "https://opencontainers.org/schema/image/descriptor/mediaType",
        "defs-descriptor.json",
    ),
    (
        "https://opencontainers.org/schema/image/descriptor/defs.json",
        "defs.json",
    ),
    (
        "https://opencontainers.org/schema/image/index",
        "image-index-schema.json",
    ),
    (
        "https://opencontainers.org/schema/image/layout",
        "image-layout-schema.json",
    ),
    (
        "https://opencontainers.org/schema/image/manifest",
        "image-manifest-schema.json",
    ),
];

impl Retrieve for SchemaFiles {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let uri = uri.as_str().split('#').next().unwrap_or_default();
        let file = ALIASES
            .iter()
            .find(|(alias, _)| *alias == uri)
            .map(|(_, f)| (*f).to_owned())
            // Every other alias ends in the file's own name.
            .or_else(|| uri.rsplit('/').next().map(str::to_owned))
            .ok_or_else(|| format!("no schema for {uri}"))?;
        let text = std::fs::read_to_string(self.0.join(&file))
            .map_err(|e| format!("schema {file} for {uri}: {e}"))?;
        Ok(serde_json::from_str(&text)?)
    }
}

fn validator(dir: &std::path::Path, file: &str) -> Validator {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
    jsonschema::options()
        .with_draft(Draft::Draft4)
        .with_retriever(SchemaFiles(dir.to_owned()))
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn assert_valid(v: &Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{what} fails its schema: {errors:?}\n{doc:#}"
    );
}

#[test]
fn the_validator_rejects_what_the_spec_forbids() {
    let Some(dir) = schema_dir() else { return };
    let manifest = validator(&dir, "image-manifest-schema.json");
    let d = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
    let good = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": d, "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": 9_223_372_036_854_775_807_i64}]});
    assert_valid(&manifest, &good, "a minimal manifest");
    let mut bad = good.clone();
    bad["config"]["size"] = json!(-1);
    assert!(!manifest.is_valid(&bad), "negative size accepted");
    let mut bad = good.clone();
    bad["layers"] = json!([]);
    assert!(!manifest.is_valid(&bad), "empty layers accepted");
    let mut bad = good;
    bad["config"]["digest"] = json!("sha256:NOT HEX");
    assert!(!manifest.is_valid(&bad), "bad digest accepted");
    let layout = validator(&dir, "image-layout-schema.json");
    assert!(!layout.is_valid(&json!({"imageLayoutVersion": 1})));
    let index = validator(&dir, "image-index-schema.json");
    assert!(!index.is_valid(&json!({"schemaVersion": 2, "manifests": [{"mediaType": OCI_MANIFEST, "digest": d, "size": 2, "platform": {"architecture": "amd64"}}]})));
}

#[test]
fn layout_files_and_images_the_store_writes_are_schema_valid() {
    let Some(dir) = schema_dir() else { return };
    let (_tmp, store) = temp_store();
    let layout = validator(&dir, "image-layout-schema.json");
    let index = validator(&dir, "image-index-schema.json");
    let manifest = validator(&dir, "image-manifest-schema.json");
    let config = validator(&dir, "config-schema.json");
    let read =
        |p: PathBuf| -> Value { serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap() };

    // A fresh store.
    assert_valid(
        &layout,
        &read(store.oci_dir().join("oci-layout")),
        "oci-layout",
    );
    assert_valid(
        &index,
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
    assert_valid(&index, &index_doc, "index.json");
    assert_valid(
        &layout,
        &read(store.oci_dir().join("oci-layout")),
        "oci-layout",
    );

    // The manifests and configs the tests write (through the store's own blob path).
    for rec in store.list_images().unwrap() {
        let doc: Value = store.read_json(rec.digest()).unwrap();
        if rec.manifest.media_type().to_string() == OCI_INDEX {
            assert_valid(&index, &doc, "stored index");
            continue;
        }
        assert_valid(&manifest, &doc, "stored manifest");
        let cfg = wharf_oci::digest::parse(doc["config"]["digest"].as_str().unwrap()).unwrap();
        assert_valid(&config, &store.read_json(&cfg).unwrap(), "stored config");
    }
    let extra = build_image(&store, "loose");
    assert_valid(
        &manifest,
        &serde_json::from_slice(&extra.manifest).unwrap(),
        "manifest",
    );
    assert_valid(
        &config,
        &serde_json::from_slice(&extra.config).unwrap(),
        "config",
    );
}
