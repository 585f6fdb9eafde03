//! Image sources: where `copy` and `inspect` read manifests, configs and blobs.

use std::collections::HashMap;
use std::io::Read as _;

use bytes::Bytes;
use serde::Deserialize;
use wharf_oci::media_type::{self, LayerCompression};
use wharf_oci::{Descriptor, Digest, ImageConfig, RawManifest, Reference};
use wharf_registry::{ClientOptions, RegistryClient};
use wharf_store::Store;

use crate::BlobStream;
use crate::error::{Result, TransportError};
use crate::files::Files;
use crate::layout;
use crate::reference::ImageRef;

/// Where a source reads from.
#[derive(Debug)]
pub enum Source {
    /// A registry image: the places registries.conf says to pull it from (mirrors in order,
    /// then the possibly rewritten registry), of which the first that serves the manifest
    /// serves everything.
    Registry {
        /// The reference as given.
        reference: Reference,
        endpoints: std::sync::Arc<Endpoints>,
    },
    /// `oci:` and `oci-archive:` (the archive is read in place).
    Layout {
        files: Files,
        top: Descriptor,
        label: String,
    },
    Dir {
        files: Files,
    },
    Store {
        store: Store,
        top: Descriptor,
        label: String,
    },
    DockerArchive {
        files: Files,
        manifest: RawManifest,
        /// blob digest -> member name
        names: HashMap<Digest, String>,
    },
}

/// One place a registry image can be pulled from.
#[derive(Debug)]
pub struct Endpoint {
    pub client: RegistryClient,
    /// The reference on this endpoint (rewritten for a mirror or a remapped prefix).
    pub reference: Reference,
    pub mirror: bool,
}

/// The endpoints of one registry image, in the order registries.conf gives, and the one that
/// served its manifest.
#[derive(Debug)]
pub struct Endpoints {
    list: Vec<Endpoint>,
    chosen: std::sync::OnceLock<usize>,
}

impl Endpoints {
    /// The pull endpoints of `reference` under the registries.conf of `opts`: mirrors (as
    /// `mirror-by-digest-only` and `pull-from-mirror` allow), then the primary location. A
    /// blocked registry is an error. Nothing is contacted yet.
    pub fn new(reference: &Reference, opts: &ClientOptions) -> Result<Self> {
        let opts = &opts.clone().with_config()?;
        let conf = opts.registries_conf()?;
        let sources = conf.pull_sources(
            &reference.registry,
            &reference.repository,
            reference.digest.is_some(),
        )?;
        let mut list = Vec::with_capacity(sources.len());
        for s in sources {
            let mut r = reference.clone();
            r.registry = s.host;
            r.repository = s.repository;
            wharf_registry::check_repository(&r.repository)?;
            let client = if s.insecure && opts.tls_verify.is_none() {
                let o = ClientOptions {
                    tls_verify: Some(false),
                    ..opts.clone()
                };
                RegistryClient::new(&r.registry, &o)?
            } else {
                RegistryClient::new(&r.registry, opts)?
            };
            list.push(Endpoint {
                client,
                reference: r,
                mirror: s.mirror,
            });
        }
        Ok(Self {
            list,
            chosen: std::sync::OnceLock::new(),
        })
    }

    /// The endpoint that served the manifest, or the first one.
    pub fn current(&self) -> &Endpoint {
        &self.list[self.chosen.get().copied().unwrap_or(0)]
    }

    /// The endpoint that serves `reference`, asking for its manifest when none has yet.
    pub(crate) async fn served(&self, reference: &Reference) -> Result<&Endpoint> {
        if let Some(&i) = self.chosen.get() {
            return Ok(&self.list[i]);
        }
        self.top_manifest(reference).await?;
        Ok(self.current())
    }

