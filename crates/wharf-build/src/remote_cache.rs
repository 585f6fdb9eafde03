//! The build cache shared through a registry (`--cache-to REPO`, `--cache-from REPO`).
//!
//! Each cache record is one OCI image manifest in the repository, tagged with the hex of its
//! cache key: its config is the [`Record`] itself (media type [`RECORD_MEDIA_TYPE`]) and its one
//! layer, for a filesystem step, is the step's layer blob exactly as the local store holds it.
//! Any registry that stores OCI manifests keeps them, and a CI runner with an empty store gets
//! the same records, layers and history times, hence the same image ID, as the machine that
//! pushed them. Keys chain from the base image ID and cover every input (see [`crate::cache`]),
//! so a record is only found for the very same step.
//!
//! Pushes run in the background while the build goes on; [`RemoteCache::finish`] waits for them.
//! A lookup that fails (registry down, bad record) is a miss with a warning, never a wrong hit:
//! every blob is verified against its digest on the way into the store.

use std::io::Write as _;

use bytes::Bytes;
use serde_json::json;
use wharf_archive::LayerCompression;
use wharf_oci::{Digest, Reference, media_type};
use wharf_registry::{ClientOptions, RegistryClient, RegistryError, UploadOptions};
use wharf_store::Store;

use crate::cache::{self, Record};
use crate::error::BuildError;

/// Media type of the config blob of a cache manifest: a JSON [`Record`].
pub const RECORD_MEDIA_TYPE: &str = "application/vnd.wharf.build.cache.record.v1+json";
/// The `artifactType` of cache manifests (image-spec 1.1; older registries ignore it).
pub const ARTIFACT_TYPE: &str = "application/vnd.wharf.build.cache.v1";
/// Records are a few hundred bytes; anything far bigger is not ours.
const RECORD_LIMIT: usize = 64 << 10;

/// Where to push and look up cache records.
#[derive(Debug, Clone, Default)]
pub struct RemoteCacheOptions {
    /// `--cache-to`: repositories (`HOST/NAME`) that receive every step's record.
    pub to: Vec<String>,
    /// `--cache-from`: repositories searched, in order, on a local miss.
    pub from: Vec<String>,
    /// TLS, credentials and retries for those registries.
    pub client: ClientOptions,
}

impl RemoteCacheOptions {
    pub fn is_empty(&self) -> bool {
        self.to.is_empty() && self.from.is_empty()
    }
}

/// One cache repository.
#[derive(Debug, Clone)]
struct Repo {
    client: RegistryClient,
    repository: String,
    /// As the user wrote it, for messages.
    name: String,
}

impl Repo {
    fn open(input: &str, opts: &ClientOptions) -> Result<Self, BuildError> {
        let name = input.strip_prefix("docker://").unwrap_or(input);
        let r = Reference::parse(name).map_err(|source| BuildError::CacheRepo {
            repo: input.to_owned(),
            source: Box::new(source),
        })?;
        if r.tag.is_some() || r.digest.is_some() {
            return Err(BuildError::CacheRepoTagged {
                repo: input.to_owned(),
            });
        }
        let client =
            RegistryClient::new(&r.registry, opts).map_err(|source| BuildError::RemoteCache {
                repo: input.to_owned(),
                source: Box::new(source),
            })?;
        Ok(Self {
            client,
            repository: r.repository,
            name: name.to_owned(),
        })
    }

    fn err(&self) -> impl FnOnce(RegistryError) -> BuildError {
        let repo = self.name.clone();
        move |source| BuildError::RemoteCache {
            repo,
            source: Box::new(source),
        }
    }
}

/// The tag a key's record has.
fn tag(key: &Digest) -> String {
    key.digest().to_owned()
}

fn compression_of(name: &str) -> LayerCompression {
    match name {
        "none" => LayerCompression::None,
        "zstd" => LayerCompression::Zstd,
        _ => LayerCompression::Gzip,
    }
}

/// The registry side of the cache for one build.
#[derive(Debug)]
pub struct RemoteCache {
    runtime: tokio::runtime::Handle,
    to: Vec<Repo>,
    from: Vec<Repo>,
    pushes: Vec<tokio::task::JoinHandle<Result<(), BuildError>>>,
}

impl RemoteCache {
    /// Opens the repositories; `None` when there are none.
    pub fn open(
        opts: &RemoteCacheOptions,
        runtime: &tokio::runtime::Handle,
    ) -> Result<Option<Self>, BuildError> {
        if opts.is_empty() {
            return Ok(None);
        }
        let open = |list: &[String]| -> Result<Vec<Repo>, BuildError> {
            list.iter().map(|r| Repo::open(r, &opts.client)).collect()
        };
        Ok(Some(Self {
            to: open(&opts.to)?,
            from: open(&opts.from)?,
            runtime: runtime.clone(),
            pushes: Vec::new(),
        }))
    }

    /// Starts pushing `record` (and its layer) under `key` to every `--cache-to` repository.
    pub fn push(&mut self, store: &Store, key: &Digest, record: &Record) {
        for repo in &self.to {
            let task = push_record(repo.clone(), store.clone(), key.clone(), record.clone());
            self.pushes.push(self.runtime.spawn(task));
        }
    }

    /// Waits for the pushes started so far; the first failure is returned.
    pub fn finish(&mut self) -> Result<(), BuildError> {
        let pushes = std::mem::take(&mut self.pushes);
        self.runtime.block_on(async {
            let mut first = Ok(());
            for p in pushes {
                let r = p.await.unwrap_or_else(|e| {
                    Err(BuildError::io("pushing to", "the registry cache")(
                        std::io::Error::other(e.to_string()),
                    ))
                });
                if first.is_ok() {
                    first = r;
                }
            }
            first
        })
    }

