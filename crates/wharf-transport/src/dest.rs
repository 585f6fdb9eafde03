//! Image destinations: which blobs they have, verified blob writes, and the manifest written
//! last (archives are assembled and renamed into place only then).

use std::path::{Path, PathBuf};

use bytes::Bytes;
use tokio_util::io::SyncIoBridge;
use wharf_oci::{Descriptor, Digest, RawManifest, Reference};
use wharf_registry::{ClientOptions, RegistryClient, Upload, UploadOptions};
use wharf_store::Store;

use crate::BlobStream;
use crate::docker_archive::ArchiveWriter;
use crate::error::{Result, TransportError};
use crate::files::{write_atomic, write_hashed, write_presumed, write_verified};
use crate::layout;
use crate::reference::ImageRef;
use crate::source::Source;

const DIR_VERSION: &[u8] = b"Directory Transport Version: 1.1\n";

/// Where a copy writes.
#[derive(Debug)]
pub enum Destination {
    Registry {
        client: RegistryClient,
        reference: Reference,
    },
    /// `oci:` (written in place) and `oci-archive:` (a layout in a temporary directory next to
    /// the archive, packed and renamed into place when the manifest arrives).
    Layout {
        dir: PathBuf,
        name: Option<String>,
        archive: Option<(PathBuf, tempfile::TempDir)>,
    },
    Dir {
        dir: PathBuf,
    },
    Store {
        store: Store,
        name: String,
    },
    DockerArchive(ArchiveWriter),
}

fn temp_dir_next_to(path: &Path) -> Result<tempfile::TempDir> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    tempfile::Builder::new()
        .prefix(".wharf-archive-")
        .tempdir_in(parent)
        .map_err(TransportError::io(
            "creating a temporary directory in",
            parent,
        ))
}

impl Destination {
    pub fn open(r: &ImageRef, client: &ClientOptions, store: Option<&Store>) -> Result<Self> {
        Ok(match r {
            ImageRef::Docker(reference) => {
                // Pushes go to the registry itself, never to a mirror or a remapped location
                // (as containers/image); a blocked registry is refused.
                let client = &client.clone().with_config()?;
                let conf = client.registries_conf()?;
                if let Some(entry) = conf.find(&reference.registry, &reference.repository)
                    && entry.blocked
                {
                    return Err(wharf_registry::RegistryError::Blocked {
                        registry: format!("{}/{}", reference.registry, reference.repository),
                        path: conf.files.first().cloned().unwrap_or_default(),
                    }
                    .into());
                }
                Self::Registry {
                    client: RegistryClient::new(&reference.registry, client)?,
                    reference: reference.clone(),
                }
            }
            ImageRef::Oci { path, name } => {
                layout::init(path)?;
                Self::Layout {
                    dir: path.clone(),
                    name: name.clone(),
                    archive: None,
                }
            }
            ImageRef::OciArchive { path, name } => {
                let tmp = temp_dir_next_to(path)?;
                layout::init(tmp.path())?;
                Self::Layout {
                    dir: tmp.path().to_owned(),
                    name: name.clone(),
                    archive: Some((path.clone(), tmp)),
                }
            }
            ImageRef::Dir { path } => {
                std::fs::create_dir_all(path).map_err(TransportError::io("creating", path))?;
                Self::Dir { dir: path.clone() }
            }
            ImageRef::Store { name } => Self::Store {
                store: store
                    .ok_or_else(|| TransportError::Invalid {
                        location: r.to_string(),
                        what: "no store was opened".into(),
                    })?
                    .clone(),
                name: name.clone(),
            },
            ImageRef::DockerArchive { path, tag, index } => {
                if index.is_some() {
                    return Err(TransportError::BadReference {
                        input: r.to_string(),
                        why: "@INDEX only selects an image to read".into(),
                    });
                }
                Self::DockerArchive(ArchiveWriter::new(
                    path.clone(),
                    temp_dir_next_to(path)?,
                    tag.clone(),
                ))
            }
        })
    }

    /// A short description for messages.
    pub fn describe(&self) -> String {
        match self {
            Self::Registry { reference, .. } => format!("docker://{reference}"),
            Self::Layout { dir, archive, .. } => match archive {
                Some((p, _)) => format!("oci-archive:{}", p.display()),
                None => format!("oci:{}", dir.display()),
            },
            Self::Dir { dir } => format!("dir:{}", dir.display()),
            Self::Store { name, .. } => format!("store:{name}"),
            Self::DockerArchive(w) => format!("docker-archive:{}", w.path().display()),
        }
    }