    /// The manifest of `reference` from the first endpoint that has it; every endpoint's
    /// failure is named when none does.
    async fn top_manifest(&self, reference: &Reference) -> Result<wharf_registry::Manifest> {
        let order: Vec<usize> = match self.chosen.get() {
            Some(&i) => vec![i],
            None => (0..self.list.len()).collect(),
        };
        let mut failures = Vec::new();
        let mut last = None;
        for i in order {
            let e = &self.list[i];
            match e
                .client
                .get_manifest(&e.reference.repository, &e.reference.tag_or_digest())
                .await
            {
                Ok(m) => {
                    let _ = self.chosen.set(i);
                    if e.mirror {
                        tracing::info!(mirror = %e.reference, "pulling from a mirror");
                    }
                    return Ok(m);
                }
                Err(err) => {
                    tracing::debug!(endpoint = %e.reference, error = %err, "endpoint failed");
                    failures.push(format!(
                        "{} {}/{}: {err}",
                        if e.mirror { "mirror" } else { "registry" },
                        e.reference.registry,
                        e.reference.repository
                    ));
                    last = Some(err);
                }
            }
        }
        match (failures.len(), last) {
            (1, Some(err)) => Err(err.into()),
            _ => Err(wharf_registry::RegistryError::Endpoints {
                reference: reference.to_string(),
                failures,
            }
            .into()),
        }
    }
}

/// One image of a `docker save` archive's `manifest.json`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ArchiveItem {
    pub config: String,
    #[serde(default)]
    pub repo_tags: Option<Vec<String>>,
    pub layers: Vec<String>,
}

impl Source {
    /// Opens a source. `store` is needed for `store:` references; nothing touches the network
    /// yet.
    pub fn open(r: &ImageRef, client: &ClientOptions, store: Option<&Store>) -> Result<Self> {
        match r {
            ImageRef::Docker(reference) => Ok(Self::Registry {
                endpoints: std::sync::Arc::new(Endpoints::new(reference, client)?),
                reference: reference.clone(),
            }),
            ImageRef::Oci { path, name } => {
                let files = Files::Dir(path.clone());
                let top = layout::find(&files, name.as_deref())?;
                Ok(Self::Layout {
                    files,
                    top,
                    label: r.to_string(),
                })
            }
            ImageRef::OciArchive { path, name } => {
                let files = Files::tar(path)?;
                let top = layout::find(&files, name.as_deref())?;
                Ok(Self::Layout {
                    files,
                    top,
                    label: r.to_string(),
                })
            }
            ImageRef::Dir { path } => {
                let files = Files::Dir(path.clone());
                if !files.exists("manifest.json") {
                    return Err(TransportError::NotFound {
                        what: "manifest.json".into(),
                        location: path.display().to_string(),
                    });
                }
                Ok(Self::Dir { files })
            }
            ImageRef::Store { name } => {
                let store = store.ok_or_else(|| TransportError::Invalid {
                    location: r.to_string(),
                    what: "no store was opened".into(),
                })?;
                let record = store.resolve(name)?;
                Ok(Self::Store {
                    store: store.clone(),
                    top: record.manifest,
                    label: r.to_string(),
                })
            }
            ImageRef::DockerArchive { path, tag, index } => {
                open_docker_archive(Files::tar(path)?, tag.as_ref(), *index)
            }
        }
    }

    /// A short description for messages.
    pub fn describe(&self) -> String {
        match self {
            Self::Registry { reference, .. } => format!("docker://{reference}"),
            Self::Layout { label, .. } | Self::Store { label, .. } => label.clone(),
            Self::Dir { files } => format!("dir:{}", files.location().display()),
            Self::DockerArchive { files, .. } => {
                format!("docker-archive:{}", files.location().display())
            }
        }
    }

    /// The registry client and reference of a `docker://` source: the endpoint that served
    /// the manifest, or the first to try before that.
    pub fn registry(&self) -> Option<(&RegistryClient, &Reference)> {
        match self {
            Self::Registry { endpoints, .. } => {
                let e = endpoints.current();
                Some((&e.client, &e.reference))
            }
            _ => None,
        }
    }

    /// Which endpoint served a registry image (`mirror.example/team/app`), once known, and
    /// whether it is a mirror.
    pub fn served_by(&self) -> Option<(String, bool)> {
        match self {
            Self::Registry { endpoints, .. } => endpoints.chosen.get().map(|&i| {
                let e = &endpoints.list[i];
                (
                    format!("{}/{}", e.reference.registry, e.reference.repository),
                    e.mirror,
                )
            }),
            _ => None,
        }
    }

    /// The top-level manifest or index, with its exact bytes.
    pub async fn manifest(&self) -> Result<RawManifest> {
        match self {
            Self::Registry {
                reference,
                endpoints,
            } => {
                let m = endpoints.top_manifest(reference).await?;
                Ok(RawManifest::parse(m.bytes.to_vec(), Some(&m.media_type))?)
            }
            Self::Layout { top, .. } | Self::Store { top, .. } => self.child_manifest(top).await,
            Self::Dir { files } => {
                let bytes = files.read_small("manifest.json")?;
                Ok(RawManifest::parse(bytes, None)?)
            }
            Self::DockerArchive { manifest, .. } => Ok(manifest.clone()),
        }
    }

