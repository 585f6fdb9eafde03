//! Validation against the OCI image-spec JSON schemas kept in `../shared/conformance/oci-image-spec`
//! (beside the repository, in CI as here). Every manifest, index, config and `oci-layout` file we
//! write is checked with [`validate`].
//!
//! The schemas reference each other through several URL aliases; the retriever below serves each
//! file under its plain name and under every alias the conformance README lists. Formats
//! (`date-time`, `uri`) are enforced: our output must be strictly valid.

use std::path::PathBuf;

use serde_json::Value;

/// Which schema a document is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Manifest,
    Index,
    Config,
    Descriptor,
    Layout,
}

impl Kind {
    fn file(self) -> &'static str {
        match self {
            Kind::Manifest => "image-manifest-schema.json",
            Kind::Index => "image-index-schema.json",
            Kind::Config => "config-schema.json",
            Kind::Descriptor => "content-descriptor.json",
            Kind::Layout => "image-layout-schema.json",
        }
    }
}

/// The folder holding the schema files.
pub fn schema_dir() -> PathBuf {
    crate::shared_dir().join("conformance/oci-image-spec/schema")
}

fn file_for_uri(uri: &str) -> Option<&'static str> {
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
    const FILES: &[&str] = &[
        "config-schema.json",
        "content-descriptor.json",
        "defs-descriptor.json",
        "defs.json",
        "image-index-schema.json",
        "image-layout-schema.json",
        "image-manifest-schema.json",
    ];
    let uri = uri.split('#').next().unwrap_or(uri);
    if let Some((_, f)) = ALIASES.iter().find(|(a, _)| *a == uri) {
        return Some(f);
    }
    let last = uri.rsplit('/').next()?;
    FILES.iter().copied().find(|f| *f == last)
}

struct Retriever(PathBuf);

impl jsonschema::Retrieve for Retriever {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let file = file_for_uri(uri.as_str()).ok_or_else(|| format!("unknown schema {uri}"))?;
        let text = std::fs::read_to_string(self.0.join(file))?;
        Ok(serde_json::from_str(&text)?)
    }
}

/// Validates `doc` against the schema for `kind`; the error lists every violation with its path.
pub fn validate(kind: Kind, doc: &Value) -> Result<(), String> {
    let dir = schema_dir();
    let text = std::fs::read_to_string(dir.join(kind.file()))
        .map_err(|e| format!("reading schema {}: {e}", dir.join(kind.file()).display()))?;
    let schema: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .with_retriever(Retriever(dir))
        .build(&schema)
        .map_err(|e| format!("compiling schema {}: {e}", kind.file()))?;
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// Validates raw bytes (which must be JSON) against the schema for `kind`.
pub fn validate_bytes(kind: Kind, bytes: &[u8]) -> Result<(), String> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    validate(kind, &doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const D: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    #[test]
    fn good_and_bad_manifests() {
        let good = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest": D},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 9_223_372_036_854_775_807_u64, "digest": D}]});
        validate(Kind::Manifest, &good).unwrap();
        let mut bad = good.clone();
        bad["layers"] = json!([]);
        assert!(validate(Kind::Manifest, &bad).is_err());
        let mut bad = good.clone();
        bad["layers"][0]["size"] = json!(-1);
        assert!(validate(Kind::Manifest, &bad).is_err());
        let mut bad = good.clone();
        bad["schemaVersion"] = json!(3);
        assert!(validate(Kind::Manifest, &bad).is_err());
        let mut bad = good;
        bad["config"]["digest"] = json!("sha256:XYZ!");
        assert!(validate(Kind::Manifest, &bad).is_err());
    }

    #[test]
    fn layout_index_and_config() {
        validate(Kind::Layout, &json!({"imageLayoutVersion": "1.0.0"})).unwrap();
        assert!(validate(Kind::Layout, &json!({"imageLayoutVersion": 1})).is_err());
        validate(
            Kind::Index,
            &json!({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 7, "digest": D,
             "platform": {"architecture": "amd64", "os": "linux"}}]}),
        )
        .unwrap();
        assert!(
            validate(
                Kind::Index,
                &json!({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 7, "digest": D,
             "platform": {"architecture": "amd64"}}]})
            )
            .is_err()
        );
        validate(
            Kind::Config,
            &json!({"architecture": "amd64", "os": "linux",
            "created": "2024-01-01T00:00:00Z", "rootfs": {"type": "layers", "diff_ids": [D]}}),
        )
        .unwrap();
        assert!(
            validate(
                Kind::Config,
                &json!({"architecture": "amd64", "os": "linux",
            "rootfs": {"type": "other", "diff_ids": []}})
            )
            .is_err()
        );
        assert!(
            validate(
                Kind::Config,
                &json!({"architecture": "amd64", "os": "linux",
            "created": "yesterday", "rootfs": {"type": "layers", "diff_ids": []}})
            )
            .is_err()
        );
    }
}
