//! `inspect`: the fields skopeo prints for an image, gathered from its manifest and config.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::Serialize;
use wharf_oci::platform::select_manifest;
use wharf_oci::{ImageConfig, Platform, RawManifest};

use crate::error::{Result, TransportError};
use crate::source::Source;

/// One layer as skopeo's `LayersData` lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayerData {
    #[serde(rename = "MIMEType")]
    pub mime_type: String,
    pub digest: String,
    pub size: u64,
    pub annotations: Option<BTreeMap<String, String>>,
}

/// skopeo inspect's JSON document, field for field.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub digest: String,
    pub repo_tags: Vec<String>,
    pub created: Option<String>,
    pub docker_version: String,
    pub labels: Option<BTreeMap<String, String>>,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub os: String,
    pub layers: Vec<String>,
    pub layers_data: Vec<LayerData>,
    pub env: Option<Vec<String>>,
}

/// Everything `inspect` can show.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The top-level manifest or index, as stored.
    pub top: RawManifest,
    /// The image manifest (chosen for the platform when `top` is an index).
    pub image: RawManifest,
    /// The config blob's exact bytes.
    pub config: Bytes,
    pub info: ImageInfo,
}

/// Reads the manifest and config of the image `src` names. `tags` lists the repository's
/// tags (registries only).
pub async fn inspect(src: &Source, platform: Option<&Platform>, tags: bool) -> Result<Inspection> {
    let top = src.manifest().await?;
    let image = match top.index() {
        Some(index) => {
            let want = platform.cloned().unwrap_or_else(Platform::host);
            let entry = select_manifest(index.manifests(), &want).ok_or_else(|| {
                TransportError::NoPlatform {
                    platform: want.to_string(),
                    found: "see ferry inspect --raw".into(),
                }
            })?;
            src.child_manifest(entry).await?
        }
        None => top.clone(),
    };
    let m = image.image().ok_or_else(|| TransportError::Invalid {
        location: src.describe(),
        what: "expected an image manifest".into(),
    })?;
    let config = src.blob_bytes(m.config()).await?;
    let parsed: ImageConfig = serde_json::from_slice(&config).map_err(TransportError::json(
        format!("the config of {}", src.describe()),
    ))?;
    let (name, repo_tags) = match src.registry() {
        Some((client, reference)) => {
            let t = if tags {
                client.list_tags(&reference.repository, None).await?
            } else {
                Vec::new()
            };
            (Some(reference.name()), t)
        }
        None => (None, Vec::new()),
    };
    let cc = parsed.config.as_ref();
    let info = ImageInfo {
        name,
        digest: top.digest.to_string(),
        repo_tags,
        created: parsed.created.clone(),
        docker_version: parsed
            .extra
            .get("docker_version")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned(),
        labels: cc.and_then(|c| c.labels.clone()),
        architecture: parsed.architecture.clone(),
        variant: parsed.variant.clone(),
        os: parsed.os.clone(),
        layers: m.layers().iter().map(|l| l.digest().to_string()).collect(),
        layers_data: m
            .layers()
            .iter()
            .map(|l| LayerData {
                mime_type: l.media_type().to_string(),
                digest: l.digest().to_string(),
                size: l.size(),
                annotations: l
                    .annotations()
                    .as_ref()
                    .map(|a| a.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            })
            .collect(),
        env: cc.and_then(|c| c.env.clone()),
    };
    Ok(Inspection {
        top,
        image,
        config,
        info,
    })
}
