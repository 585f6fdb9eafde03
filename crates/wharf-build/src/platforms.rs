//! `--platform` with several platforms: each is built on its own (bases chosen for it, RUN
//! emulated where it is foreign) into an unnamed image, then one image index listing them all,
//! each entry with its config's platform, is stored under the build's tags: an OCI index, or
//! a Docker manifest list with `--format docker` (as buildah writes).

use wharf_oci::oci_spec::image::ImageIndexBuilder;
use wharf_oci::{Descriptor, Digest, ImageConfig, MediaType, Platform, RawManifest, media_type};
use wharf_store::Store;

use crate::engine::{BuildOptions, Built, Event, Format, build};
use crate::error::BuildError;
use crate::manifest_list::{AddToList, entry_platform};

/// What [`build_platforms`] made.
#[derive(Debug, Clone)]
pub struct BuiltList {
    /// The index's digest (what the tags name).
    pub index: Digest,
    /// Each platform's image, in the order asked.
    pub images: Vec<(Platform, Built)>,
}

/// Builds `opts` once per platform and tags an image index of the results with `opts.tags`.
/// Nothing is tagged unless every platform builds.
pub fn build_platforms(
    store: &Store,
    opts: &BuildOptions,
    platforms: &[Platform],
    events: &mut dyn FnMut(Event),
) -> Result<BuiltList, BuildError> {
    let mut images = Vec::new();
    let mut entries = Vec::new();
    for p in platforms {
        let mut one = opts.clone();
        one.platform = Some(p.clone());
        one.tags.clear();
        let built = build(store, &one, events)?;
        entries.push(entry(store, &built.manifest)?);
        images.push((p.clone(), built));
    }
    let kind = match opts.format {
        Format::Oci => media_type::OCI_INDEX,
        Format::Docker => media_type::DOCKER_MANIFEST_LIST,
    };
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::from(kind))
        .manifests(entries)
        .build()?;
    let bytes = wharf_oci::manifest::to_bytes(&index)?;
    let desc = store.commit_image(&bytes, kind, &opts.tags)?;
    Ok(BuiltList {
        index: desc.digest().clone(),
        images,
    })
}

/// The index entry of a built image: its manifest descriptor with its config's platform.
fn entry(store: &Store, manifest: &Digest) -> Result<Descriptor, BuildError> {
    let raw = RawManifest::parse(store.read_small(manifest)?, None)?;
    let mut desc = raw.descriptor();
    if let Some(image) = raw.image() {
        let config: ImageConfig = store.read_json(image.config().digest())?;
        desc.set_platform(Some(entry_platform(&config, &AddToList::default())?));
    }
    Ok(desc)
}
