//! Working containers that outlive a command, as buildah's: `kiln from IMAGE` creates one,
//! `kiln run`/`copy`/`add`/`config` change it, `kiln commit` turns it into an image.
//!
//! A working container lives in `$ROOT/containers/<id>/` next to berth's containers (berth only
//! reads directories holding its own `container.json`): `builder.json` is the [`Record`] (name,
//! base image, its config and layers, pending config changes), `layers` lists the unpacked base
//! layers so that `gc` keeps them, and `upper/`, `work/`, `merged/` are the overlay. Every
//! command mounts the overlay in its own mount namespace and unmounts it when done, except
//! `kiln mount`, whose mount lasts as long as the namespace (the `kiln unshare` session, or the
//! host's for root). `commit` writes everything in `upper/` as one new layer.
//!
//! Where no overlay can be mounted (an unprivileged CI job container), the container uses the
//! copy driver, as buildah's vfs: `merged/` is a plain directory holding the base's layers,
//! never mounted, `baseline` beside the record is its stat snapshot from `kiln from`, and
//! `commit`'s new layer is the difference between that snapshot and the tree now.
//!
//! ```no_run
//! # fn main() -> Result<(), wharf_build::builder::ContainerError> {
//! use wharf_build::builder::{self, FromOptions};
//! let store = wharf_store::Store::open_default()?;
//! let ctr = builder::create(&store, &FromOptions::new("busybox"))?;
//! assert_eq!(ctr.record.name, "busybox-working-container");
//! # Ok(()) }
//! ```

mod commit;
mod configure;
mod error;
mod mount;
mod ops;
mod plain;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use wharf_oci::config::ContainerConfig;
use wharf_oci::{
    Descriptor, Digest, ImageConfig, ImageManifest, ManifestFormat, MediaType, Platform,
    RawManifest,
};
use wharf_sandbox::overlay::Driver;
use wharf_store::Store;

pub use commit::{CommitOptions, Committed, commit};
pub use configure::{ConfigChanges, apply as configure, split_words};
pub use error::ContainerError;
pub use mount::{is_mounted, mount, umount};
pub use ops::{AddOptions, RunCommand, add, run};

/// The file in the container's directory that marks it as a working container.
pub const RECORD: &str = wharf_container::BUILDER_RECORD;

/// A base layer, as the base image's manifest and config give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseLayer {
    pub digest: Digest,
    pub size: u64,
    pub diff_id: Digest,
    pub media_type: String,
}

/// What `builder.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// 64 hex digits, as buildah's container IDs.
    pub id: String,
    pub name: String,
    /// The base image's full name (`docker.io/library/busybox:latest`); empty for `scratch`.
    pub from_image: String,
    /// The base image's ID (config digest); `None` for `scratch`.
    pub from_image_id: Option<Digest>,
    /// The base image's manifest digest; `None` for `scratch`.
    #[serde(default)]
    pub from_manifest: Option<Digest>,
    pub created: String,
    /// The storage driver the upper directory was made with.
    pub driver: String,
    /// The format `commit` writes unless told otherwise.
    pub format: String,
    /// The image config so far: the base's, with `kiln config` changes applied.
    pub config: ImageConfig,
    pub layers: Vec<BaseLayer>,
    /// Manifest annotations for the next commit.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// `created_by` of the next commit's history entry (buildah's default: `/bin/sh`).
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub history_comment: Option<String>,
    /// `kiln from --network`: the network of later `kiln run`s that name none (buildah's
    /// values, see [`crate::network::parse_network`]); private when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// `kiln from --isolation`: the isolation of later `kiln run`s that name none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolation: Option<String>,
}

/// A working container found in the store.
#[derive(Debug, Clone)]
pub struct Container {
    pub dir: PathBuf,
    pub record: Record,
    /// Warnings of the unpack [`create`] did (device nodes a rootless unpack skipped), for
    /// the caller to print; empty for a container read back from the store.
    pub unpack_warnings: Vec<String>,
}

impl Container {
    pub fn upper(&self) -> PathBuf {
        self.dir.join("upper")
    }

    /// Where the overlay is mounted (the copy driver's root directory).
    pub fn merged(&self) -> PathBuf {
        self.dir.join("merged")
    }

    /// Whether [`Container::merged`] holds the root here: mounted in this namespace, or always
    /// for the copy driver, whose root is a plain directory.
    pub fn is_mounted(&self) -> bool {
        self.is_plain() || is_mounted(&self.merged())
    }

    pub(crate) fn work(&self) -> PathBuf {
        self.dir.join("work")
    }

    pub(crate) fn scratch(&self) -> PathBuf {
        self.dir.join("run")
    }

