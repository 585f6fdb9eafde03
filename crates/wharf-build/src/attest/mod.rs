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
//! - The SBOM (module `sbom`) is an SPDX 2.3 document (or CycloneDX 1.5) of the final root
//!   filesystem read from the layer blobs (module `tree`): packages of the dpkg and apk databases
//!   (module `packages`), and the files this build's COPY/ADD steps left in the image with their
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

/// The annotation on kiln's attestation manifests that says who made them (so a rebuild
/// replaces only its own).
const BUILDER_ANNOTATION: &str = "dev.wharf.attestation.builder";
const BUILDER: &str = "kiln build";

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

/// The environment variable that turns the default provenance off, as in buildx.
pub const NO_DEFAULT_ENV: &str = "BUILDX_NO_DEFAULT_ATTESTATIONS";

impl AttestOptions {
    pub fn is_empty(&self) -> bool {
        self.sbom.is_none() && self.provenance.is_none()
    }

    /// What `--sbom[=VALUE]`, `--provenance[=VALUE]` and `--attest type=...` (repeatable) ask
    /// for, as buildx reads them: `--sbom` alone, `true`, `spdx` or `cyclonedx` turn the SBOM
    /// on, `false` off; `--provenance` takes `min`, `max`, `mode=min|max`, `true` (min) or
    /// `false`, and is `min` when not given unless `no_default` (`$BUILDX_NO_DEFAULT_ATTESTATIONS`
    /// set to a true value). `--attest type=sbom[,format=cyclonedx][,disabled=true]` and
    /// `--attest type=provenance[,mode=max][,disabled=true]` say the same; the shorthand flags
    /// win over `--attest` as in buildx.
    pub fn from_flags(
        sbom: Option<&str>,
        provenance: Option<&str>,
        attest: &[String],
        no_default: bool,
    ) -> Result<Self, BuildError> {
        let bad = |flag: &'static str, value: &str, reason: &str| BuildError::InvalidFlag {
            flag,
            value: value.to_owned(),
            reason: reason.to_owned(),
        };
        let mut out = AttestOptions {
            sbom: None,
            provenance: (!no_default).then_some(ProvenanceMode::Min),
        };
        for spec in attest {
            let mut kind = None;
            let mut disabled = false;
            let mut mode = ProvenanceMode::Min;
            let mut format = SbomFormat::Spdx;
            for part in spec.split(',') {
                let (k, v) = part.split_once('=').unwrap_or((part, ""));
                match (k.trim(), v.trim()) {
                    ("type", t @ ("sbom" | "provenance")) => kind = Some(t.to_owned()),
                    ("type", t) => {
                        return Err(bad(
                            "attest",
                            spec,
                            &format!("unknown attestation type {t:?}: expected sbom or provenance"),
                        ));
                    }
                    ("disabled", v) => {
                        disabled = parse_bool(v)
                            .ok_or_else(|| bad("attest", spec, "disabled takes true or false"))?;
                    }
                    ("mode", "min") => mode = ProvenanceMode::Min,
                    ("mode", "max") => mode = ProvenanceMode::Max,
                    ("mode", _) => return Err(bad("attest", spec, "mode takes min or max")),
                    ("format", "spdx" | "spdx-json") => format = SbomFormat::Spdx,
                    ("format", "cyclonedx" | "cyclonedx-json") => format = SbomFormat::CycloneDx,
                    ("format", _) => {
                        return Err(bad("attest", spec, "format takes spdx or cyclonedx"));
                    }
                    // BuildKit's scanner image and its options: kiln has its own scanner.
                    (
                        "generator" | "scan-context" | "scan-stage" | "builder-id" | "version"
                        | "reproducible" | "inline-only",
                        _,
                    ) => {}
                    (k, _) => {
                        return Err(bad("attest", spec, &format!("unknown key {k:?}")));
                    }
                }
            }
            match kind.as_deref() {
                Some("sbom") => out.sbom = (!disabled).then_some(format),
                Some(_) => out.provenance = (!disabled).then_some(mode),
                None => return Err(bad("attest", spec, "expected type=sbom or type=provenance")),
            }
        }
        if let Some(v) = sbom {
            out.sbom = match v.trim() {
                "" | "spdx" | "spdx-json" => Some(SbomFormat::Spdx),
                "cyclonedx" | "cyclonedx-json" => Some(SbomFormat::CycloneDx),
                v => match parse_bool(v) {
                    Some(true) => Some(SbomFormat::Spdx),
                    Some(false) => None,
                    None => {
                        return Err(bad("sbom", v, "expected true, false, spdx or cyclonedx"));
                    }
                },
            };
        }
        if let Some(v) = provenance {
            let v = v.trim();
            out.provenance = match v.strip_prefix("mode=").unwrap_or(v) {
                "" | "min" => Some(ProvenanceMode::Min),
                "max" => Some(ProvenanceMode::Max),
                other => match parse_bool(other) {
                    Some(true) => Some(ProvenanceMode::Min),
                    Some(false) => None,
                    None => {
                        return Err(bad(
                            "provenance",
                            v,
                            "expected min, max, mode=min|max, true or false",
                        ));
                    }
                },
            };
        }
        Ok(out)
    }
}

