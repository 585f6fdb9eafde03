//! OCI 1.1 referrers kept in the layout: signatures, SBOMs and provenance attached to an image
//! without changing its manifest.
//!
//! **The convention** (shared by every OCI layout Wharf writes, the store included): a referrer
//! manifest is a blob listed in `index.json` as a manifest descriptor that carries
//! `artifactType` and no `org.opencontainers.image.ref.name`. The referrers of X are the
//! entries of that kind whose manifest's `subject` is X. A referrer lives as long as its
//! subject is reachable from a named or unnamed image (or from another live referrer: a
//! signature of an SBOM); [`Store::gc`] drops the entries of the others and frees their blobs.

use serde::Deserialize;
use wharf_oci::media_type::OCI_MANIFEST;
use wharf_oci::{Descriptor, Digest, MediaType};

use crate::index::{REF_NAME, ref_name};
use crate::refs::Refs;
use crate::{Store, StoreError};

/// Whether an `index.json` entry is a referrer rather than an image (see the module docs).
/// The one test of the convention: every OCI layout Wharf reads or writes uses it.
pub fn is_referrer(d: &Descriptor) -> bool {
    d.artifact_type().is_some() && ref_name(d).is_none()
}

/// The subject a manifest names, when it parses and has one.
fn subject_in(manifest_bytes: &[u8]) -> Option<Digest> {
    let f: ReferrerFields = serde_json::from_slice(manifest_bytes).ok()?;
    f.subject.map(|s| s.digest().clone())
}

/// The referrers of `subject` among the `index.json` entries `entries` of an OCI layout, in
/// order, each digest once. `read` gives a manifest blob's bytes; entries whose blob is
/// missing or does not parse are skipped (they are no referrer of anything).
pub fn referrers_among<'a>(
    entries: impl IntoIterator<Item = &'a Descriptor>,
    subject: &Digest,
    mut read: impl FnMut(&Digest) -> Option<Vec<u8>>,
) -> Vec<Descriptor> {
    let mut out: Vec<Descriptor> = Vec::new();
    for d in entries.into_iter().filter(|d| is_referrer(d)) {
        if out.iter().any(|o| o.digest() == d.digest()) {
            continue;
        }
        if read(d.digest()).and_then(|b| subject_in(&b)).as_ref() == Some(subject) {
            out.push(d.clone());
        }
    }
    out
}

/// The fields of a referrer manifest the store needs.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReferrerFields {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    artifact_type: Option<String>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    subject: Option<Descriptor>,
    #[serde(default)]
    annotations: Option<std::collections::HashMap<String, String>>,
}

impl Store {
    /// The subject digest of the manifest blob `d`, when it has one.
    pub(crate) fn subject_of(&self, d: &Digest) -> Option<Digest> {
        subject_in(&self.read_small(d).ok()?)
    }

    /// Stores an OCI image manifest that refers to another manifest (`subject`) and lists it in
    /// `index.json` as a referrer. Its artifact type is its `artifactType`, else its config's
    /// media type (as the referrers API reports it); its annotations are copied onto the
    /// index entry, as the referrers API lists them. Everything it names and its subject must
    /// already be in the store. Storing the same manifest twice records it once.
    pub fn put_referrer(&self, manifest_bytes: &[u8]) -> Result<Descriptor, StoreError> {
        let what = "the referrer manifest being stored";
        let fields: ReferrerFields =
            serde_json::from_slice(manifest_bytes).map_err(|source| StoreError::Json {
                what: what.to_owned(),
                source,
            })?;
        if fields.media_type.as_deref() != Some(OCI_MANIFEST) {
            return Err(StoreError::BadReferrer {
                reason: format!(
                    "its mediaType is {:?}; a referrer is an OCI image manifest ({OCI_MANIFEST})",
                    fields.media_type.unwrap_or_default()
                ),
            });
        }
        let subject = fields.subject.ok_or_else(|| StoreError::BadReferrer {
            reason: "it has no subject: name the manifest it refers to".to_owned(),
        })?;
        let artifact_type = fields
            .artifact_type
            .or_else(|| fields.config.map(|c| c.media_type().to_string()))
            .filter(|t| !t.is_empty())
            .ok_or_else(|| StoreError::BadReferrer {
                reason: "it has neither an artifactType nor a config media type".to_owned(),
            })?;
        if !self.has_blob(subject.digest()) {
            return Err(StoreError::BadReferrer {
                reason: format!(
                    "its subject {} is not in the store: store the image first",
                    subject.digest()
                ),
            });
        }
        let refs = Refs::parse(manifest_bytes, &what)?;
        let mut descriptor = self.put_blob_bytes(OCI_MANIFEST, manifest_bytes)?;
        descriptor.set_artifact_type(Some(MediaType::from(artifact_type.as_str())));
        let annotations: std::collections::HashMap<String, String> = fields
            .annotations
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k != REF_NAME)
            .collect();
        descriptor.set_annotations((!annotations.is_empty()).then_some(annotations));
        self.update_index(|index| {
            // Checked under the lock, as `commit_image` does: gc cannot take them meanwhile.
            self.verify_present(descriptor.digest(), &refs, 0)?;
            if !self.has_blob(subject.digest()) {
                return Err(StoreError::BadReferrer {
                    reason: format!("its subject {} left the store", subject.digest()),
                });
            }
            if !index
                .manifests
                .iter()
                .any(|d| is_referrer(d) && d.digest() == descriptor.digest())
            {
                index.manifests.push(descriptor.clone());
            }
            Ok(())
        })?;
        Ok(descriptor)
    }

    /// Takes the referrer entries `digests` out of `index.json` (their blobs go with the next
    /// [`Store::gc`]). Digests that are not referrer entries are left alone.
    pub fn remove_referrers(&self, digests: &[Digest]) -> Result<(), StoreError> {
        if digests.is_empty() {
            return Ok(());
        }
        self.update_index(|index| {
            index
                .manifests
                .retain(|d| !(is_referrer(d) && digests.contains(d.digest())));
            Ok(())
        })
    }

    /// The referrers of `subject` in the store: their index descriptors (media type, digest,
    /// size, `artifactType`, annotations), in `index.json` order.
    pub fn referrers(&self, subject: &Digest) -> Result<Vec<Descriptor>, StoreError> {
        let index = self.read_index()?;
        Ok(referrers_among(&index.manifests, subject, |d| {
            self.read_small(d).ok()
        }))
    }
}

