//! The OCI image layout (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`): finding an image by
//! its `org.opencontainers.image.ref.name` and adding one.

use std::path::{Path, PathBuf};

use wharf_oci::{Descriptor, Digest, ImageIndex, MediaType};
use wharf_store::{OCI_LAYOUT, REF_NAME, is_referrer};

use crate::error::{Result, TransportError};
use crate::files::{Files, write_atomic};

pub(crate) fn blob_path(d: &Digest) -> String {
    format!("blobs/{}/{}", d.algorithm().as_ref(), d.digest())
}

fn read_index(files: &Files) -> Result<ImageIndex> {
    let bytes = files.read_small("index.json")?;
    serde_json::from_slice(&bytes).map_err(TransportError::json(format!(
        "{}/index.json",
        files.location().display()
    )))
}

/// The index entry named `name`, or the only entry when no name is given.
pub(crate) fn find(files: &Files, name: Option<&str>) -> Result<Descriptor> {
    let index = read_index(files)?;
    let loc = files.location().display().to_string();
    match name {
        Some(n) => index
            .manifests()
            .iter()
            .find(|d| {
                d.annotations()
                    .as_ref()
                    .and_then(|a| a.get(REF_NAME))
                    .is_some_and(|v| v == n)
            })
            .cloned()
            .ok_or_else(|| TransportError::NotFound {
                what: format!("image {n:?}"),
                location: loc,
            }),
        None => match images(&index).as_slice() {
            [only] => Ok((*only).clone()),
            [] => Err(TransportError::NotFound {
                what: "any image".into(),
                location: loc,
            }),
            many => Err(TransportError::Invalid {
                location: loc,
                what: format!(
                    "the layout holds {} images: name one with oci:PATH:NAME",
                    many.len()
                ),
            }),
        },
    }
}

/// The entries that are images, not referrers.
fn images(index: &ImageIndex) -> Vec<&Descriptor> {
    index
        .manifests()
        .iter()
        .filter(|d| !is_referrer(d))
        .collect()
}

/// The referrers of `subject` in a layout, by the store's convention
/// ([`wharf_store::referrers_among`]): entries whose blob is missing or does not parse are
/// skipped.
pub fn referrers(files: &Files, subject: &Digest) -> Result<Vec<Descriptor>> {
    let index = read_index(files)?;
    Ok(wharf_store::referrers_among(
        index.manifests(),
        subject,
        |d| files.read_small(&blob_path(d)).ok(),
    ))
}

/// Records a referrer manifest (already written as a blob) in `index.json`: its descriptor
/// with `artifactType`, without a ref name; an entry of the same digest is replaced.
pub(crate) fn add_referrer(dir: &Path, referrer: &Descriptor) -> Result<()> {
    let files = Files::Dir(dir.to_owned());
    let mut index = read_index(&files)?;
    let mut entries: Vec<Descriptor> = index
        .manifests()
        .iter()
        .filter(|e| !(is_referrer(e) && e.digest() == referrer.digest()))
        .cloned()
        .collect();
    let mut d = referrer.clone();
    if let Some(a) = d.annotations().clone() {
        let kept: std::collections::HashMap<String, String> =
            a.into_iter().filter(|(k, _)| k != REF_NAME).collect();
        d.set_annotations((!kept.is_empty()).then_some(kept));
    }
    entries.push(d);
    index.set_manifests(entries);
    if index.media_type().is_none() {
        index.set_media_type(Some(MediaType::ImageIndex));
    }
    let bytes = serde_json::to_vec(&index).map_err(|source| TransportError::Json {
        what: "index.json".into(),
        source,
    })?;
    write_atomic(&dir.join("index.json"), &bytes)
}

/// Creates the layout's skeleton when missing.
pub(crate) fn init(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir.join("blobs/sha256"))
        .map_err(TransportError::io("creating", dir))?;
    let marker = dir.join("oci-layout");
    if !marker.exists() {
        write_atomic(&marker, OCI_LAYOUT)?;
    }
    if !dir.join("index.json").exists() {
        let empty = serde_json::json!({"schemaVersion": 2, "mediaType": wharf_oci::media_type::OCI_INDEX, "manifests": []});
        write_atomic(
            &dir.join("index.json"),
            &serde_json::to_vec(&empty).unwrap_or_default(),
        )?;
    }
    Ok(())
}

pub(crate) fn blob_file(dir: &Path, d: &Digest) -> PathBuf {
    dir.join(blob_path(d))
}

/// Records `manifest` in `index.json` under `name` (replacing an entry of that name), or
/// unnamed (replacing an unnamed entry of the same digest).
pub(crate) fn add_to_index(dir: &Path, manifest: &Descriptor, name: Option<&str>) -> Result<()> {
    let files = Files::Dir(dir.to_owned());
    let mut index = read_index(&files)?;
    let mut d = manifest.clone();
    d.set_annotations(name.map(|n| [(REF_NAME.to_owned(), n.to_owned())].into()));
    let mut entries: Vec<Descriptor> = index
        .manifests()
        .iter()
        .filter(|e| {
            let ename = e.annotations().as_ref().and_then(|a| a.get(REF_NAME));
            match (name, ename) {
                (Some(n), Some(en)) => n != en,
                (None, None) => e.digest() != manifest.digest(),
                _ => true,
            }
        })
        .cloned()
        .collect();
    entries.push(d);
    index.set_manifests(entries);
    if index.media_type().is_none() {
        index.set_media_type(Some(MediaType::ImageIndex));
    }
    let bytes = serde_json::to_vec(&index).map_err(|source| TransportError::Json {
        what: "index.json".into(),
        source,
    })?;
    write_atomic(&dir.join("index.json"), &bytes)
}
