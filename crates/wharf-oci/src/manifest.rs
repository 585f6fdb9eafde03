//! Manifests and indexes as they arrive: raw bytes, a media type and the parsed document, plus
//! conversion between the OCI and Docker v2 schema 2 families.
//!
//! Raw bytes are kept because a manifest's digest is the digest of its exact bytes: copying an
//! image without conversion must never re-serialise it.

use crate::media_type::{self, ManifestKind};
use crate::{Descriptor, Digest, ImageIndex, ImageManifest, MediaType, digest};

/// The manifest family an image is written in (`--format`): OCI, or Docker schema 2 (buildah's
/// `docker`, skopeo's `v2s2`). One type for builds, working containers and copies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ManifestFormat {
    #[default]
    Oci,
    Docker,
}

impl ManifestFormat {
    /// Parses `oci`, or `docker` / `v2s2` (the names buildah and skopeo give the Docker format).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "oci" => Some(Self::Oci),
            "docker" | "v2s2" => Some(Self::Docker),
            _ => None,
        }
    }

    /// The name buildah records and prints: `oci` or `docker`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Oci => "oci",
            Self::Docker => "docker",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest is not valid JSON for {media_type}")]
    Json {
        media_type: String,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "unsupported manifest media type {0:?} (Docker schema 1 manifests are obsolete: re-push the image with a current client)"
    )]
    Unsupported(String),
    #[error("manifest schemaVersion must be 2, found {0}")]
    SchemaVersion(u32),
    #[error("cannot serialise manifest")]
    Serialize(#[source] serde_json::Error),
    #[error("layer media type {0:?} has no equivalent in the target format")]
    LayerType(String),
}

/// A parsed manifest or index.
#[derive(Debug, Clone)]
pub enum Parsed {
    Image(Box<ImageManifest>),
    Index(Box<ImageIndex>),
}

/// A manifest document with the exact bytes it was read from.
#[derive(Debug, Clone)]
pub struct RawManifest {
    pub bytes: Vec<u8>,
    pub kind: ManifestKind,
    pub digest: Digest,
    pub parsed: Parsed,
}

/// Finds the media type of a manifest body: the `mediaType` field when present, else a guess from
/// its shape (`manifests` means an OCI index, `config` an OCI manifest).
pub fn sniff_media_type(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
        config: Option<serde_json::Value>,
        #[serde(rename = "schemaVersion")]
        schema_version: Option<u32>,
    }
    let p: Probe = serde_json::from_slice(bytes).ok()?;
    if let Some(m) = p.media_type {
        return Some(m);
    }
    match (p.schema_version, p.manifests.is_some(), p.config.is_some()) {
        (Some(1), _, _) => Some(media_type::DOCKER_MANIFEST_V1.to_owned()),
        (_, true, _) => Some(media_type::OCI_INDEX.to_owned()),
        (_, _, true) => Some(media_type::OCI_MANIFEST.to_owned()),
        _ => None,
    }
}

impl RawManifest {
    /// Parses `bytes` as `media_type` (or as what [`sniff_media_type`] finds when `None`).
    pub fn parse(bytes: Vec<u8>, media_type: Option<&str>) -> Result<Self, ManifestError> {
        let mt = match media_type {
            Some(m) if !m.is_empty() && m != "application/json" && m != "text/plain" => {
                m.to_owned()
            }
            _ => sniff_media_type(&bytes).unwrap_or_default(),
        };
        // Registries append parameters such as "; charset=utf-8".
        let mt = mt.split(';').next().unwrap_or_default().trim().to_owned();
        let kind = ManifestKind::from_media_type(&mt)
            .ok_or_else(|| ManifestError::Unsupported(mt.clone()))?;
        let json_err = |source| ManifestError::Json {
            media_type: mt.clone(),
            source,
        };
        let parsed = if kind.is_index() {
            let i: ImageIndex = serde_json::from_slice(&bytes).map_err(json_err)?;
            if i.schema_version() != 2 {
                return Err(ManifestError::SchemaVersion(i.schema_version()));
            }
            Parsed::Index(Box::new(i))
        } else {
            let m: ImageManifest = serde_json::from_slice(&bytes).map_err(json_err)?;
            if m.schema_version() != 2 {
                return Err(ManifestError::SchemaVersion(m.schema_version()));
            }
            Parsed::Image(Box::new(m))
        };
        let digest = digest::sha256(&bytes);
        Ok(Self {
            bytes,
            kind,
            digest,
            parsed,
        })
    }

    /// A descriptor of this manifest.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(
            MediaType::from(self.kind.media_type()),
            self.bytes.len() as u64,
            self.digest.clone(),
        )
    }

    pub fn image(&self) -> Option<&ImageManifest> {
        match &self.parsed {
            Parsed::Image(m) => Some(m),
            Parsed::Index(_) => None,
        }
    }

    pub fn index(&self) -> Option<&ImageIndex> {
        match &self.parsed {
            Parsed::Index(i) => Some(i),
            Parsed::Image(_) => None,
        }
    }
}

/// Serialises a manifest to bytes (pretty-printing is not used: it only wastes bytes).
/// `annotations` maps (hash maps in `oci-spec`, so iterated in a random order) are written in
/// key order: the same manifest must always get the same digest. Every other key keeps its
/// field order.
pub fn to_bytes<T: serde::Serialize>(doc: &T) -> Result<Vec<u8>, ManifestError> {
    let mut value = serde_json::to_value(doc).map_err(ManifestError::Serialize)?;
    sort_annotations(&mut value);
    serde_json::to_vec(&value).map_err(ManifestError::Serialize)
}