#[cfg(test)]
mod tests {
    use wharf_oci::media_type::{OCI_CONFIG, OCI_EMPTY_JSON, OCI_LAYER_TAR};

    use crate::Store;

    fn image(store: &Store, name: &str, layer: &[u8]) -> wharf_oci::Descriptor {
        let config = store
            .put_blob_bytes(
                OCI_CONFIG,
                b"{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
            )
            .unwrap();
        let layer = store.put_blob_bytes(OCI_LAYER_TAR, layer).unwrap();
        let manifest = serde_json::json!({
            "schemaVersion": 2, "mediaType": wharf_oci::media_type::OCI_MANIFEST,
            "config": config, "layers": [layer],
        });
        let bytes = serde_json::to_vec(&manifest).unwrap();
        store
            .commit_image(
                &bytes,
                wharf_oci::media_type::OCI_MANIFEST,
                &[name.to_owned()],
            )
            .unwrap()
    }

    fn attestation(store: &Store, subject: &wharf_oci::Descriptor, body: &[u8]) -> Vec<u8> {
        let empty = store.put_blob_bytes(OCI_EMPTY_JSON, b"{}").unwrap();
        let layer = store
            .put_blob_bytes("application/vnd.in-toto+json", body)
            .unwrap();
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": wharf_oci::media_type::OCI_MANIFEST,
            "artifactType": "application/vnd.in-toto+json",
            "config": empty, "layers": [layer], "subject": subject,
            "annotations": {"org.opencontainers.image.ref.name": "sneaky", "a": "b"},
        }))
        .unwrap()
    }

    #[test]
    fn referrers_are_found_hidden_from_images_and_live_as_long_as_their_subject() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open(t.path().join("s")).unwrap();
        let app = image(&store, "app", b"layer one");
        let other = image(&store, "other", b"layer two");
        let bytes = attestation(&store, &app, b"{\"statement\":1}");
        let r = store.put_referrer(&bytes).unwrap();
        // Twice is once.
        store.put_referrer(&bytes).unwrap();
        assert_eq!(
            r.artifact_type()
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some("application/vnd.in-toto+json")
        );
        let found = store.referrers(app.digest()).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].digest(), r.digest());
        // The subject's own name never rides on the referrer's entry.
        assert_eq!(crate::index::ref_name(&found[0]), None);
        assert!(store.referrers(other.digest()).unwrap().is_empty());
        assert_eq!(store.list_images().unwrap().len(), 2);
        assert!(store.prune_dangling().unwrap().is_empty());

        // Alive while the subject is (what this handle wrote is pinned until released).
        store.release_pins().unwrap();
        store.gc().unwrap();
        assert!(store.has_blob(r.digest()));
        let layer = store.referrers(app.digest()).unwrap();
        assert_eq!(layer.len(), 1);

        // Garbage once it is gone: entry and blobs.
        store.remove_image("app").unwrap();
        let report = store.gc().unwrap();
        assert!(report.removed_blobs.contains(r.digest()), "{report:?}");
        assert!(!store.has_blob(r.digest()));
        assert!(store.referrers(app.digest()).unwrap().is_empty());
        assert!(
            !std::fs::read_to_string(store.oci_dir().join("index.json"))
                .unwrap()
                .contains(&r.digest().to_string())
        );
        assert!(store.has_blob(other.digest()));
        assert!(store.fsck().unwrap().problems.is_empty());
    }

    #[test]
    fn a_referrer_without_subject_or_with_a_missing_one_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open(t.path().join("s")).unwrap();
        let app = image(&store, "app", b"x");
        let mut v: serde_json::Value =
            serde_json::from_slice(&attestation(&store, &app, b"{}")).unwrap();
        v.as_object_mut().unwrap().remove("subject");
        let err = store
            .put_referrer(&serde_json::to_vec(&v).unwrap())
            .unwrap_err();
        assert!(err.to_string().contains("no subject"), "{err}");
        let mut missing = app.clone();
        missing.set_digest(wharf_oci::digest::sha256(b"nothing"));
        let err = store
            .put_referrer(&attestation(&store, &missing, b"{}"))
            .unwrap_err();
        assert!(err.to_string().contains("not in the store"), "{err}");
    }
}
