//! Sigstore signatures as registry attachments: an OCI manifest tagged `sha256-<hex>.sig` in
//! the image's repository, one layer per signature (the payload as its blob, the signature in
//! an annotation), as cosign and containers/image store them; and the OCI 1.1 referrer form
//! (cosign `--registry-referrers-mode=oci-1-1`): one manifest per signature with
//! `artifactType` [`REFERRER_ARTIFACT_TYPE`], an empty config and a `subject`, found through
//! the referrers API or its tag fallback. Verification reads both.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use wharf_oci::{Digest, Reference};
use wharf_registry::{RegistryClient, RegistryError, UploadOptions};

use crate::error::{Result, SignError};
use crate::sigstore::{PAYLOAD_MEDIA_TYPE, SIGNATURE_ANNOTATION, Signature};

/// The `artifactType` of a cosign signature stored as an OCI 1.1 referrer.
pub const REFERRER_ARTIFACT_TYPE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";

/// A payload larger than this is refused (containers/image: 4 MiB).
const MAX_PAYLOAD: u64 = 4 << 20;
/// More signatures than this on one image are refused.
const MAX_SIGNATURES: usize = 64;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Desc {
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SigManifest {
    schema_version: u32,
    #[serde(default)]
    media_type: Option<String>,
    config: Desc,
    layers: Vec<Desc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subject: Option<Desc>,
}

/// The attachment tag of the manifest with `digest`: `sha256-<hex>.sig`.
pub fn tag(digest: &Digest) -> String {
    format!("{}.sig", digest.to_string().replacen(':', "-", 1))
}

fn reg_err(location: String) -> impl FnOnce(RegistryError) -> SignError {
    move |source| SignError::Registry {
        location,
        source: Box::new(source),
    }
}

async fn read_manifest(
    client: &RegistryClient,
    repo: &str,
    digest: &Digest,
) -> Result<Option<SigManifest>> {
    let t = tag(digest);
    let location = format!("{}/{repo}:{t}", client.host());
    match client.get_manifest(repo, &t).await {
        Ok(m) => serde_json::from_slice(&m.bytes)
            .map(Some)
            .map_err(|e| SignError::BadSignature {
                why: format!("{location} is not a signature manifest: {e}"),
            }),
        Err(RegistryError::ManifestUnknown { .. } | RegistryError::RepositoryUnknown { .. }) => {
            Ok(None)
        }
        Err(RegistryError::Status { status: 404, .. }) => Ok(None),
        Err(e) => Err(reg_err(location)(e)),
    }
}

/// The sigstore signatures attached to the manifest `digest` of `reference`'s repository.
/// Layers of other media types are skipped.
pub async fn fetch(
    client: &RegistryClient,
    reference: &Reference,
    digest: &Digest,
) -> Result<Vec<Signature>> {
    let repo = &reference.repository;
    let mut manifests: Vec<SigManifest> = read_manifest(client, repo, digest)
        .await?
        .into_iter()
        .collect();
    manifests.extend(read_referrers(client, repo, digest).await?);
    let mut out = Vec::new();
    for m in &manifests {
        out.extend(signatures_of(client, repo, m).await?);
        if out.len() > MAX_SIGNATURES {
            return Err(SignError::BadSignature {
                why: format!("more than {MAX_SIGNATURES} signatures on {repo}@{digest}"),
            });
        }
    }
    Ok(out)
}

/// The signature manifests in referrer form whose `subject` is `digest` (each fetched by
/// digest, so verified; one naming another subject is an error, not a signature).
async fn read_referrers(
    client: &RegistryClient,
    repo: &str,
    digest: &Digest,
) -> Result<Vec<SigManifest>> {
    let location = format!("{}/{repo} referrers of {digest}", client.host());
    let list = match client
        .referrers(repo, digest, Some(REFERRER_ARTIFACT_TYPE))
        .await
    {
        Ok((list, _)) => list,
        Err(RegistryError::RepositoryUnknown { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(reg_err(location)(e)),
    };
    let mut out = Vec::new();
    for d in list.iter().take(MAX_SIGNATURES) {
        let m = client
            .get_manifest(repo, d.digest().as_ref())
            .await
            .map_err(reg_err(format!("{}/{repo}@{}", client.host(), d.digest())))?;
        let sm: SigManifest =
            serde_json::from_slice(&m.bytes).map_err(|e| SignError::BadSignature {
                why: format!("referrer {} is not a signature manifest: {e}", d.digest()),
            })?;
        if sm.subject.as_ref().map(|s| s.digest.as_str()) != Some(digest.as_ref()) {
            return Err(SignError::BadSignature {
                why: format!(
                    "referrer {} is listed for {digest} but names another subject",
                    d.digest()
                ),
            });
        }
        out.push(sm);
    }
    Ok(out)
}

/// The signatures (payload and signature annotation) of one signature manifest.
async fn signatures_of(
    client: &RegistryClient,
    repo: &str,
    m: &SigManifest,
) -> Result<Vec<Signature>> {
    let mut out = Vec::new();
    for layer in m
        .layers
        .iter()
        .filter(|l| l.media_type == PAYLOAD_MEDIA_TYPE)
        .take(MAX_SIGNATURES)
    {
        let Some(sig) = layer.annotations.get(SIGNATURE_ANNOTATION) else {
            continue;
        };
        if layer.size > MAX_PAYLOAD {
            return Err(SignError::BadSignature {
                why: format!(
                    "signature payload {} is larger than {MAX_PAYLOAD} bytes",
                    layer.digest
                ),
            });
        }
        let d = wharf_oci::digest::parse(&layer.digest).map_err(|e| SignError::BadSignature {
            why: format!("signature layer digest: {e}"),
        })?;
        let location = format!("{}/{repo}@{d}", client.host());
        let mut reader = client
            .get_blob(repo, &d, Some(layer.size))
            .await
            .map_err(reg_err(location.clone()))?;
        let mut payload = Vec::new();
        while let Some(chunk) = reader
            .next_chunk()
            .await
            .map_err(reg_err(location.clone()))?
        {
            payload.extend_from_slice(&chunk);
        }
        let mut annotations = layer.annotations.clone();
        annotations.remove(SIGNATURE_ANNOTATION);
        out.push(Signature {
            payload,
            signature_b64: sig.clone(),
            annotations,
        });
    }
    Ok(out)
}

async fn push_bytes(client: &RegistryClient, repo: &str, bytes: &[u8]) -> Result<Desc> {
    let digest = wharf_oci::digest::sha256(bytes);
    let location = format!("{}/{repo}@{digest}", client.host());
    let mut src = bytes;
    client
        .push_blob(
            repo,
            &mut src,
            &UploadOptions {
                digest: Some(digest.clone()),
                size: Some(bytes.len() as u64),
                ..UploadOptions::default()
            },
        )
        .await
        .map_err(reg_err(location))?;
    Ok(Desc {
        media_type: String::new(),
        digest: digest.to_string(),
        size: bytes.len() as u64,
        annotations: BTreeMap::new(),
    })
}

/// Adds `sig` to the signatures attached to `digest` in `reference`'s repository (the ones
/// already there are kept; the same signature twice is stored once).
pub async fn push(
    client: &RegistryClient,
    reference: &Reference,
    digest: &Digest,
    sig: &Signature,
) -> Result<()> {
    let repo = &reference.repository;
    let existing = read_manifest(client, repo, digest).await?;
    let mut layers = existing.map(|m| m.layers).unwrap_or_default();
    let payload_digest = wharf_oci::digest::sha256(&sig.payload).to_string();
    if layers.iter().any(|l| {
        l.digest == payload_digest
            && l.annotations.get(SIGNATURE_ANNOTATION) == Some(&sig.signature_b64)
    }) {
        return Ok(());
    }
    let mut layer = push_bytes(client, repo, &sig.payload).await?;
    layer.media_type = PAYLOAD_MEDIA_TYPE.into();
    layer.annotations.clone_from(&sig.annotations);
    layer
        .annotations
        .insert(SIGNATURE_ANNOTATION.into(), sig.signature_b64.clone());
    layers.push(layer);
    // The config names the layers as an image config would, as cosign writes it.
    let diff_ids: Vec<&str> = layers.iter().map(|l| l.digest.as_str()).collect();
    let config_json = serde_json::json!({
        "architecture": "",
        "os": "",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    });
    let config_bytes = serde_json::to_vec(&config_json).map_err(|e| SignError::Unsupported {
        what: format!("encoding the signature config: {e}"),
    })?;
    let mut config = push_bytes(client, repo, &config_bytes).await?;
    config.media_type = "application/vnd.oci.image.config.v1+json".into();
    let m = SigManifest {
        schema_version: 2,
        media_type: Some("application/vnd.oci.image.manifest.v1+json".into()),
        config,
        layers,
        artifact_type: None,
        subject: None,
    };
    let bytes = serde_json::to_vec(&m).map_err(|e| SignError::Unsupported {
        what: format!("encoding the signature manifest: {e}"),
    })?;
    let t = tag(digest);
    client
        .put_manifest(
            repo,
            &t,
            Bytes::from(bytes),
            "application/vnd.oci.image.manifest.v1+json",
        )
        .await
        .map_err(reg_err(format!("{}/{repo}:{t}", client.host())))?;
    Ok(())
}

/// A signature in cosign's OCI 1.1 referrer form, not yet stored anywhere: the blobs it
/// names and its manifest.
#[derive(Debug, Clone)]
pub struct ReferrerForm {
    /// The blobs the manifest names (the empty config, the payload), each with its media type.
    pub blobs: Vec<(String, Vec<u8>)>,
    /// The manifest (`artifactType` [`REFERRER_ARTIFACT_TYPE`], `subject` the image).
    pub manifest: Vec<u8>,
    /// The manifest's descriptor, with its `artifactType`.
    pub descriptor: wharf_oci::Descriptor,
}

impl ReferrerForm {
    /// Encodes and describes the manifest `m` of artifact type `artifact_type`, whose blobs are
    /// the empty config and the one layer `payload` of media type `payload_type`.
    pub(crate) fn new(
        m: &impl serde::Serialize,
        artifact_type: &str,
        payload_type: &str,
        payload: Vec<u8>,
    ) -> Result<Self> {
        let manifest = serde_json::to_vec(m).map_err(|e| SignError::Unsupported {
            what: format!("encoding the signature manifest: {e}"),
        })?;
        let descriptor = wharf_oci::DescriptorBuilder::default()
            .media_type(wharf_oci::MediaType::ImageManifest)
            .digest(wharf_oci::digest::sha256(&manifest))
            .size(manifest.len() as u64)
            .artifact_type(wharf_oci::MediaType::Other(artifact_type.into()))
            .build()
            .map_err(|e| SignError::Unsupported {
                what: format!("describing the signature manifest: {e}"),
            })?;
        Ok(Self {
            blobs: vec![
                (
                    wharf_oci::media_type::OCI_EMPTY_JSON.to_owned(),
                    b"{}".to_vec(),
                ),
                (payload_type.to_owned(), payload),
            ],
            manifest,
            descriptor,
        })
    }
}

/// `sig` of the manifest `subject` (digest, media type, size) in cosign's OCI 1.1 referrer
/// form: an empty config, the payload as the one layer with the signature in an annotation.
///
/// # Errors
/// The manifest cannot be encoded or described.
pub fn referrer_form(subject: (&Digest, &str, u64), sig: &Signature) -> Result<ReferrerForm> {
    let (digest, subject_mt, subject_size) = subject;
    let desc = |media_type: &str, bytes: &[u8]| Desc {
        media_type: media_type.to_owned(),
        digest: wharf_oci::digest::sha256(bytes).to_string(),
        size: bytes.len() as u64,
        annotations: BTreeMap::new(),
    };
    let mut layer = desc(PAYLOAD_MEDIA_TYPE, &sig.payload);
    layer.annotations.clone_from(&sig.annotations);
    layer
        .annotations
        .insert(SIGNATURE_ANNOTATION.into(), sig.signature_b64.clone());
    let config = desc(wharf_oci::media_type::OCI_EMPTY_JSON, b"{}");
    let m = SigManifest {
        schema_version: 2,
        media_type: Some(wharf_oci::media_type::OCI_MANIFEST.into()),
        config,
        layers: vec![layer],
        artifact_type: Some(REFERRER_ARTIFACT_TYPE.into()),
        subject: Some(Desc {
            media_type: subject_mt.to_owned(),
            digest: digest.to_string(),
            size: subject_size,
            annotations: BTreeMap::new(),
        }),
    };
    ReferrerForm::new(
        &m,
        REFERRER_ARTIFACT_TYPE,
        PAYLOAD_MEDIA_TYPE,
        sig.payload.clone(),
    )
}

/// Stores `sig` as an OCI 1.1 referrer of the manifest `subject` (`subject_media_type`,
/// `subject_size` bytes), as cosign's `--registry-referrers-mode=oci-1-1` does: a manifest of
/// artifact type [`REFERRER_ARTIFACT_TYPE`] with the empty config and the payload as its one
/// layer, pushed by digest (the tag fallback index is updated when the registry has no
/// referrers API).
pub async fn push_referrer(
    client: &RegistryClient,
    reference: &Reference,
    subject: (&Digest, &str, u64),
    sig: &Signature,
) -> Result<Digest> {
    let repo = &reference.repository;
    let digest = subject.0;
    let form = referrer_form(subject, sig)?;
    for (_, bytes) in &form.blobs {
        push_bytes(client, repo, bytes).await?;
    }
    client
        .put_referrer(repo, Bytes::from(form.manifest), &form.descriptor, digest)
        .await
        .map_err(reg_err(format!(
            "{}/{repo} referrers of {digest}",
            client.host()
        )))
}