    pub fn format(&self) -> ManifestFormat {
        ManifestFormat::parse(&self.record.format).unwrap_or_default()
    }

    /// The runtime part of the config.
    pub fn runtime_config(&self) -> ContainerConfig {
        self.record.config.config.clone().unwrap_or_default()
    }

    /// What `kiln inspect` shows, with buildah's key names.
    pub fn inspect_json(&self) -> serde_json::Value {
        let mounted = self.is_mounted();
        serde_json::json!({
            "Type": "kiln 0.0.1",
            "FromImage": self.record.from_image,
            "FromImageID": self.record.from_image_id.as_ref().map(|d| d.digest().to_owned()).unwrap_or_default(),
            "FromImageDigest": self.record.from_manifest.as_ref().map(ToString::to_string).unwrap_or_default(),
            "Container": self.record.name,
            "ContainerID": self.record.id,
            "MountPoint": if mounted { self.merged().display().to_string() } else { String::new() },
            "ImageAnnotations": self.record.annotations,
            "ImageCreatedBy": self.record.created_by.clone().unwrap_or_default(),
            "Format": self.record.format,
            "Driver": self.record.driver,
            "OCIv1": self.record.config,
            "History": self.record.config.history,
        })
    }

    /// Rewrites `builder.json` atomically.
    pub fn save(&self, store: &Store) -> Result<(), ContainerError> {
        let bytes = serde_json::to_vec_pretty(&self.record).map_err(|source| {
            ContainerError::Serialize {
                what: "the container record",
                source,
            }
        })?;
        store.write_file_atomic(&self.dir.join(RECORD), &bytes)?;
        Ok(())
    }

    /// The overlay lower directories, base first, unpacking base layers `gc` took away.
    pub(crate) fn lowers(&self, store: &Store) -> Result<Vec<PathBuf>, ContainerError> {
        if self.record.layers.is_empty() {
            let empty = self.dir.join("empty");
            mkdir(&empty)?;
            return Ok(vec![empty]);
        }
        unpack(store, &self.record.layers)
    }

    pub(crate) fn driver(&self) -> Result<Driver, ContainerError> {
        Ok(Driver::by_name(&self.record.driver)?)
    }
}

/// How `kiln from` creates a container.
#[derive(Debug, Clone)]
pub struct FromOptions {
    /// An image in the store (name, short name or ID), or `scratch`.
    pub image: String,
    /// The container's name; `<image>-working-container[-N]` when `None`.
    pub name: Option<String>,
    pub format: ManifestFormat,
    /// The default network of `kiln run` in this container (`--network`).
    pub network: Option<String>,
    /// The default isolation of `kiln run` in this container (`--isolation`).
    pub isolation: Option<String>,
}

impl FromOptions {
    pub fn new(image: impl Into<String>) -> Self {
        Self {
            image: image.into(),
            name: None,
            format: ManifestFormat::Oci,
            network: None,
            isolation: None,
        }
    }
}

