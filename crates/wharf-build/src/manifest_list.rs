//! Manifest lists (`kiln manifest`): an OCI image index kept in the store under a name, whose
//! entries point at images of the store. Every change writes a new index blob and moves the
//! name to it; the previous index is dropped from `index.json` when nothing else names it.
//! `kiln manifest push` then copies the index and its images with `wharf-transport`.

use std::collections::HashMap;

use wharf_oci::oci_spec::image::{Arch, ImageIndex, ImageIndexBuilder, Os, PlatformBuilder};
use wharf_oci::{Descriptor, Digest, ImageConfig, MediaType, RawManifest, media_type};
use wharf_store::Store;

use crate::builder::ContainerError;

/// Overrides for the entry `kiln manifest add` writes.
#[derive(Debug, Clone, Default)]
pub struct AddToList {
    pub os: Option<String>,
    pub arch: Option<String>,
    pub variant: Option<String>,
    /// `KEY=VALUE`.
    pub annotations: Vec<String>,
}

fn normalized(name: &str) -> Result<String, ContainerError> {
    Ok(wharf_store::normalize_name(name)?)
}

/// The store record `name` resolves to, and its parsed manifest.
fn read(
    store: &Store,
    name: &str,
) -> Result<(wharf_store::ImageRecord, RawManifest), ContainerError> {
    let record = store
        .resolve(name)
        .map_err(|source| ContainerError::ImageNotFound {
            name: name.to_owned(),
            source: Box::new(source),
        })?;
    let raw = RawManifest::parse(store.read_small(record.digest())?, None)?;
    Ok((record, raw))
}

/// The list named `name` and its parsed index.
fn load(store: &Store, name: &str) -> Result<(Digest, ImageIndex), ContainerError> {
    let (record, raw) = read(store, name)?;
    let index = raw
        .index()
        .cloned()
        .ok_or_else(|| ContainerError::NotAList {
            name: name.to_owned(),
        })?;
    Ok((record.digest().clone(), index))
}

/// Stores `index` under `name` and forgets `previous` if nothing else names it.
fn save(
    store: &Store,
    name: &str,
    index: &ImageIndex,
    previous: Option<&Digest>,
) -> Result<Digest, ContainerError> {
    let bytes = wharf_oci::manifest::to_bytes(index)?;
    let desc = store.commit_image(&bytes, media_type::OCI_INDEX, &[name.to_owned()])?;
    if let Some(old) = previous
        && old != desc.digest()
        && store.image_names(old)?.is_empty()
    {
        store.remove_image(old.as_ref())?;
    }
    Ok(desc.digest().clone())
}

fn empty_index() -> Result<ImageIndex, ContainerError> {
    Ok(ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(Vec::new())
        .build()?)
}

/// `kiln manifest create NAME [IMAGE...]`: a new list; returns its digest.
pub fn create(store: &Store, name: &str, images: &[String]) -> Result<Digest, ContainerError> {
    let full = normalized(name)?;
    if let Some(r) = store
        .list_images()?
        .into_iter()
        .find(|r| r.name.as_deref() == Some(full.as_str()))
    {
        return Err(ContainerError::NameInUse {
            name: full,
            id: r.digest().to_string(),
        });
    }
    let mut index = empty_index()?;
    for image in images {
        let entry = entry_for(store, image, &AddToList::default())?;
        upsert(&mut index, entry);
    }
    save(store, &full, &index, None)
}

/// The index entry for an image of the store: its manifest, with the platform of its config.
fn entry_for(store: &Store, image: &str, opts: &AddToList) -> Result<Descriptor, ContainerError> {
    let (_, raw) = read(store, image)?;
    let manifest = raw.image().ok_or_else(|| ContainerError::NotAnImage {
        name: image.to_owned(),
    })?;
    let config: ImageConfig = store.read_json(manifest.config().digest())?;
    let mut desc = raw.descriptor();
    desc.set_platform(Some(entry_platform(&config, opts)?));
    annotate(&mut desc, opts)?;
    Ok(desc)
}

/// The platform of an index entry: the image config's, with `--os/--arch/--variant` over it.
pub(crate) fn entry_platform(
    config: &ImageConfig,
    opts: &AddToList,
) -> Result<wharf_oci::oci_spec::image::Platform, wharf_oci::oci_spec::OciSpecError> {
    let mut platform = PlatformBuilder::default()
        .architecture(Arch::from(
            opts.arch.as_deref().unwrap_or(config.architecture.as_str()),
        ))
        .os(Os::from(opts.os.as_deref().unwrap_or(config.os.as_str())))
        .build()?;
    platform.set_variant(opts.variant.clone().or_else(|| config.variant.clone()));
    Ok(platform)
}

