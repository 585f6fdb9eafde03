//! `--platform` with several platforms: each is built on its own (bases chosen for it, RUN
//! emulated where it is foreign) into an unnamed image, then one image index listing them all,
//! each entry with its config's platform, is stored under the build's tags: an OCI index, or
//! a Docker manifest list with `--format docker` (as buildah writes).

use wharf_oci::oci_spec::image::ImageIndexBuilder;
use wharf_oci::{
    Descriptor, Digest, ImageConfig, ManifestFormat, MediaType, Platform, RawManifest, media_type,
};
use wharf_store::Store;

use crate::engine::{BuildOptions, Built, Event, build};
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
        ManifestFormat::Oci => media_type::OCI_INDEX,
        ManifestFormat::Docker => media_type::DOCKER_MANIFEST_LIST,
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

/// `--all-platforms`: the platforms every base image of the stages the build needs offers (an
/// image index names them; a single image offers its config's platform), in the first base's
/// order, as buildah computes them. `FROM scratch` and stage bases offer any platform. Bases
/// missing from the store are pulled (their index) as the pull policy allows.
///
/// # Errors
/// The Dockerfile cannot be read, a base cannot be found, no base names a platform (all are
/// `scratch`), or the bases share none.
pub fn base_platforms(store: &Store, opts: &BuildOptions) -> Result<Vec<Platform>, BuildError> {
    let (_, _, _, plan) = crate::engine::read_plan(opts)?;
    let mut needed = plan.needed.clone();
    needed.push(plan.target);
    let mut puller = crate::pull::Puller::default();
    let mut pull = opts.pull.clone();
    pull.platform = None;
    let mut common: Option<Vec<Platform>> = None;
    let mut seen = Vec::new();
    for i in needed {
        let stage = &plan.stages[i];
        if stage.base_stage.is_some()
            || stage.base == "scratch"
            || opts.build_contexts.contains_key(&stage.base)
            || seen.contains(&stage.base)
        {
            continue;
        }
        seen.push(stage.base.clone());
        let name = puller.resolve(store, &pull, &opts.runtime, &stage.base, &mut |_| {})?;
        let record = store
            .resolve(&name)
            .map_err(|source| BuildError::BaseNotFound {
                name: name.clone(),
                source: Box::new(source),
            })?;
        let raw = RawManifest::parse(store.read_small(record.digest())?, None)?;
        let offered: Vec<Platform> = if let Some(index) = raw.index() {
            index
                .manifests()
                .iter()
                .filter_map(|m| m.platform().as_ref())
                .map(|p| {
                    Platform::new(
                        &p.os().to_string(),
                        &p.architecture().to_string(),
                        p.variant().as_deref(),
                    )
                })
                // Attestation manifests (BuildKit's provenance) name `unknown/unknown`.
                .filter(|p| p.os != "unknown")
                .collect()
        } else if let Some(image) = raw.image() {
            let config: ImageConfig = store.read_json(image.config().digest())?;
            vec![Platform::new(
                &config.os,
                &config.architecture,
                config.variant.as_deref(),
            )]
        } else {
            Vec::new()
        };
        common = Some(match common {
            None => offered,
            Some(c) => c.into_iter().filter(|p| offered.contains(p)).collect(),
        });
    }
    match common {
        None => Err(BuildError::Unsupported {
            what: "--all-platforms when every base is scratch or a stage (no base names a \
                   platform; hint: name them with --platform)"
                .to_owned(),
        }),
        Some(c) if c.is_empty() => Err(BuildError::Unsupported {
            what: format!(
                "--all-platforms with bases that share no platform ({})",
                seen.join(", ")
            ),
        }),
        Some(mut c) => {
            c.dedup();
            Ok(c)
        }
    }
}