/// Go's `strconv.ParseBool`, which buildx uses for these values.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Whether `$BUILDX_NO_DEFAULT_ATTESTATIONS` turns the default provenance off (any value Go
/// reads as true).
pub fn no_default_from_env() -> bool {
    std::env::var(NO_DEFAULT_ENV).is_ok_and(|v| parse_bool(v.trim()) == Some(true))
}

/// When the build ran (for provenance; a fixed build time replaces both).
#[derive(Debug, Clone, Copy)]
pub struct Invocation {
    pub started: chrono::DateTime<chrono::Utc>,
    pub finished: chrono::DateTime<chrono::Utc>,
}

impl Invocation {
    /// A build starting now.
    pub fn start() -> Self {
        let now = chrono::Utc::now();
        Self {
            started: now,
            finished: now,
        }
    }

    /// The same build, finished now.
    #[must_use]
    pub fn finish(self) -> Self {
        Self {
            finished: chrono::Utc::now(),
            ..self
        }
    }
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
        "annotations": {BUILDER_ANNOTATION: BUILDER},
    });
    let bytes = serde_json::to_vec(&manifest).map_err(|e| BuildError::Attestation {
        reason: format!("encoding the attestation manifest: {e}"),
    })?;
    let earlier: Vec<Digest> = store
        .referrers(&built.manifest)?
        .into_iter()
        .filter(|r| {
            r.artifact_type()
                .as_ref()
                .map(ToString::to_string)
                .as_deref()
                == Some(IN_TOTO)
                && r.annotations()
                    .as_ref()
                    .and_then(|a| a.get(BUILDER_ANNOTATION))
                    .is_some_and(|v| v == BUILDER)
        })
        .map(|r| r.digest().clone())
        .collect();
    let stored = store.put_referrer(&bytes)?;
    // A rebuild of the same image replaces what kiln attached before (as BuildKit's
    // attestation manifest is replaced); attestations from elsewhere stay.
    let stale: Vec<Digest> = earlier
        .into_iter()
        .filter(|d| d != stored.digest())
        .collect();
    store.remove_referrers(&stale)?;
    Ok(Some(stored))
}

/// The statements of `predicate_type` attached to the image `name` (a name, ID or digest; for
/// a manifest list, its image for this host's platform), oldest first.
pub fn find(
    store: &Store,
    name: &str,
    predicate_types: &[&str],
) -> Result<Vec<Statement>, BuildError> {
    let record = store.resolve(name)?;
    let mut manifest = record.digest().clone();
    let raw = RawManifest::parse(store.read_small(&manifest)?, None)?;
    if let Some(index) = raw.index() {
        let host = Platform::host();
        manifest = wharf_oci::platform::select_manifest(index.manifests(), &host)
            .ok_or_else(|| BuildError::NoPlatformImage {
                name: name.to_owned(),
                wanted: host.to_string(),
            })?
            .digest()
            .clone();
    }
    Ok(statements(store, &manifest)?
        .into_iter()
        .filter(|s| predicate_types.contains(&s.predicate_type.as_str()))
        .collect())
}

