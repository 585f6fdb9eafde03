//! `kiln commit`: the base image's layers plus one new layer holding everything in the upper
//! directory (with the copy driver: everything that differs from the tree `kiln from` made) (the container keeps its upper directory, so committing again gives the same
//! layer plus whatever changed since), with one history entry as buildah writes it
//! (`created_by` defaults to `/bin/sh`). `--squash` writes the whole merged tree as the only
//! layer instead.

use wharf_archive::{LayerCompression, LayerSource, WriteOptions};
use wharf_oci::config::History;
use wharf_oci::oci_spec::image::ImageManifestBuilder;
use wharf_oci::{Descriptor, Digest, MediaType, media_type};
use wharf_store::Store;

use super::mount::Mounted;
use super::{BaseLayer, Container, ContainerError};
use wharf_oci::ManifestFormat;

/// buildah's `created_by` when `kiln config --created-by` was not used.
pub const DEFAULT_CREATED_BY: &str = "/bin/sh";

/// How to commit.
#[derive(Debug, Clone)]
pub struct CommitOptions {
    /// Names for the image (short names go under `localhost/`); none leaves it unnamed.
    pub names: Vec<String>,
    /// `None`: the format chosen at `kiln from`.
    pub format: Option<ManifestFormat>,
    pub squash: bool,
    /// Seconds since the epoch for the created times; also clamps mtimes in the new layer.
    pub timestamp: Option<i64>,
    pub compression: LayerCompression,
}

impl Default for CommitOptions {
    fn default() -> Self {
        Self {
            names: Vec::new(),
            format: None,
            squash: false,
            timestamp: None,
            compression: LayerCompression::Gzip,
        }
    }
}

/// The committed image.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The config digest, as buildah prints image IDs.
    pub image_id: Digest,
    pub manifest: Digest,
    /// Things the user should know (fields the OCI format drops).
    pub warnings: Vec<String>,
}

fn time(timestamp: Option<i64>) -> String {
    match timestamp {
        Some(s) => chrono::DateTime::from_timestamp(s, 0)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        None => chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
    }
}

/// Writes the new layer (streaming into a blob) and returns it.
fn write_new_layer(
    store: &Store,
    ctr: &Container,
    opts: &CommitOptions,
) -> Result<BaseLayer, ContainerError> {
    // Squash reads the merged view, which must stay mounted while the layer is written.
    let mounted = if opts.squash {
        Some(Mounted::new(store, ctr)?)
    } else {
        None
    };
    let write = |source| WriteOptions {
        source,
        compression: opts.compression,
        level: None,
        clamp_mtime: opts.timestamp,
    };
    let mut blob = store.blob_writer(None)?;
    let info = match &mounted {
        Some(m) => wharf_archive::write_layer(&m.rootfs(), &mut blob, &write(LayerSource::Plain))?,
        // The copy driver: what changed since `kiln from`, found as the build's copy driver
        // finds a step's changes.
        None if ctr.is_plain() => wharf_archive::write_layer_changes(
            &ctr.merged(),
            &super::plain::changes(ctr)?,
            &mut blob,
            &write(LayerSource::Plain),
        )?,
        None => {
            wharf_archive::write_layer(&ctr.upper(), &mut blob, &write(LayerSource::OverlayUpper))?
        }
    };
    blob.commit()?;
    drop(mounted);
    Ok(BaseLayer {
        digest: info.digest,
        size: info.size,
        diff_id: info.diff_id,
        media_type: media_type::layer_media_type(opts.compression, false).to_owned(),
    })
}

/// The base layers, each with a blob in the store. A base image removed (and its blobs
/// collected) while the container lived leaves only the unpacked layer trees, which `gc` keeps
/// for the container: such a layer is written again from its tree (a new blob and diff ID with
/// the same contents).
fn base_layers(
    store: &Store,
    ctr: &Container,
    opts: &CommitOptions,
) -> Result<Vec<BaseLayer>, ContainerError> {
    let diff_ids: Vec<_> = ctr
        .record
        .layers
        .iter()
        .map(|l| l.diff_id.clone())
        .collect();
    let chains = wharf_store::chain_id(&diff_ids);
    let mut out = Vec::with_capacity(ctr.record.layers.len());
    for (layer, chain) in ctr.record.layers.iter().zip(&chains) {
        if store.has_blob(&layer.digest) {
            out.push(layer.clone());
            continue;
        }
        let tree = store.layer_dir(chain);
        let mut blob = store.blob_writer(None)?;
        let info = wharf_archive::write_layer(
            &tree,
            &mut blob,
            &WriteOptions {
                source: LayerSource::OverlayUpper,
                compression: opts.compression,
                level: None,
                clamp_mtime: None,
            },
        )?;
        blob.commit()?;
        out.push(BaseLayer {
            digest: info.digest,
            size: info.size,
            diff_id: info.diff_id,
            media_type: media_type::layer_media_type(opts.compression, false).to_owned(),
        });
    }
    Ok(out)
}

