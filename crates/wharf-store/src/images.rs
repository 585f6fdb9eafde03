//! Images: names recorded in `index.json`, resolution of what users type, tagging, removal, and
//! committing a manifest once everything it names is present.

use std::collections::BTreeSet;

use wharf_oci::media_type::ManifestKind;
use wharf_oci::{Descriptor, Digest};

use crate::index::{LayoutIndex, named, ref_name};
use crate::name::Name;
use crate::referrers::is_referrer;
use crate::refs::{Refs, Role};
use crate::{Store, StoreError};

/// One entry of `index.json`: a name (or none, for an image whose names were all taken away)
/// and the descriptor of its manifest or index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRecord {
    pub name: Option<String>,
    pub manifest: Descriptor,
}

impl ImageRecord {
    pub fn digest(&self) -> &Digest {
        self.manifest.digest()
    }

    fn from_entry(d: &Descriptor) -> Self {
        Self {
            name: ref_name(d).map(str::to_owned),
            manifest: named(d, None),
        }
    }
}

/// How [`Store::resolve`] found an image: by one of its names, or by a digest or ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Matched {
    Name,
    Id,
}

fn distinct_digests<'a>(records: impl Iterator<Item = &'a ImageRecord>) -> BTreeSet<String> {
    records.map(|r| r.digest().to_string()).collect()
}

impl Store {
    /// Every image entry of `index.json`, in file order (referrers are not images: see
    /// [`Store::referrers`]).
    pub fn list_images(&self) -> Result<Vec<ImageRecord>, StoreError> {
        Ok(self
            .read_index()?
            .manifests
            .iter()
            .filter(|d| !is_referrer(d))
            .map(ImageRecord::from_entry)
            .collect())
    }

    /// All names of the image with this manifest digest.
    pub fn image_names(&self, manifest: &Digest) -> Result<Vec<String>, StoreError> {
        Ok(self
            .list_images()?
            .into_iter()
            .filter(|r| r.digest() == manifest)
            .filter_map(|r| r.name)
            .collect())
    }

    /// The image ID as docker and podman show it: the config digest of a manifest, or the digest
    /// of an index.
    pub fn image_id(&self, record: &ImageRecord) -> Result<Digest, StoreError> {
        let refs = self.read_refs(record.digest())?;
        Ok(match refs.config {
            Some(c) => c.digest().clone(),
            None => record.digest().clone(),
        })
    }

    /// Finds an image by full name, short name (`app` tries `localhost/app:latest`, then
    /// `docker.io/library/app:latest`, then any repository whose last components and tag match),
    /// image ID or its hex prefix, or manifest digest or its hex prefix.
    pub fn resolve(&self, name_or_id: &str) -> Result<ImageRecord, StoreError> {
        self.resolve_matched(name_or_id).map(|(r, _)| r)
    }