    /// Whether the destination holds OCI manifests only: an OCI layout, which skopeo, umoci
    /// and containers/image read as OCI (their `oci` transport supports no Docker types).
    pub fn oci_only(&self) -> bool {
        matches!(self, Self::Layout { .. })
    }

    /// Whether the destination can store an image index (`--all`, multi-arch copies).
    pub fn supports_index(&self) -> bool {
        !matches!(self, Self::DockerArchive(_))
    }

    /// Whether the blob's bytes are stored unchanged (docker-archive decompresses layers).
    pub fn keeps_blobs(&self) -> bool {
        !matches!(self, Self::DockerArchive(_))
    }

    /// Whether the destination already has the blob with the descriptor's size.
    pub async fn has_blob(&self, d: &Descriptor) -> Result<bool> {
        Ok(match self {
            Self::Registry { client, reference } => client
                .blob_exists(&reference.repository, d.digest())
                .await?
                .is_some(),
            Self::Layout { dir, .. } => std::fs::metadata(layout::blob_file(dir, d.digest()))
                .is_ok_and(|m| m.len() == d.size()),
            Self::Dir { dir } => {
                std::fs::metadata(dir.join(d.digest().digest())).is_ok_and(|m| m.len() == d.size())
            }
            Self::Store { store, .. } => {
                store.has_blob(d.digest()) && store.blob_size(d.digest()).ok() == Some(d.size())
            }
            Self::DockerArchive(_) => false,
        })
    }

    /// Mounts the blob from the source's repository when both are on one registry.
    pub async fn try_mount(&self, d: &Descriptor, source: &Source) -> Result<bool> {
        let (Self::Registry { client, reference }, Some((sclient, sref))) =
            (self, source.registry())
        else {
            return Ok(false);
        };
        if client.host() != sclient.host() || reference.repository == sref.repository {
            return Ok(false);
        }
        Ok(client
            .mount_blob(&reference.repository, d.digest(), &sref.repository)
            .await?)
    }

    /// Stores one blob from `stream`, verified against `d` before it is kept.
    pub async fn put_blob(&self, d: &Descriptor, stream: BlobStream) -> Result<()> {
        self.put_blob_from(d, stream, false).await
    }

    /// [`Destination::put_blob`] for a stream that `verified` says checks itself against
    /// `d`'s digest (see [`crate::Source::verifies_blobs`]): registries and layouts then only
    /// check its size, so a verified copy hashes each byte once. The store always hashes:
    /// it trusts nothing it did not check itself.
    pub async fn put_blob_from(
        &self,
        d: &Descriptor,
        stream: BlobStream,
        verified: bool,
    ) -> Result<()> {
        self.put_blob_started(d, stream, verified, None).await
    }

    /// Opens a registry destination's upload session ahead of the blob (see
    /// [`wharf_registry::RegistryClient::start_upload`]); `None` for other destinations.
    pub(crate) async fn start_upload(&self) -> Result<Option<Upload>> {
        match self {
            Self::Registry { client, reference } => {
                Ok(Some(client.start_upload(&reference.repository).await?))
            }
            _ => Ok(None),
        }
    }

    /// Gives back a session from [`Destination::start_upload`] that will not be used.
    pub(crate) async fn cancel_upload(&self, upload: Option<Upload>) {
        if let (Self::Registry { client, .. }, Some(u)) = (self, upload) {
            client.cancel_upload(u).await;
        }
    }

    /// [`Destination::put_blob_from`] into the session `upload`, when one was opened.
    async fn put_blob_started(
        &self,
        d: &Descriptor,
        mut stream: BlobStream,
        verified: bool,
        upload: Option<Upload>,
    ) -> Result<()> {
        match self {
            Self::Registry { client, reference } => {
                let opts = UploadOptions {
                    digest: Some(d.digest().clone()),
                    size: Some(d.size()),
                    chunk_size: None,
                    source_verified: verified,
                };
                match upload {
                    Some(u) => client.push_blob_to(u, &mut stream, &opts).await?,
                    None => {
                        client
                            .push_blob(&reference.repository, &mut stream, &opts)
                            .await?
                    }
                };
                Ok(())
            }
            Self::Layout { dir, .. } => {
                let dest = layout::blob_file(dir, d.digest());
                write_file(stream, dest, d, verified).await
            }
            Self::Dir { dir } => {
                let dest = dir.join(d.digest().digest());
                write_file(stream, dest, d, verified).await
            }
            Self::Store { store, .. } => {
                let store = store.clone();
                let d = d.clone();
                blocking(stream, move |mut r| {
                    let mut w = store.blob_writer(Some((d.digest(), d.size())))?;
                    std::io::copy(&mut r, &mut w)
                        .map_err(TransportError::io("writing", store.root()))?;
                    w.commit()?;
                    Ok(())
                })
                .await
            }
            Self::DockerArchive(w) => {
                let w = w.clone();
                let d = d.clone();
                blocking(stream, move |r| w.put_blob(&d, r)).await
            }
        }
    }