    /// A manifest named by an index entry, checked against the entry's digest.
    pub async fn child_manifest(&self, d: &Descriptor) -> Result<RawManifest> {
        let mt = d.media_type().to_string();
        let bytes = match self {
            Self::Registry {
                reference,
                endpoints,
            } => {
                let e = endpoints.served(reference).await?;
                let m = e
                    .client
                    .get_manifest(&e.reference.repository, d.digest().as_ref())
                    .await?;
                let parsed = RawManifest::parse(m.bytes.to_vec(), Some(&m.media_type))?;
                return check_manifest(parsed, d);
            }
            Self::Layout { files, .. } => files.read_small(&layout::blob_path(d.digest()))?,
            Self::Store { store, .. } => store.read_small(d.digest())?,
            Self::Dir { files } => {
                files.read_small(&format!("{}.manifest.json", d.digest().digest()))?
            }
            Self::DockerArchive { manifest, .. } => manifest.bytes.clone(),
        };
        check_manifest(RawManifest::parse(bytes, Some(&mt))?, d)
    }

    /// A blob as a stream. Registry streams are verified as they are read; every destination
    /// verifies digest and size again before it keeps a blob.
    /// Whether [`Source::blob`]'s streams check themselves: a registry download verifies its
    /// size and digest and fails its last read when they differ, so a destination need not
    /// hash it again. Files (layouts, archives, `dir:`) are read as they are.
    pub fn verifies_blobs(&self) -> bool {
        matches!(self, Self::Registry { .. })
    }

    pub async fn blob(&self, d: &Descriptor) -> Result<BlobStream> {
        self.blob_to(d, false).await
    }

    /// [`Source::blob`] for a reader that checks the digest itself before it keeps a byte
    /// (`hashed_by_reader`, see [`crate::dest::Destination::hashes_before_keeping`]): a
    /// registry's stream is then not hashed a second time.
    pub(crate) async fn blob_to(
        &self,
        d: &Descriptor,
        hashed_by_reader: bool,
    ) -> Result<BlobStream> {
        match self {
            Self::Registry {
                reference,
                endpoints,
            } => {
                let e = endpoints.served(reference).await?;
                let mut r = e
                    .client
                    .get_blob(&e.reference.repository, d.digest(), Some(d.size()))
                    .await?;
                if hashed_by_reader {
                    r = r.hashed_by_caller();
                }
                Ok(Box::new(r.into_async_read()))
            }
            Self::Layout { files, .. } => Ok(files.open_stream(&layout::blob_path(d.digest()))?.0),
            Self::Dir { files } => Ok(files.open_stream(d.digest().digest())?.0),
            Self::Store { store, .. } => {
                let f = store.open_blob(d.digest())?;
                Ok(Box::new(tokio::fs::File::from_std(f)))
            }
            Self::DockerArchive { files, names, .. } => {
                let name = names
                    .get(d.digest())
                    .ok_or_else(|| TransportError::NotFound {
                        what: format!("blob {}", d.digest()),
                        location: files.location().display().to_string(),
                    })?;
                Ok(files.open_stream(name)?.0)
            }
        }
    }

    /// A small blob (a config) read whole.
    pub async fn blob_bytes(&self, d: &Descriptor) -> Result<Bytes> {
        use tokio::io::AsyncReadExt as _;
        check_config_size(d, &self.describe())?;
        let mut out = Vec::with_capacity(d.size() as usize);
        let mut s = self.blob(d).await?.take(d.size() + 1);
        s.read_to_end(&mut out)
            .await
            .map_err(TransportError::io("reading", self.describe()))?;
        let actual = wharf_oci::digest::sha256(&out);
        if actual != *d.digest() {
            return Err(TransportError::DigestMismatch {
                what: format!("blob {}", d.digest()),
                expected: d.digest().clone(),
                actual,
            });
        }
        Ok(Bytes::from(out))
    }
}