    pub(crate) fn resolve_matched(
        &self,
        input: &str,
    ) -> Result<(ImageRecord, Matched), StoreError> {
        let records = self.list_images()?;
        let ambiguous = |set: BTreeSet<String>| StoreError::Ambiguous {
            input: input.to_owned(),
            candidates: set.into_iter().collect(),
        };
        if let Ok(name) = Name::parse(input) {
            for candidate in name.candidates() {
                if let Some(r) = records
                    .iter()
                    .find(|r| r.name.as_deref() == Some(&candidate))
                {
                    return Ok((r.clone(), Matched::Name));
                }
            }
            if name.short {
                // Like podman: `app:v1` also finds `quay.io/team/app:v1`.
                let tail = name.tail();
                let hits: Vec<&ImageRecord> = records
                    .iter()
                    .filter(|r| r.name.as_deref().is_some_and(|n| n.ends_with(&tail)))
                    .collect();
                let digests = distinct_digests(hits.iter().copied());
                match digests.len() {
                    0 => {}
                    1 => return Ok((hits[0].clone(), Matched::Name)),
                    _ => {
                        return Err(ambiguous(
                            hits.iter().filter_map(|r| r.name.clone()).collect(),
                        ));
                    }
                }
            }
        }
        // Digests and IDs, full or as a hex prefix (docker prints 12 characters).
        let hex = input.split_once(':').map_or(
            input,
            |(alg, hex)| if alg == "sha256" { hex } else { input },
        );
        if hex.len() >= 3 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            let mut hits: Vec<&ImageRecord> = Vec::new();
            for r in &records {
                let id_hit = match self.image_id(r) {
                    Ok(id) => id.digest().starts_with(hex),
                    Err(_) => false,
                };
                if id_hit || r.digest().digest().starts_with(hex) {
                    hits.push(r);
                }
            }
            let digests = distinct_digests(hits.iter().copied());
            match digests.len() {
                0 => {}
                1 => {
                    // Prefer a named entry so callers can show a name.
                    let best = hits.iter().find(|r| r.name.is_some()).unwrap_or(&hits[0]);
                    return Ok(((*best).clone(), Matched::Id));
                }
                _ => return Err(ambiguous(digests)),
            }
        }
        Err(StoreError::ImageNotFound {
            input: input.to_owned(),
        })
    }

    /// Gives the image `existing` resolves to the additional name `new_name` (normalised; the
    /// name moves if another image had it).
    pub fn tag(&self, existing: &str, new_name: &str) -> Result<(), StoreError> {
        let record = self.resolve(existing)?;
        let name = crate::normalize_name(new_name)?;
        self.update_index(|index| {
            set_name(index, &record.manifest, Some(&name));
            Ok(())
        })
    }

    /// Takes the name `name` away from its image. An image left without names stays in the
    /// store (listed without a name) until removed or pruned. Returns the removed name.
    pub fn untag(&self, name: &str) -> Result<Vec<String>, StoreError> {
        let (record, how) = self.resolve_matched(name)?;
        let Some(full) = record.name.filter(|_| how == Matched::Name) else {
            return Err(StoreError::ImageNotFound {
                input: name.to_owned(),
            });
        };
        self.update_index(|index| {
            let before = index.manifests.len();
            index.manifests.retain(|d| ref_name(d) != Some(&full));
            if index.manifests.len() == before {
                return Ok(Vec::new());
            }
            keep_unnamed(index, &record.manifest);
            Ok(vec![full.clone()])
        })
    }

    /// Removes an image. Given one of several names, only that name goes (like `docker rmi`);
    /// given the last name, an ID or a digest, every entry of the image goes. Blobs stay until
    /// [`Store::gc`]. Returns the names removed.
    pub fn remove_image(&self, name_or_id: &str) -> Result<Vec<String>, StoreError> {
        let (record, how) = self.resolve_matched(name_or_id)?;
        let digest = record.digest().clone();
        self.update_index(|index| {
            let names: Vec<String> = index
                .manifests
                .iter()
                .filter(|d| *d.digest() == digest)
                .filter_map(|d| ref_name(d).map(str::to_owned))
                .collect();
            if how == Matched::Name && names.len() > 1 {
                let name = record.name.clone().unwrap_or_default();
                index.manifests.retain(|d| ref_name(d) != Some(&name));
                return Ok(vec![name]);
            }
            index.manifests.retain(|d| *d.digest() != digest);
            Ok(names)
        })
    }

    /// Removes index entries without a name (images whose names all moved elsewhere). Returns
    /// their manifest digests; run [`Store::gc`] afterwards to free their blobs.
    pub fn prune_dangling(&self) -> Result<Vec<Digest>, StoreError> {
        self.update_index(|index| {
            let mut removed = Vec::new();
            index.manifests.retain(|d| {
                // A referrer has no name by design; gc drops it with its subject.
                let keep = ref_name(d).is_some() || is_referrer(d);
                if !keep {
                    removed.push(d.digest().clone());
                }
                keep
            });
            Ok(removed)
        })
    }

    /// Stores a manifest (or index) and records it under `names` (normalised). Every blob it
    /// names — config and layers, or for an index every child manifest and what those name —
    /// must already be in the store with the size the descriptor gives; otherwise nothing is
    /// recorded. With no names the image is recorded without one.
    pub fn commit_image(
        &self,
        manifest_bytes: &[u8],
        media_type: &str,
        names: &[String],
    ) -> Result<Descriptor, StoreError> {
        let kind = ManifestKind::from_media_type(media_type).ok_or_else(|| {
            StoreError::UnsupportedMediaType {
                media_type: media_type.to_owned(),
            }
        })?;
        let refs = Refs::parse(manifest_bytes, &"the manifest being committed")?;
        if let Some(found) = &refs.media_type
            && found != kind.media_type()
        {
            return Err(StoreError::MediaTypeMismatch {
                given: media_type.to_owned(),
                found: found.clone(),
            });
        }
        let names = names
            .iter()
            .map(|n| crate::normalize_name(n))
            .collect::<Result<Vec<_>, _>>()?;
        let descriptor = self.put_blob_bytes(media_type, manifest_bytes)?;
        self.update_index(|index| {
            // Checked under the lock: gc holds it too, so nothing we verified can vanish
            // before the entry that protects it is written.
            self.verify_present(descriptor.digest(), &refs, 0)?;
            if names.is_empty() {
                keep_unnamed(index, &descriptor);
            }
            for name in &names {
                set_name(index, &descriptor, Some(name));
            }
            Ok(())
        })?;
        Ok(descriptor)
    }

    pub(crate) fn verify_present(
        &self,
        manifest: &Digest,
        refs: &Refs,
        depth: usize,
    ) -> Result<(), StoreError> {
        for (role, d) in refs.children() {
            let size = self.blob_size(d.digest()).map_err(|e| match e {
                StoreError::BlobNotFound { digest, .. } => StoreError::MissingBlob {
                    manifest: Box::new(manifest.clone()),
                    role: role.to_string(),
                    digest,
                },
                other => other,
            })?;
            if size != d.size() {
                return Err(StoreError::ReferencedSizeMismatch {
                    manifest: Box::new(manifest.clone()),
                    role: role.to_string(),
                    digest: d.digest().clone(),
                    expected: d.size(),
                    actual: size,
                });
            }
            // Indexes nest at most a few levels in practice; the bound stops a cycle.
            if matches!(role, Role::Manifest(_)) && depth < 8 {
                let child = self.read_refs(d.digest())?;
                self.verify_present(d.digest(), &child, depth + 1)?;
            }
        }
        Ok(())
    }
}

/// Points `name` at `manifest`: the entry that had the name (if any) loses it, and an image
/// left without any entry keeps an unnamed one so it is still listed.
fn set_name(index: &mut LayoutIndex, manifest: &Descriptor, name: Option<&str>) {
    let Some(name) = name else {
        keep_unnamed(index, manifest);
        return;
    };
    let previous: Vec<Descriptor> = index
        .manifests
        .iter()
        .filter(|d| ref_name(d) == Some(name))
        .cloned()
        .collect();
    index.manifests.retain(|d| ref_name(d) != Some(name));
    // The image is named now: drop its unnamed placeholder.
    index
        .manifests
        .retain(|d| !(d.digest() == manifest.digest() && ref_name(d).is_none()));
    index.manifests.push(named(manifest, Some(name)));
    for old in previous {
        if old.digest() != manifest.digest() {
            keep_unnamed(index, &old);
        }
    }
}

/// Adds an unnamed entry for `manifest` unless the index already has an entry for it.
fn keep_unnamed(index: &mut LayoutIndex, manifest: &Descriptor) {
    if !index
        .manifests
        .iter()
        .any(|d| d.digest() == manifest.digest())
    {
        index.manifests.push(named(manifest, None));
    }
}