    /// The destination's first round trips, which need nothing from the source: a
    /// registry's ping (scheme, API version, auth challenge), so that it overlaps the source's
    /// manifest fetch instead of following it. A failure is left for the first real request
    /// to report (the ping is not cached until it succeeds).
    pub(crate) async fn warm_up(&self) {
        if let Self::Registry { client, .. } = self {
            let _ = client.ping().await;
        }
    }

    /// The digest of the manifest a registry destination's reference names now (`None`
    /// elsewhere, or when it names nothing).
    pub(crate) async fn tagged_digest(&self) -> Result<Option<Digest>> {
        match self {
            Self::Registry { client, reference } => Ok(client
                .head_manifest(&reference.repository, &reference.tag_or_digest())
                .await?
                .and_then(|h| h.digest)),
            _ => Ok(None),
        }
    }

    /// Whether this destination hashes every blob byte before it keeps the blob, whatever the
    /// source says of its stream: the store's blob writer always does.
    pub(crate) fn hashes_before_keeping(&self) -> bool {
        matches!(self, Self::Store { .. })
    }

    /// The store this destination writes to, if it is one.
    pub(crate) fn store(&self) -> Option<&Store> {
        match self {
            Self::Store { store, .. } => Some(store),
            _ => None,
        }
    }

    /// [`Destination::put_blob_from`] for a layer that a store destination also unpacks on
    /// the way (`unpack`: its diff ID and chain ID), so that a pulled image is ready to run
    /// when the pull ends ([`Store::put_layer_unpacking`]). Other destinations, or no
    /// `unpack`, only store it.
    pub(crate) async fn put_layer_from(
        &self,
        d: &Descriptor,
        stream: BlobStream,
        verified: bool,
        unpack: Option<(Digest, Digest)>,
        upload: Option<Upload>,
    ) -> Result<()> {
        match (self, unpack) {
            (Self::Store { store, .. }, Some((diff_id, chain))) => {
                let store = store.clone();
                let d = d.clone();
                blocking(stream, move |r| {
                    Ok(store.put_layer_unpacking(&d, &diff_id, &chain, r)?)
                })
                .await
            }
            _ => self.put_blob_started(d, stream, verified, upload).await,
        }
    }

    /// Stores a blob whose digest is only known once it is all written (a layer recompressed on
    /// the way); returns its digest and size.
    pub async fn put_new_blob(&self, mut stream: BlobStream) -> Result<(Digest, u64)> {
        match self {
            Self::Registry { client, reference } => {
                let p = client
                    .push_blob(
                        &reference.repository,
                        &mut stream,
                        &UploadOptions::default(),
                    )
                    .await?;
                Ok((p.digest, p.size))
            }
            Self::Layout { dir, .. } => {
                let blobs = dir.join("blobs/sha256");
                let dir = dir.clone();
                blocking_out(stream, move |r| {
                    write_hashed(r, &blobs, |d| layout::blob_file(&dir, d))
                })
                .await
            }
            Self::Dir { dir } => {
                let dir = dir.clone();
                blocking_out(stream, move |r| {
                    write_hashed(r, &dir, |d| dir.join(d.digest()))
                })
                .await
            }
            Self::Store { store, .. } => {
                let store = store.clone();
                blocking_out(stream, move |mut r| {
                    let mut w = store.blob_writer(None)?;
                    std::io::copy(&mut r, &mut w)
                        .map_err(TransportError::io("writing", store.root()))?;
                    let b = w.commit()?;
                    Ok((b.digest, b.size))
                })
                .await
            }
            Self::DockerArchive(_) => Err(TransportError::Unsupported {
                destination: self.describe(),
                what: "recompressed layers (it stores layers uncompressed)".into(),
            }),
        }
    }