    /// Looks `key` up in the `--cache-from` repositories, in order. A found record's layer is
    /// pulled into the store and the record stored locally, so later builds hit locally.
    /// Failures of one repository are returned as warnings and the next one is tried.
    pub fn pull(&self, store: &Store, key: &Digest) -> (Option<Record>, Vec<BuildError>) {
        let mut warnings = Vec::new();
        for repo in &self.from {
            match self.runtime.block_on(pull_record(repo, store, key)) {
                Ok(Some(record)) => match cache::store_record(store, key, &record) {
                    Ok(()) => return (Some(record), warnings),
                    Err(e) => warnings.push(e),
                },
                Ok(None) => {}
                Err(e) => warnings.push(e),
            }
        }
        (None, warnings)
    }
}

async fn push_record(
    repo: Repo,
    store: Store,
    key: Digest,
    record: Record,
) -> Result<(), BuildError> {
    let c = &repo.client;
    let name = repo.repository.as_str();
    let tag = tag(&key);
    if c.head_manifest(name, &tag)
        .await
        .map_err(repo.err())?
        .is_some()
    {
        return Ok(());
    }
    let mut layers = Vec::new();
    if let Some(l) = &record.layer {
        if c.blob_exists(name, &l.digest)
            .await
            .map_err(repo.err())?
            .is_none()
        {
            let file = store.open_blob(&l.digest)?;
            let mut file = tokio::fs::File::from_std(file);
            let opts = UploadOptions {
                digest: Some(l.digest.clone()),
                size: Some(l.size),
                chunk_size: None,
                source_verified: false,
            };
            c.push_blob(name, &mut file, &opts)
                .await
                .map_err(repo.err())?;
        }
        layers.push(json!({
            "mediaType": media_type::layer_media_type(compression_of(&l.compression), false),
            "digest": l.digest.to_string(),
            "size": l.size,
        }));
    }
    let config = serde_json::to_vec(&record).map_err(BuildError::Serialize)?;
    let config_digest = wharf_oci::digest::sha256(&config);
    let config_size = config.len() as u64;
    if c.blob_exists(name, &config_digest)
        .await
        .map_err(repo.err())?
        .is_none()
    {
        let opts = UploadOptions {
            digest: Some(config_digest.clone()),
            size: Some(config_size),
            chunk_size: None,
            source_verified: false,
        };
        c.push_blob(name, &mut config.as_slice(), &opts)
            .await
            .map_err(repo.err())?;
    }
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_MANIFEST,
        "artifactType": ARTIFACT_TYPE,
        "config": {
            "mediaType": RECORD_MEDIA_TYPE,
            "digest": config_digest.to_string(),
            "size": config_size,
        },
        "layers": layers,
        "annotations": { "org.wharf.build.cache.key": key.to_string() },
    });
    let bytes = serde_json::to_vec(&manifest).map_err(BuildError::Serialize)?;
    c.put_manifest(name, &tag, Bytes::from(bytes), media_type::OCI_MANIFEST)
        .await
        .map_err(repo.err())?;
    Ok(())
}

/// Fetches the record for `key` from `repo` and its layer into the store; `None` when the
/// repository has no record for it.
async fn pull_record(
    repo: &Repo,
    store: &Store,
    key: &Digest,
) -> Result<Option<Record>, BuildError> {
    let c = &repo.client;
    let name = repo.repository.as_str();
    let manifest = match c.get_manifest(name, &tag(key)).await {
        Ok(m) => m,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(repo.err()(e)),
    };
    let bad = |what: &str| BuildError::BadRemoteRecord {
        repo: repo.name.clone(),
        key: key.clone(),
        what: what.to_owned(),
    };
    let doc: serde_json::Value =
        serde_json::from_slice(&manifest.bytes).map_err(|_| bad("the manifest is not JSON"))?;
    let config = &doc["config"];
    if config["mediaType"] != RECORD_MEDIA_TYPE {
        return Err(bad("not a wharf cache manifest"));
    }
    let digest = |v: &serde_json::Value| {
        v.as_str()
            .and_then(|s| wharf_oci::digest::parse(s).ok())
            .ok_or_else(|| bad("a descriptor has no valid digest"))
    };
    let config_digest = digest(&config["digest"])?;
    let config_size = config["size"].as_u64().unwrap_or(u64::MAX);
    if config_size > RECORD_LIMIT as u64 {
        return Err(bad("the record is too large"));
    }
    let mut reader = c
        .get_blob(name, &config_digest, Some(config_size))
        .await
        .map_err(repo.err())?;
    let mut bytes = Vec::new();
    while let Some(chunk) = reader.next_chunk().await.map_err(repo.err())? {
        bytes.extend_from_slice(&chunk);
    }
    let record: Record =
        serde_json::from_slice(&bytes).map_err(|_| bad("the record is not valid JSON"))?;
    let layer_desc = doc["layers"].as_array().and_then(|l| l.first());
    match (&record.layer, layer_desc) {
        (None, None) => {}
        (Some(l), Some(d)) if digest(&d["digest"])? == l.digest => {
            if !store.has_blob(&l.digest) {
                let mut reader = c
                    .get_blob(name, &l.digest, Some(l.size))
                    .await
                    .map_err(repo.err())?;
                let mut w = store.blob_writer(Some((&l.digest, l.size)))?;
                while let Some(chunk) = reader.next_chunk().await.map_err(repo.err())? {
                    w.write_all(&chunk)
                        .map_err(BuildError::io("storing the cached layer", store.tmp_dir()))?;
                }
                w.commit()?;
            }
            store.pin_blob(&l.digest)?;
        }
        _ => return Err(bad("its layer does not match its record")),
    }
    Ok(Some(record))
}