/// Refuses a config whose descriptor announces more than [`wharf_oci::limits::MAX_CONFIG_SIZE`]
/// before a byte is fetched: every copy (pulls of all three binaries, `ferry copy`) goes through
/// this, and the store could not read a larger one back.
pub(crate) fn check_config_size(d: &Descriptor, location: &str) -> Result<()> {
    let limit = wharf_oci::limits::MAX_CONFIG_SIZE;
    if d.size() > limit {
        return Err(TransportError::Invalid {
            location: location.to_owned(),
            what: format!(
                "config {} is {} bytes, more than the {limit} bytes accepted for image configs \
                 (refused before downloading it)",
                d.digest(),
                d.size()
            ),
        });
    }
    Ok(())
}

fn check_manifest(m: RawManifest, d: &Descriptor) -> Result<RawManifest> {
    if m.digest != *d.digest() {
        return Err(TransportError::DigestMismatch {
            what: "manifest".into(),
            expected: d.digest().clone(),
            actual: m.digest,
        });
    }
    Ok(m)
}

/// Reads `manifest.json` of a `docker save` archive and describes the chosen image as a Docker
/// v2s2 manifest. Uncompressed layers take their diff ID as digest (it is the digest of exactly
/// those bytes, and the destination verifies it); compressed ones are hashed once here.
fn open_docker_archive(
    files: Files,
    tag: Option<&Reference>,
    index: Option<usize>,
) -> Result<Source> {
    let loc = files.location().display().to_string();
    let items: Vec<ArchiveItem> = serde_json::from_slice(&files.read_small("manifest.json")?)
        .map_err(TransportError::json(format!("{loc}: manifest.json")))?;
    let item = match (tag, index) {
        (_, Some(i)) => items.get(i),
        (Some(t), None) => items.iter().find(|it| {
            it.repo_tags.iter().flatten().any(|rt| {
                Reference::parse(rt)
                    .map(Reference::with_default_tag)
                    .is_ok_and(|r| r == *t)
            })
        }),
        (None, None) if items.len() == 1 => items.first(),
        (None, None) => {
            return Err(TransportError::Invalid {
                location: loc,
                what: format!(
                    "the archive holds {} images: name one with :NAME:TAG or :@INDEX",
                    items.len()
                ),
            });
        }
    }
    .ok_or_else(|| TransportError::NotFound {
        what: tag.map_or_else(
            || format!("image @{}", index.unwrap_or(0)),
            Reference::familiar,
        ),
        location: loc.clone(),
    })?;
    let config_bytes = files.read_small(&item.config)?;
    let config: ImageConfig = serde_json::from_slice(&config_bytes)
        .map_err(TransportError::json(format!("{loc}: {}", item.config)))?;
    let config_digest = wharf_oci::digest::sha256(&config_bytes);
    let mut names = HashMap::new();
    names.insert(config_digest.clone(), item.config.clone());
    let mut layers = Vec::new();
    for (i, name) in item.layers.iter().enumerate() {
        let (mut f, size) = files.open_sync(name)?;
        let mut head = [0u8; 4];
        let n = (&mut f)
            .take(4)
            .read(&mut head)
            .map_err(TransportError::io("reading", files.location()))?;
        let compression = wharf_archive::sniff(&head[..n]).unwrap_or(LayerCompression::None);
        let diff_id = config
            .rootfs
            .diff_ids
            .get(i)
            .filter(|_| compression == LayerCompression::None);
        let digest = if let Some(d) = diff_id {
            d.clone()
        } else {
            {
                let (mut f, size) = files.open_sync(name)?;
                let mut h = wharf_oci::digest::HashingReader::new(
                    (&mut f).take(size),
                    wharf_oci::Hasher::sha256(),
                );
                std::io::copy(&mut h, &mut std::io::sink())
                    .map_err(TransportError::io("reading", files.location()))?;
                h.finish().0
            }
        };
        names.insert(digest.clone(), name.clone());
        layers.push(serde_json::json!({
            "mediaType": media_type::layer_media_type(compression, true),
            "size": size,
            "digest": digest.to_string(),
        }));
    }
    let doc = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media_type::DOCKER_MANIFEST,
        "config": {
            "mediaType": media_type::DOCKER_CONFIG,
            "size": config_bytes.len(),
            "digest": config_digest.to_string(),
        },
        "layers": layers,
    });
    let bytes = wharf_oci::manifest::to_bytes(&doc)?;
    let manifest = RawManifest::parse(bytes, Some(media_type::DOCKER_MANIFEST))?;
    Ok(Source::DockerArchive {
        files,
        manifest,
        names,
    })
}