/// Commits the container as an image in the store.
pub fn commit(
    store: &Store,
    ctr: &Container,
    opts: &CommitOptions,
) -> Result<Committed, ContainerError> {
    let format = opts.format.unwrap_or_else(|| ctr.format());
    let docker = format == ManifestFormat::Docker;
    let new_layer = write_new_layer(store, ctr, opts)?;
    let created = time(opts.timestamp);
    let mut image = ctr.record.config.clone();
    let entry = History {
        created: Some(created.clone()),
        created_by: Some(
            ctr.record
                .created_by
                .clone()
                .unwrap_or_else(|| DEFAULT_CREATED_BY.to_owned()),
        ),
        comment: ctr.record.history_comment.clone(),
        ..History::default()
    };
    let layers: Vec<BaseLayer> = if opts.squash {
        image.history = vec![entry];
        vec![new_layer]
    } else {
        image.history.push(entry);
        base_layers(store, ctr, opts)?
            .into_iter()
            .chain([new_layer])
            .collect()
    };
    image.rootfs.diff_ids = layers.iter().map(|l| l.diff_id.clone()).collect();
    "layers".clone_into(&mut image.rootfs.kind);
    image.created = Some(created);
    let mut warnings = Vec::new();
    if !docker {
        let (oci, dropped) = image.to_oci();
        if !dropped.is_empty() {
            warnings.push(format!(
                "{} not supported for the OCI image format and dropped; use --format docker",
                dropped.join(", ")
            ));
        }
        image = oci;
    }
    image.validate()?;
    let config_bytes = image.to_vec().map_err(|source| ContainerError::Serialize {
        what: "the image config",
        source,
    })?;
    let config_type = if docker {
        media_type::DOCKER_CONFIG
    } else {
        media_type::OCI_CONFIG
    };
    let config_desc = store.put_blob_bytes(config_type, &config_bytes)?;
    let layer_descs: Vec<Descriptor> = layers
        .iter()
        .map(|l| {
            let mt = media_type::convert_layer_media_type(&l.media_type, docker)
                .map_or_else(|| l.media_type.clone(), str::to_owned);
            Descriptor::new(MediaType::from(mt.as_str()), l.size, l.digest.clone())
        })
        .collect();
    let manifest_type = if docker {
        media_type::DOCKER_MANIFEST
    } else {
        media_type::OCI_MANIFEST
    };
    let mut builder = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::from(manifest_type))
        .config(config_desc.clone())
        .layers(layer_descs);
    if !docker {
        // buildah records the base image in these annotations (empty for scratch).
        let mut annotations = std::collections::HashMap::new();
        annotations.insert(
            "org.opencontainers.image.base.digest".to_owned(),
            ctr.record
                .from_manifest
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        );
        annotations.insert(
            "org.opencontainers.image.base.name".to_owned(),
            ctr.record.from_image.clone(),
        );
        annotations.extend(ctr.record.annotations.clone());
        builder = builder.annotations(annotations);
    } else if !ctr.record.annotations.is_empty() {
        warnings.push("annotations are not supported for the docker image format and were dropped; use --format oci".to_owned());
    }
    let manifest = builder.build()?;
    // The annotations are a HashMap: in key order, or the same commit gets another digest
    // from one process to the next.
    let mut doc = serde_json::to_value(&manifest).map_err(|source| ContainerError::Serialize {
        what: "the image manifest",
        source,
    })?;
    if let Some(serde_json::Value::Object(a)) = doc.get_mut("annotations") {
        a.sort_keys();
    }
    let bytes = wharf_oci::manifest::to_bytes(&doc)?;
    let desc = store.commit_image(&bytes, manifest_type, &opts.names)?;
    Ok(Committed {
        image_id: config_desc.digest().clone(),
        manifest: desc.digest().clone(),
        warnings,
    })
}