fn mkdir(p: &Path) -> Result<(), ContainerError> {
    std::fs::create_dir_all(p).map_err(ContainerError::io("creating", p))
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// The unpacked directories of `layers`, base first.
fn unpack(store: &Store, layers: &[BaseLayer]) -> Result<Vec<PathBuf>, ContainerError> {
    Ok(unpacked(store, layers)?.dirs)
}

/// Unpacks `layers`, reporting what this call unpacked.
fn unpacked(store: &Store, layers: &[BaseLayer]) -> Result<wharf_store::Unpacked, ContainerError> {
    let descs: Vec<Descriptor> = layers
        .iter()
        .map(|l| {
            Descriptor::new(
                MediaType::from(l.media_type.as_str()),
                l.size,
                l.digest.clone(),
            )
        })
        .collect();
    let diff_ids: Vec<Digest> = layers.iter().map(|l| l.diff_id.clone()).collect();
    let opts = wharf_store::default_apply_options();
    Ok(store.unpack_descriptors(&descs, &diff_ids, &opts)?)
}

/// An image read from the store.
pub(crate) struct LoadedImage {
    pub name: String,
    pub id: Digest,
    pub manifest: Digest,
    pub config: ImageConfig,
    pub layers: Vec<BaseLayer>,
}

/// An image of the store: its full name, ID, config and layers. A manifest list resolves to the
/// host platform's image.
pub(crate) fn load_image(store: &Store, name: &str) -> Result<LoadedImage, ContainerError> {
    let not_found = |source: wharf_store::StoreError| ContainerError::ImageNotFound {
        name: name.to_owned(),
        source: Box::new(source),
    };
    let record = store.resolve(name).map_err(not_found)?;
    let full = record.name.clone().unwrap_or_default();
    let mut raw = RawManifest::parse(store.read_small(record.digest())?, None)?;
    if let Some(index) = raw.index() {
        let chosen = wharf_oci::platform::select_manifest(index.manifests(), &Platform::host())
            .ok_or_else(|| ContainerError::NotAnImage {
                name: name.to_owned(),
            })?
            .clone();
        raw = RawManifest::parse(store.read_small(chosen.digest())?, None)?;
    }
    let manifest_digest = raw.descriptor().digest().clone();
    let manifest: ImageManifest =
        raw.image()
            .cloned()
            .ok_or_else(|| ContainerError::NotAnImage {
                name: name.to_owned(),
            })?;
    let config: ImageConfig = store.read_json(manifest.config().digest())?;
    let layers = manifest
        .layers()
        .iter()
        .zip(config.diff_ids())
        .map(|(l, d)| BaseLayer {
            digest: l.digest().clone(),
            size: l.size(),
            diff_id: d.clone(),
            media_type: l.media_type().to_string(),
        })
        .collect();
    Ok(LoadedImage {
        name: full,
        id: manifest.config().digest().clone(),
        manifest: manifest_digest,
        config,
        layers,
    })
}

/// buildah's name prefix: the image's last path component without tag or digest.
fn name_prefix(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    let last = last.split('@').next().unwrap_or(last);
    last.split(':').next().unwrap_or(last).to_owned()
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with(['.', '-'])
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Creates a working container from an image of the store (or `scratch`).
pub fn create(store: &Store, opts: &FromOptions) -> Result<Container, ContainerError> {
    let scratch = opts.image == "scratch";
    let (from_image, from_id, from_manifest, mut config, layers) = if scratch {
        let host = Platform::host();
        let config = ImageConfig {
            architecture: host.architecture,
            os: host.os,
            variant: host.variant,
            ..ImageConfig::default()
        };
        (String::new(), None, None, config, Vec::new())
    } else {
        let i = load_image(store, &opts.image)?;
        (i.name, Some(i.id), Some(i.manifest), i.config, i.layers)
    };
    config.config.get_or_insert_with(ContainerConfig::default);
    "layers".clone_into(&mut config.rootfs.kind);

    // Without any overlay the root is a plain directory (`plain`), as buildah's vfs; as for
    // `kiln build`, buildah's `STORAGE_DRIVER=copy` (or `vfs`) asks for it.
    let driver = match std::env::var("STORAGE_DRIVER") {
        Ok(name) if !name.is_empty() => Driver::by_name(&name)?,
        _ => Driver::detect(&store.containers_dir()),
    };
    // One namespace and one lock with berth's containers (wharf_container::names).
    let lock = wharf_container::names::lock(store)?;
    let taken = wharf_container::names::taken(store)?;
    let name = if let Some(n) = &opts.name {
        if !valid_name(n) {
            return Err(ContainerError::InvalidName { name: n.clone() });
        }
        wharf_container::names::ensure_free(store, &lock, n)?;
        n.clone()
    } else {
        let base = if scratch {
            "working-container".to_owned()
        } else {
            format!("{}-working-container", name_prefix(&from_image))
        };
        // buildah 1.28 numbers from 1: busybox-working-container-1 is the second.
        let mut candidate = base.clone();
        let mut n = 0;
        while taken.contains_key(&candidate) {
            n += 1;
            candidate = format!("{base}-{n}");
        }
        candidate
    };
    let id = wharf_container::new_id();
    let dir = store.container_dir(&id)?;
    let diff_ids: Vec<Digest> = layers.iter().map(|l| l.diff_id.clone()).collect();
    // Recorded before unpacking, so that a concurrent gc keeps what we unpack.
    store.record_container_layers(&id, &wharf_store::chain_id(&diff_ids))?;
    let mut ctr = Container {
        dir,
        record: Record {
            id,
            name,
            from_image,
            from_image_id: from_id,
            from_manifest,
            created: now(),
            driver: driver.kind().name().to_owned(),
            format: opts.format.name().to_owned(),
            config,
            layers,
            annotations: BTreeMap::new(),
            created_by: None,
            history_comment: None,
            network: opts.network.clone(),
            isolation: opts.isolation.clone(),
        },
        unpack_warnings: Vec::new(),
    };
    // The base is unpacked now, as buildah does at `from`: later steps find it unpacked.
    let result = (|| {
        for d in ["upper", "work", "merged", "run"] {
            mkdir(&ctr.dir.join(d))?;
        }
        if !ctr.record.layers.is_empty() {
            ctr.unpack_warnings = unpacked(store, &ctr.record.layers)?.device_warnings();
        }
        if ctr.is_plain() {
            plain::prepare(store, &ctr)?;
        }
        ctr.save(store)
    })();
    drop(lock);
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&ctr.dir);
        return Err(e);
    }
    Ok(ctr)
}