/// Sets `--annotation KEY=VALUE`s on an entry.
fn annotate(desc: &mut Descriptor, opts: &AddToList) -> Result<(), ContainerError> {
    if opts.annotations.is_empty() {
        return Ok(());
    }
    let mut map = HashMap::new();
    for a in &opts.annotations {
        let (k, v) = a
            .split_once('=')
            .ok_or_else(|| ContainerError::InvalidValue {
                flag: "--annotation",
                value: a.clone(),
                reason: "expected KEY=VALUE".to_owned(),
            })?;
        map.insert(k.to_owned(), v.to_owned());
    }
    desc.set_annotations(Some(map));
    Ok(())
}

/// Adds `entry`, replacing an entry for the same manifest.
fn upsert(index: &mut ImageIndex, entry: Descriptor) {
    let mut manifests = index.manifests().clone();
    match manifests.iter_mut().find(|d| d.digest() == entry.digest()) {
        Some(slot) => *slot = entry,
        None => manifests.push(entry),
    }
    index.set_manifests(manifests);
}

/// `kiln manifest add LIST IMAGE`: returns the list's new digest and the image's manifest digest.
pub fn add(
    store: &Store,
    list: &str,
    image: &str,
    opts: &AddToList,
) -> Result<(Digest, Digest), ContainerError> {
    let (old, mut index) = load(store, list)?;
    let full = list_name(store, list)?;
    let entry = entry_for(store, image, opts)?;
    let instance = entry.digest().clone();
    upsert(&mut index, entry);
    Ok((save(store, &full, &index, Some(&old))?, instance))
}

/// `kiln manifest add --all LIST IMAGE`: every entry of IMAGE when it is an index of the store
/// (with its platforms), else IMAGE alone as [`add`] does. Returns the list's new digest and
/// the manifest digests added.
pub fn add_all(
    store: &Store,
    list: &str,
    image: &str,
    opts: &AddToList,
) -> Result<(Digest, Vec<Digest>), ContainerError> {
    let (_, raw) = read(store, image)?;
    let Some(source) = raw.index() else {
        let (digest, instance) = add(store, list, image, opts)?;
        return Ok((digest, vec![instance]));
    };
    if let Some(flag) = [
        ("--os", &opts.os),
        ("--arch", &opts.arch),
        ("--variant", &opts.variant),
    ]
    .into_iter()
    .find_map(|(flag, v)| v.as_ref().map(|v| (flag, v)))
    {
        return Err(ContainerError::InvalidValue {
            flag: flag.0,
            value: flag.1.clone(),
            reason: "with --all, the entries of an index keep their own platforms".to_owned(),
        });
    }
    let (old, mut index) = load(store, list)?;
    let full = list_name(store, list)?;
    let mut added = Vec::new();
    for entry in source.manifests() {
        let mut entry = entry.clone();
        annotate(&mut entry, opts)?;
        added.push(entry.digest().clone());
        upsert(&mut index, entry);
    }
    Ok((save(store, &full, &index, Some(&old))?, added))
}

/// `kiln manifest remove LIST DIGEST`: drops the entry for that manifest digest.
pub fn remove_entry(store: &Store, list: &str, digest: &str) -> Result<Digest, ContainerError> {
    let (old, mut index) = load(store, list)?;
    let full = list_name(store, list)?;
    let before = index.manifests().len();
    let kept: Vec<Descriptor> = index
        .manifests()
        .iter()
        .filter(|d| d.digest().as_ref() != digest && d.digest().digest() != digest)
        .cloned()
        .collect();
    if kept.len() == before {
        return Err(ContainerError::NotInList {
            list: list.to_owned(),
            image: digest.to_owned(),
        });
    }
    index.set_manifests(kept);
    save(store, &full, &index, Some(&old))
}

/// The full name `list` resolves to.
fn list_name(store: &Store, list: &str) -> Result<String, ContainerError> {
    let record = store
        .resolve(list)
        .map_err(|source| ContainerError::ImageNotFound {
            name: list.to_owned(),
            source: Box::new(source),
        })?;
    match record.name {
        Some(n) => Ok(n),
        None => normalized(list),
    }
}

/// `kiln manifest inspect LIST`: the index as stored.
pub fn inspect(store: &Store, list: &str) -> Result<serde_json::Value, ContainerError> {
    let (digest, _) = load(store, list)?;
    let bytes = store.read_small(&digest)?;
    serde_json::from_slice(&bytes).map_err(|source| ContainerError::Record {
        path: store.blob_path(&digest),
        source,
    })
}

/// `kiln manifest rm LIST`: removes the list (not its images); returns the names removed and
/// the list's digest.
pub fn remove(store: &Store, list: &str) -> Result<(Vec<String>, Digest), ContainerError> {
    let (digest, _) = load(store, list)?;
    let names = store.remove_image(list)?;
    Ok((names, digest))
}