/// BuildKit's index layout (`--attest-layout=index`), for registries and tools that know no
/// referrers: an image index holding the image (with its platform) and the attestation
/// manifest `attestation` (platform `unknown/unknown`, annotated
/// `vnd.docker.reference.type: attestation-manifest` and `vnd.docker.reference.digest`),
/// committed under `names`, which then name the index. The attestation stays a referrer too.
pub fn index_layout(
    store: &Store,
    built: &Built,
    attestation: &Descriptor,
    names: &[String],
) -> Result<Descriptor, BuildError> {
    let raw = RawManifest::parse(store.read_small(&built.manifest)?, None)?;
    let image = raw.image().ok_or_else(|| BuildError::Attestation {
        reason: format!("{} is not an image manifest", built.manifest),
    })?;
    let config: ImageConfig = store.read_json(image.config().digest())?;
    let encode = |d: &Descriptor| {
        serde_json::to_value(d).map_err(|e| BuildError::Attestation {
            reason: format!("encoding a descriptor: {e}"),
        })
    };
    let mut image_entry = encode(&raw.descriptor())?;
    let mut platform = serde_json::json!({"architecture": config.architecture, "os": config.os});
    if let Some(v) = config.variant.as_deref().filter(|v| !v.is_empty()) {
        platform["variant"] = v.into();
    }
    image_entry["platform"] = platform;
    let mut att_entry = encode(attestation)?;
    att_entry["platform"] = serde_json::json!({"architecture": "unknown", "os": "unknown"});
    att_entry["annotations"] = serde_json::json!({
        "vnd.docker.reference.digest": built.manifest.to_string(),
        "vnd.docker.reference.type": "attestation-manifest",
    });
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": wharf_oci::media_type::OCI_INDEX,
        "manifests": [image_entry, att_entry],
    });
    let bytes = serde_json::to_vec(&index).map_err(|e| BuildError::Attestation {
        reason: format!("encoding the index: {e}"),
    })?;
    Ok(store.commit_image(&bytes, wharf_oci::media_type::OCI_INDEX, names)?)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_as_buildx_reads_them() {
        let f = |s: Option<&str>, p: Option<&str>, a: &[&str], nd: bool| {
            let a: Vec<String> = a.iter().map(|s| (*s).to_owned()).collect();
            AttestOptions::from_flags(s, p, &a, nd)
        };
        let min = Some(ProvenanceMode::Min);
        assert_eq!(f(None, None, &[], false).unwrap().provenance, min);
        assert!(f(None, None, &[], true).unwrap().is_empty());
        let o = f(Some("true"), Some("max"), &[], false).unwrap();
        assert_eq!(
            (o.sbom, o.provenance),
            (Some(SbomFormat::Spdx), Some(ProvenanceMode::Max))
        );
        assert_eq!(
            f(None, Some("mode=max"), &[], true).unwrap().provenance,
            Some(ProvenanceMode::Max)
        );
        assert!(
            f(Some("false"), Some("false"), &[], false)
                .unwrap()
                .is_empty()
        );
        let o = f(None, None, &["type=sbom", "type=provenance,mode=max"], true).unwrap();
        assert_eq!(
            (o.sbom, o.provenance),
            (Some(SbomFormat::Spdx), Some(ProvenanceMode::Max))
        );
        let o = f(
            None,
            None,
            &[
                "type=provenance,disabled=true",
                "type=sbom,format=cyclonedx",
            ],
            false,
        )
        .unwrap();
        assert_eq!((o.sbom, o.provenance), (Some(SbomFormat::CycloneDx), None));
        assert!(f(Some("maybe"), None, &[], false).is_err());
        assert!(f(None, Some("full"), &[], false).is_err());
        assert!(f(None, None, &["type=vex"], false).is_err());
        assert!(f(None, None, &["mode=max"], false).is_err());
    }
}