fn sort_annotations(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key == "annotations"
                    && let serde_json::Value::Object(annotations) = v
                {
                    annotations.sort_keys();
                } else {
                    sort_annotations(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(sort_annotations),
        _ => {}
    }
}

/// Converts an image manifest to the OCI (`to_docker == false`) or Docker v2s2 family. The config
/// blob itself is unchanged (both formats read the same JSON); only media types change. Docker
/// v2s2 has no annotations, subject or artifact type, so those are dropped going that way.
pub fn convert_image_manifest(
    m: &ImageManifest,
    to_docker: bool,
) -> Result<ImageManifest, ManifestError> {
    let mut out = m.clone();
    let (manifest_mt, config_mt) = if to_docker {
        (media_type::DOCKER_MANIFEST, media_type::DOCKER_CONFIG)
    } else {
        (media_type::OCI_MANIFEST, media_type::OCI_CONFIG)
    };
    out.set_media_type(Some(MediaType::from(manifest_mt)));
    let mut config = m.config().clone();
    config.set_media_type(MediaType::from(config_mt));
    out.set_config(config);
    let mut layers = Vec::with_capacity(m.layers().len());
    for l in m.layers() {
        let mt = l.media_type().to_string();
        let new = match media_type::convert_layer_media_type(&mt, to_docker) {
            Some(n) => n.to_owned(),
            None if media_type::is_foreign_layer(&mt) => mt.clone(),
            None => return Err(ManifestError::LayerType(mt)),
        };
        let mut l = l.clone();
        l.set_media_type(MediaType::from(new.as_str()));
        if to_docker {
            l.set_annotations(None);
        }
        layers.push(l);
    }
    out.set_layers(layers);
    if to_docker {
        out.set_annotations(None);
        out.set_subject(None);
        out.set_artifact_type(None);
    }
    Ok(out)
}

/// Converts an index to an OCI index or a Docker manifest list, rewriting entry media types.
pub fn convert_index(i: &ImageIndex, to_docker: bool) -> ImageIndex {
    let mut out = i.clone();
    out.set_media_type(Some(MediaType::from(if to_docker {
        media_type::DOCKER_MANIFEST_LIST
    } else {
        media_type::OCI_INDEX
    })));
    let entries = i
        .manifests()
        .iter()
        .map(|d| {
            let mut d = d.clone();
            let kind = ManifestKind::from_media_type(d.media_type().as_ref());
            let new = match kind {
                Some(k) if k.is_index() => Some(if to_docker {
                    ManifestKind::DockerManifestList
                } else {
                    ManifestKind::OciIndex
                }),
                Some(_) => Some(if to_docker {
                    ManifestKind::DockerManifest
                } else {
                    ManifestKind::OciManifest
                }),
                None => None,
            };
            if let Some(k) = new {
                d.set_media_type(MediaType::from(k.media_type()));
            }
            d
        })
        .collect();
    out.set_manifests(entries);
    if to_docker {
        out.set_annotations(None);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCKER: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
      "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
      "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":3,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}]}"#;

    #[test]
    fn parse_keeps_bytes_and_digest() {
        let raw = RawManifest::parse(DOCKER.as_bytes().to_vec(), None).unwrap();
        assert_eq!(raw.kind, ManifestKind::DockerManifest);
        assert_eq!(raw.digest, digest::sha256(DOCKER.as_bytes()));
        assert_eq!(raw.bytes, DOCKER.as_bytes());
        let with_charset = RawManifest::parse(
            DOCKER.as_bytes().to_vec(),
            Some("application/vnd.docker.distribution.manifest.v2+json; charset=utf-8"),
        );
        assert!(with_charset.is_ok());
    }

    #[test]
    fn schema1_is_refused_by_name() {
        let v1 = br#"{"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]}"#.to_vec();
        let err = RawManifest::parse(v1, None).unwrap_err();
        assert!(err.to_string().contains("schema 1"), "{err}");
    }

    #[test]
    fn docker_to_oci_and_back() {
        let raw = RawManifest::parse(DOCKER.as_bytes().to_vec(), None).unwrap();
        let oci = convert_image_manifest(raw.image().unwrap(), false).unwrap();
        let bytes = to_bytes(&oci).unwrap();
        let reparsed = RawManifest::parse(bytes, None).unwrap();
        assert_eq!(reparsed.kind, ManifestKind::OciManifest);
        let m = reparsed.image().unwrap();
        assert_eq!(m.config().media_type().to_string(), media_type::OCI_CONFIG);
        assert_eq!(
            m.layers()[0].media_type().to_string(),
            media_type::OCI_LAYER_GZIP
        );
        assert_eq!(
            m.layers()[0].digest(),
            raw.image().unwrap().layers()[0].digest()
        );
        let back = convert_image_manifest(m, true).unwrap();
        let back_bytes = to_bytes(&back).unwrap();
        let a: serde_json::Value = serde_json::from_slice(&back_bytes).unwrap();
        let b: serde_json::Value = serde_json::from_str(DOCKER).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn annotations_are_written_in_key_order_and_fields_in_theirs() {
        let annotations: std::collections::HashMap<String, String> = (0..32)
            .map(|i| (format!("k{i:02}"), "v".to_owned()))
            .collect();
        let json = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"sha256:{}","size":2}},"layers":[]}}"#,
            crate::media_type::OCI_MANIFEST,
            crate::media_type::OCI_CONFIG,
            "a".repeat(64)
        );
        let mut m: ImageManifest = serde_json::from_str(&json).unwrap();
        m.set_annotations(Some(annotations));
        let text = String::from_utf8(to_bytes(&m).unwrap()).unwrap();
        assert!(text.starts_with(r#"{"schemaVersion":2,"#), "{text}");
        let keys: Vec<usize> = (0..32)
            .map(|i| text.find(&format!("\"k{i:02}\"")).unwrap())
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{text}");
    }
}
