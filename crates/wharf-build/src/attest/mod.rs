//! SBOM and provenance attestations of a built image (`kiln build --sbom`, `--provenance`),
//! attached as an OCI 1.1 referrer so the image manifest (and its digest) stays as it was.
//!
//! Each statement is an in-toto Statement (`https://in-toto.io/Statement/v0.1`, as BuildKit
//! writes them) whose subject is the image manifest. All statements of a build go into one
//! attestation manifest: artifact type `application/vnd.in-toto+json`, the empty config
//! (`application/vnd.oci.empty.v1+json`, `{}`), one layer per statement with media type
//! `application/vnd.in-toto+json` and the annotation `in-toto.io/predicate-type`, and
//! `subject` = the image manifest. It is stored with [`wharf_store::Store::put_referrer`].
//!
//! - The SBOM ([`sbom`]) is an SPDX 2.3 document (or CycloneDX 1.5) of the final root
//!   filesystem read from the layer blobs ([`tree`]): packages of the dpkg and apk databases
//!   ([`packages`]), and the files this build's COPY/ADD steps left in the image with their
//!   SHA-1 and SHA-256.
//! - The provenance ([`provenance`]) is SLSA v1 in BuildKit's shape.
//!
//! With a fixed time (`--timestamp`, `SOURCE_DATE_EPOCH`) both are byte-for-byte reproducible.

use std::io::Read as _;
use std::sync::Mutex;

use serde_json::Value;
use wharf_oci::media_type::{OCI_EMPTY_JSON, OCI_MANIFEST};
use wharf_oci::{Descriptor, Digest, ImageConfig, Platform, RawManifest};
use wharf_store::Store;

use crate::error::BuildError;
use crate::{BuildOptions, Built};

mod packages;
pub mod provenance;
mod sbom;
mod tree;

/// The statement envelope BuildKit writes.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v0.1";
/// Media type of an in-toto statement layer and artifact type of the attestation manifest.
pub const IN_TOTO: &str = "application/vnd.in-toto+json";
/// The annotation that names a statement layer's predicate type.
pub const PREDICATE_ANNOTATION: &str = "in-toto.io/predicate-type";
pub const SPDX_PREDICATE: &str = "https://spdx.dev/Document";
pub const CYCLONEDX_PREDICATE: &str = "https://cyclonedx.org/bom";
pub const SLSA_V1_PREDICATE: &str = "https://slsa.dev/provenance/v1";

/// The most bytes of one statement read back.
const STATEMENT_LIMIT: u64 = 512 << 20;

/// Something the build read from outside its context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Material {
    /// `pkg:docker/NAME@TAG?platform=OS%2FARCH` for an image, the URL for ADD.
    pub uri: String,
    pub digest: Digest,
}

/// Materials recorded while stages build (possibly on several threads).
#[derive(Debug, Default)]
pub struct Materials(Mutex<Vec<Material>>);

impl Materials {
    fn push(&self, m: Material) {
        if let Ok(mut v) = self.0.lock() {
            v.push(m);
        }
    }

    /// A base image (`FROM`, `COPY --from`, a named context) as the store resolved it.
    pub(crate) fn image(&self, name: &str, digest: &Digest, platform: Option<&Platform>) {
        self.push(Material {
            uri: image_purl(name, platform),
            digest: digest.clone(),
        });
    }

    /// An ADD URL and the digest of what it served.
    pub(crate) fn url(&self, url: &str, digest: &Digest) {
        self.push(Material {
            uri: url.to_owned(),
            digest: digest.clone(),
        });
    }

    /// Everything recorded, sorted, each once.
    pub(crate) fn take(&self) -> Vec<Material> {
        let mut v = self
            .0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        v.sort_by(|a, b| (&a.uri, a.digest.as_ref()).cmp(&(&b.uri, b.digest.as_ref())));
        v.dedup();
        v
    }
}