fn load(dir: &Path) -> Result<Container, ContainerError> {
    let path = dir.join(RECORD);
    let bytes = std::fs::read(&path).map_err(ContainerError::io("reading", &path))?;
    let record =
        serde_json::from_slice(&bytes).map_err(|source| ContainerError::Record { path, source })?;
    Ok(Container {
        dir: dir.to_path_buf(),
        record,
        unpack_warnings: Vec::new(),
    })
}

/// Every working container, oldest first.
pub fn list(store: &Store) -> Result<Vec<Container>, ContainerError> {
    let dir = store.containers_dir();
    let mut out = Vec::new();
    let entries = std::fs::read_dir(&dir).map_err(ContainerError::io("listing", &dir))?;
    for entry in entries {
        let entry = entry.map_err(ContainerError::io("listing", &dir))?;
        let path = entry.path();
        if path.join(RECORD).is_file() {
            out.push(load(&path)?);
        }
    }
    out.sort_by(|a, b| a.record.created.cmp(&b.record.created));
    Ok(out)
}

/// The working container named `key`: by name, full ID or unique ID prefix (the one lookup of
/// every container, [`wharf_container::lookup`]).
pub fn find(store: &Store, key: &str) -> Result<Container, ContainerError> {
    let all = list(store)?;
    match wharf_container::lookup::by_key(&all, key, |c| &c.record.id, |c| &c.record.name) {
        Ok(c) => Ok(c.clone()),
        // Said as working containers: berth's are not looked at.
        Err(wharf_container::ContainerError::NotFound { key }) => {
            Err(ContainerError::NotFound { key })
        }
        Err(wharf_container::ContainerError::Ambiguous { key, candidates }) => {
            Err(ContainerError::Ambiguous { key, candidates })
        }
        Err(e) => Err(e.into()),
    }
}

/// Changes the record of the working container named `key` under the store's builder lock, so
/// that two `kiln config` at once do not lose each other's changes.
pub fn update<T>(
    store: &Store,
    key: &str,
    change: impl FnOnce(&mut Record) -> Result<T, ContainerError>,
) -> Result<T, ContainerError> {
    let lock = wharf_container::names::lock(store)?;
    let mut ctr = find(store, key)?;
    let out = change(&mut ctr.record)?;
    ctr.save(store)?;
    drop(lock);
    Ok(out)
}

/// Unmounts (in this namespace) and deletes a working container.
pub fn remove(ctr: &Container) -> Result<(), ContainerError> {
    if is_mounted(&ctr.merged()) {
        ctr.driver()?.unmount(&ctr.merged())?;
    }
    // The record goes first: a half-removed directory is no longer listed.
    let record = ctr.dir.join(RECORD);
    std::fs::remove_file(&record).map_err(ContainerError::io("removing", &record))?;
    std::fs::remove_dir_all(&ctr.dir).map_err(ContainerError::io("removing", &ctr.dir))?;
    Ok(())
}

/// A container of the store that is not a working container (berth's), for `kiln containers -a`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherContainer {
    pub id: String,
    pub name: String,
    pub image: String,
    pub image_id: String,
}

/// berth's containers: directories with a `container.json` holding `id`, `name`, `image` and
/// `image_id`.
pub fn other_containers(store: &Store) -> Result<Vec<OtherContainer>, ContainerError> {
    #[derive(Deserialize)]
    struct Berth {
        id: String,
        name: String,
        #[serde(default)]
        image: String,
        #[serde(default)]
        image_id: String,
    }
    let dir = store.containers_dir();
    let mut out = Vec::new();
    let entries = std::fs::read_dir(&dir).map_err(ContainerError::io("listing", &dir))?;
    for entry in entries {
        let entry = entry.map_err(ContainerError::io("listing", &dir))?;
        let path = entry.path().join(wharf_container::RECORD);
        // Unreadable records are berth's to report.
        if let Ok(bytes) = std::fs::read(&path)
            && let Ok(b) = serde_json::from_slice::<Berth>(&bytes)
        {
            out.push(OtherContainer {
                id: b.id,
                name: b.name,
                image: b.image,
                image_id: b.image_id,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_buildah() {
        assert_eq!(name_prefix("docker.io/library/busybox:latest"), "busybox");
        assert_eq!(name_prefix("localhost/app@sha256:abc"), "app");
        assert_eq!(name_prefix("registry:5000/team/tool:v1"), "tool");
        assert!(valid_name("busybox-working-container-2"));
        assert!(!valid_name("../x"));
        assert!(!valid_name("-x"));
        assert!(!valid_name(""));
    }
}
