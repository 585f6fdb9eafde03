//! In-toto attestations (SBOM, provenance) attached to an image as OCI 1.1 referrers, read from
//! an `oci:` layout, the store or a registry (`ferry inspect --attestations`).
//!
//! Candidates come from [`Source::referrers`]: the store's convention for the store and
//! layouts (`wharf_store::is_referrer`), the OCI 1.1 referrers API or its `sha256-<hex>` tag
//! fallback for registries. Every candidate is fetched by digest and must name the subject.

use wharf_oci::{Descriptor, Digest};

use crate::error::TransportError;
use crate::source::Source;

type Result<T> = std::result::Result<T, TransportError>;

/// Media type of in-toto statements and artifact type of attestation manifests.
pub const IN_TOTO: &str = "application/vnd.in-toto+json";

/// One statement and where it was found.
#[derive(Debug, Clone)]
pub struct Attestation {
    /// The attestation manifest's digest.
    pub manifest: Digest,
    /// The `in-toto.io/predicate-type` annotation of its layer.
    pub predicate_type: String,
    pub statement: serde_json::Value,
}

/// The in-toto statements attached to the image manifest `subject` of `src` (a layout or the
/// store), in index order. Every manifest and statement is checked against its digest.
pub async fn attestations(src: &Source, subject: &Digest) -> Result<Vec<Attestation>> {
    // Every source lists referrers the same way: the store and layouts by the store's
    // convention, registries through the referrers API or its tag fallback.
    let candidates = src.referrers(subject).await?;
    let mut out = Vec::new();
    for d in candidates {
        if d.artifact_type()
            .as_ref()
            .map(ToString::to_string)
            .as_deref()
            != Some(IN_TOTO)
        {
            continue;
        }
        let m = src.child_manifest(&d).await?;
        let Some(image) = m.image() else { continue };
        if image.subject().as_ref().map(Descriptor::digest) != Some(subject) {
            continue;
        }
        for layer in image.layers() {
            if layer.media_type().to_string() != IN_TOTO {
                continue;
            }
            let bytes = src.blob_bytes(layer).await?;
            let statement =
                serde_json::from_slice(&bytes).map_err(|source| TransportError::Json {
                    what: format!("statement {}", layer.digest()),
                    source,
                })?;
            out.push(Attestation {
                manifest: d.digest().clone(),
                predicate_type: layer
                    .annotations()
                    .as_ref()
                    .and_then(|a| a.get("in-toto.io/predicate-type"))
                    .cloned()
                    .unwrap_or_default(),
                statement,
            });
        }
    }
    Ok(out)
}