/// `docker.io/library/busybox:latest` → `pkg:docker/docker.io/library/busybox@latest`, with
/// `?platform=linux%2Famd64` when given (BuildKit's form).
pub(crate) fn image_purl(name: &str, platform: Option<&Platform>) -> String {
    let (repo, version) = match name.rsplit_once('@') {
        Some((r, d)) => (r.to_owned(), d.to_owned()),
        None => match name.rsplit_once(':').filter(|(_, t)| !t.contains('/')) {
            Some((r, t)) => (r.to_owned(), t.to_owned()),
            None => (name.to_owned(), "latest".to_owned()),
        },
    };
    let mut s = format!("pkg:docker/{repo}@{}", packages::purl_encode(&version));
    if let Some(p) = platform {
        s.push_str("?platform=");
        s.push_str(&packages::purl_encode(&p.to_string()));
    }
    s
}

/// The SBOM's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbomFormat {
    Spdx,
    CycloneDx,
}

/// How much the provenance says (BuildKit's `mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvenanceMode {
    /// Parameters, dependencies, builder, times.
    Min,
    /// `Min` and the Dockerfile source and its steps.
    Max,
}

/// What to attach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttestOptions {
    pub sbom: Option<SbomFormat>,
    pub provenance: Option<ProvenanceMode>,
}

impl AttestOptions {
    pub fn is_empty(&self) -> bool {
        self.sbom.is_none() && self.provenance.is_none()
    }
}

/// When the build ran (for provenance; a fixed build time replaces both).
#[derive(Debug, Clone, Copy)]
pub struct Invocation {
    pub started: chrono::DateTime<chrono::Utc>,
    pub finished: chrono::DateTime<chrono::Utc>,
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Makes the statements `att` asks for about `built` and stores them as one attestation
/// manifest referring to the image manifest. Warnings (unreadable package databases) go to
/// `warn`. Returns the attestation manifest's descriptor, `None` when nothing was asked.
pub fn attach(
    store: &Store,
    opts: &BuildOptions,
    built: &Built,
    att: &AttestOptions,
    invocation: &Invocation,
    warn: &mut dyn FnMut(String),
) -> Result<Option<Descriptor>, BuildError> {
    if att.is_empty() {
        return Ok(None);
    }
    let fixed = opts
        .timestamp
        .or(opts.source_date_epoch)
        .map(|s| chrono::DateTime::from_timestamp(s, 0).unwrap_or_default());
    let invocation = match fixed {
        Some(t) => Invocation {
            started: t,
            finished: t,
        },
        None => *invocation,
    };
    let manifest_bytes = store.read_small(&built.manifest)?;
    let raw = RawManifest::parse(manifest_bytes.clone(), None)?;
    let subject = raw.descriptor();
    let image = raw.image().ok_or_else(|| BuildError::Attestation {
        reason: format!("{} is not an image manifest", built.manifest),
    })?;
    let config: ImageConfig = store.read_json(image.config().digest())?;
    let platform = Platform::new(&config.os, &config.architecture, config.variant.as_deref());
    let names: Vec<String> = opts
        .tags
        .iter()
        .map(|t| wharf_store::normalize_name(t).unwrap_or_else(|_| t.clone()))
        .collect();
    let hex = built.manifest.digest().to_owned();
    let subjects: Vec<Value> = if names.is_empty() {
        vec![serde_json::json!({"name": "_", "digest": {"sha256": hex}})]
    } else {
        names
            .iter()
            .map(|n| {
                serde_json::json!({"name": image_purl(n, Some(&platform)), "digest": {"sha256": hex}})
            })
            .collect()
    };
    let statement = |predicate_type: &str, predicate: Value| {
        serde_json::json!({
            "_type": STATEMENT_TYPE,
            "predicateType": predicate_type,
            "subject": subjects,
            "predicate": predicate,
        })
    };
    let mut statements: Vec<(&str, Value)> = Vec::new();
    if let Some(format) = att.sbom {
        let tree = tree::read(store, &built.manifest, built.base_layers)?;
        let name = names
            .first()
            .cloned()
            .unwrap_or_else(|| built.manifest.to_string());
        let info = sbom::DocumentInfo {
            name: &name,
            image_id_hex: built.image_id.digest(),
            created: &rfc3339(invocation.finished),
        };
        let (doc, warnings, predicate_type) = match format {
            SbomFormat::Spdx => {
                let (d, w) = sbom::spdx(&tree, &info);
                (d, w, SPDX_PREDICATE)
            }
            SbomFormat::CycloneDx => {
                let (d, w) = sbom::cyclonedx(&tree, &info);
                (d, w, CYCLONEDX_PREDICATE)
            }
        };
        for w in warnings {
            warn(format!("SBOM: {w}"));
        }
        statements.push((predicate_type, statement(predicate_type, doc)));
    }
    if let Some(mode) = att.provenance {
        let p = provenance::predicate(opts, built, mode, &platform, &invocation, fixed.is_some());
        statements.push((SLSA_V1_PREDICATE, statement(SLSA_V1_PREDICATE, p)));
    }
    let empty = store.put_blob_bytes(OCI_EMPTY_JSON, b"{}")?;
    let mut layers = Vec::new();
    for (predicate_type, s) in statements {
        let bytes = serde_json::to_vec(&s).map_err(|e| BuildError::Attestation {
            reason: format!("encoding the {predicate_type} statement: {e}"),
        })?;
        let mut d = store.put_blob_bytes(IN_TOTO, &bytes)?;
        d.set_annotations(Some(
            [(PREDICATE_ANNOTATION.to_owned(), predicate_type.to_owned())].into(),
        ));
        layers.push(d);
    }
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": IN_TOTO,
        "config": {"mediaType": OCI_EMPTY_JSON, "digest": empty.digest(), "size": 2, "data": "e30="},
        "layers": layers,
        "subject": subject,
    });
    let bytes = serde_json::to_vec(&manifest).map_err(|e| BuildError::Attestation {
        reason: format!("encoding the attestation manifest: {e}"),
    })?;
    Ok(Some(store.put_referrer(&bytes)?))
}