    /// Writes a manifest. `top` marks the image's own manifest (tagged, written last);
    /// otherwise it is an index's child, stored by digest.
    pub async fn put_manifest(&self, m: &RawManifest, top: bool) -> Result<()> {
        let mt = m.kind.media_type();
        match self {
            Self::Registry { client, reference } => {
                let r = if top {
                    reference.tag_or_digest()
                } else {
                    m.digest.to_string()
                };
                client
                    .put_manifest(&reference.repository, &r, Bytes::from(m.bytes.clone()), mt)
                    .await?;
            }
            Self::Layout { dir, name, archive } => {
                write_atomic(&layout::blob_file(dir, &m.digest), &m.bytes)?;
                if top {
                    layout::add_to_index(dir, &m.descriptor(), name.as_deref())?;
                    if let Some((path, _)) = archive {
                        let (dir, path) = (dir.clone(), path.clone());
                        tokio::task::spawn_blocking(move || pack_layout(&dir, &path))
                            .await
                            .map_err(|e| TransportError::Task(e.to_string()))??;
                    }
                }
            }
            Self::Dir { dir } => {
                if top {
                    write_atomic(&dir.join("manifest.json"), &m.bytes)?;
                    write_atomic(&dir.join("version"), DIR_VERSION)?;
                } else {
                    let p = dir.join(format!("{}.manifest.json", m.digest.digest()));
                    write_atomic(&p, &m.bytes)?;
                }
            }
            Self::Store { store, name } => {
                let store = store.clone();
                let (bytes, name) = (m.bytes.clone(), name.clone());
                tokio::task::spawn_blocking(move || {
                    if top {
                        store.commit_image(&bytes, mt, &[name]).map(|_| ())
                    } else {
                        store.put_blob_bytes(mt, &bytes).map(|_| ())
                    }
                })
                .await
                .map_err(|e| TransportError::Task(e.to_string()))??;
            }
            Self::DockerArchive(w) => {
                if !top {
                    return Err(TransportError::Unsupported {
                        destination: self.describe(),
                        what: "an image index".into(),
                    });
                }
                let (w, m) = (w.clone(), m.clone());
                tokio::task::spawn_blocking(move || w.finish(&m))
                    .await
                    .map_err(|e| TransportError::Task(e.to_string()))??;
            }
        }
        Ok(())
    }
}

/// Runs a synchronous writer over an async stream on the blocking pool.
/// Writes a blob file, hashing it unless its stream is `verified`.
async fn write_file(
    stream: BlobStream,
    dest: PathBuf,
    d: &Descriptor,
    verified: bool,
) -> Result<()> {
    let d = d.clone();
    blocking(stream, move |r| {
        if verified {
            write_presumed(r, &dest, d.size())
        } else {
            write_verified(r, &dest, Some(d.digest()), Some(d.size())).map(|_| ())
        }
    })
    .await
}

async fn blocking<F>(stream: BlobStream, f: F) -> Result<()>
where
    F: FnOnce(SyncIoBridge<BlobStream>) -> Result<()> + Send + 'static,
{
    blocking_out(stream, f).await
}

async fn blocking_out<T, F>(stream: BlobStream, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(SyncIoBridge<BlobStream>) -> Result<T> + Send + 'static,
{
    let bridge = SyncIoBridge::new(stream);
    tokio::task::spawn_blocking(move || f(bridge))
        .await
        .map_err(|e| TransportError::Task(e.to_string()))?
}

/// Packs an OCI layout directory into a tar file, written beside `dest` and renamed into place.
pub(crate) fn pack_layout(dir: &Path, dest: &Path) -> Result<()> {
    let mut names = vec!["oci-layout".to_owned(), "index.json".to_owned()];
    let blobs = dir.join("blobs");
    for alg in std::fs::read_dir(&blobs).map_err(TransportError::io("reading", &blobs))? {
        let alg = alg.map_err(TransportError::io("reading", &blobs))?;
        let alg_name = alg.file_name().to_string_lossy().into_owned();
        for blob in std::fs::read_dir(alg.path()).map_err(TransportError::io("reading", &blobs))? {
            let blob = blob.map_err(TransportError::io("reading", &blobs))?;
            let name = blob.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') {
                names.push(format!("blobs/{alg_name}/{name}"));
            }
        }
    }
    crate::docker_archive::pack(dir, &names, dest)
}