/// One statement attached to an image.
#[derive(Debug, Clone)]
pub struct Statement {
    /// The attestation manifest it is in.
    pub attestation: Digest,
    pub predicate_type: String,
    pub layer: Descriptor,
    pub body: Value,
}

/// The in-toto statements attached to the image manifest `subject` in the store, in
/// attestation order. Each statement blob is verified against its digest when read.
pub fn statements(store: &Store, subject: &Digest) -> Result<Vec<Statement>, BuildError> {
    let mut out = Vec::new();
    for r in store.referrers(subject)? {
        if r.artifact_type()
            .as_ref()
            .map(ToString::to_string)
            .as_deref()
            != Some(IN_TOTO)
        {
            continue;
        }
        let raw = RawManifest::parse(store.read_small(r.digest())?, None)?;
        let Some(m) = raw.image() else { continue };
        for layer in m.layers() {
            if layer.media_type().to_string() != IN_TOTO {
                continue;
            }
            let predicate_type = layer
                .annotations()
                .as_ref()
                .and_then(|a| a.get(PREDICATE_ANNOTATION))
                .cloned()
                .unwrap_or_default();
            let path = store.blob_path(layer.digest());
            let mut bytes = Vec::new();
            store
                .open_blob(layer.digest())?
                .take(STATEMENT_LIMIT)
                .read_to_end(&mut bytes)
                .map_err(BuildError::io("reading", &path))?;
            let actual = wharf_oci::digest::sha256(&bytes);
            if &actual != layer.digest() {
                return Err(BuildError::Attestation {
                    reason: format!(
                        "statement blob {} holds {actual}: the store is damaged (run `kiln system check`)",
                        layer.digest()
                    ),
                });
            }
            let body: Value =
                serde_json::from_slice(&bytes).map_err(|e| BuildError::Attestation {
                    reason: format!("statement blob {} is not JSON: {e}", layer.digest()),
                })?;
            out.push(Statement {
                attestation: r.digest().clone(),
                predicate_type,
                layer: layer.clone(),
                body,
            });
        }
    }
    Ok(out)
}
