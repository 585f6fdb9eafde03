//! Writing the `docker save` format: `manifest.json`, `repositories`, `<digest>.json` config and
//! one uncompressed `<diff-id>.tar` per layer, read by `docker load` and `skopeo`.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use wharf_oci::digest::HashingReader;
use wharf_oci::media_type::layer_compression;
use wharf_oci::{Descriptor, Digest, Hasher, RawManifest, Reference};

use crate::error::{Result, TransportError};
use crate::files::{write_atomic, write_verified};
use wharf_fs::{Durability, Pending};

/// A docker-archive being assembled in a temporary directory.
#[derive(Debug, Clone)]
pub struct ArchiveWriter {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    tmp: tempfile::TempDir,
    tag: Option<Reference>,
    /// blob digest (as the source names it) -> file name in the archive
    names: Mutex<HashMap<Digest, String>>,
}

impl ArchiveWriter {
    pub(crate) fn new(path: PathBuf, tmp: tempfile::TempDir, tag: Option<Reference>) -> Self {
        Self {
            inner: Arc::new(Inner {
                path,
                tmp,
                tag,
                names: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn remember(&self, d: &Digest, name: String) {
        if let Ok(mut names) = self.inner.names.lock() {
            names.insert(d.clone(), name);
        }
    }

    /// Stores a config as `<hex>.json`, or a layer decompressed as `<diff-id>.tar`; the
    /// compressed bytes are hashed on the way and must match `d`.
    pub(crate) fn put_blob(&self, d: &Descriptor, r: impl Read) -> Result<()> {
        let dir = self.inner.tmp.path();
        let Some(compression) = layer_compression(d.media_type().as_ref()) else {
            let name = format!("{}.json", d.digest().digest());
            write_verified(r, &dir.join(&name), Some(d.digest()), Some(d.size()))?;
            self.remember(d.digest(), name);
            return Ok(());
        };
        let hasher = Hasher::for_digest(d.digest()).map_err(|_| TransportError::Invalid {
            location: self.inner.path.display().to_string(),
            what: format!("unsupported digest algorithm in {}", d.digest()),
        })?;
        let mut hashing = HashingReader::new(r, hasher);
        let staging = dir.join(format!(".layer-{}", d.digest().digest()));
        let (diff_id, _) = {
            let tar = wharf_archive::decompress(&mut hashing, compression)?;
            write_verified(tar, &staging, None, None)?
        };
        io::copy(&mut hashing, &mut io::sink())
            .map_err(TransportError::io("reading", &self.inner.path))?;
        let (actual, size, _) = hashing.finish();
        if actual != *d.digest() {
            let _ = std::fs::remove_file(&staging);
            return Err(TransportError::DigestMismatch {
                what: format!("layer {}", d.digest()),
                expected: d.digest().clone(),
                actual,
            });
        }
        if size != d.size() {
            let _ = std::fs::remove_file(&staging);
            return Err(TransportError::SizeMismatch {
                digest: actual,
                expected: d.size(),
                actual: size,
            });
        }
        let name = format!("{}.tar", diff_id.digest());
        std::fs::rename(&staging, dir.join(&name))
            .map_err(TransportError::io("renaming", &staging))?;
        self.remember(d.digest(), name);
        Ok(())
    }

    /// Writes `manifest.json` and `repositories`, then packs the archive into place.
    pub(crate) fn finish(&self, m: &RawManifest) -> Result<()> {
        let image = m.image().ok_or_else(|| TransportError::Unsupported {
            destination: format!("docker-archive:{}", self.inner.path.display()),
            what: "an image index (choose one platform)".into(),
        })?;
        let names = self
            .inner
            .names
            .lock()
            .map_err(|_| TransportError::Task("archive writer lock poisoned".into()))?
            .clone();
        let lookup = |d: &Digest| {
            names
                .get(d)
                .cloned()
                .ok_or_else(|| TransportError::NotFound {
                    what: format!("blob {d}"),
                    location: "the archive being written".into(),
                })
        };
        let config = lookup(image.config().digest())?;
        let layers = image
            .layers()
            .iter()
            .map(|l| lookup(l.digest()))
            .collect::<Result<Vec<_>>>()?;
        let tags: Vec<String> = self.inner.tag.iter().map(Reference::familiar).collect();
        let doc = serde_json::json!([{ "Config": config, "RepoTags": tags, "Layers": layers }]);
        let dir = self.inner.tmp.path();
        write_atomic(
            &dir.join("manifest.json"),
            &serde_json::to_vec(&doc).map_err(TransportError::json("manifest.json"))?,
        )?;
        let mut members = vec![config.clone()];
        members.extend(layers.iter().cloned());
        members.push("manifest.json".into());
        if let (Some(tag), Some(top)) = (&self.inner.tag, layers.last()) {
            let familiar = tag.familiar();
            let (repo, t) = familiar.rsplit_once(':').unwrap_or((&familiar, "latest"));
            let top_id = top.trim_end_matches(".tar");
            let repos = serde_json::json!({ repo: { t: top_id } });
            write_atomic(
                &dir.join("repositories"),
                &serde_json::to_vec(&repos).map_err(TransportError::json("repositories"))?,
            )?;
            members.push("repositories".into());
        }
        members.dedup();
        pack(dir, &members, &self.inner.path)
    }
}

/// Writes `names` (relative to `dir`) into a tar at `dest`, through a temporary file renamed
/// into place, so a reader never sees half an archive.
pub(crate) fn pack(dir: &Path, names: &[String], dest: &Path) -> Result<()> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    let tmp = Pending::in_dir(parent, Durability::Synced)
        .map_err(TransportError::io("creating a temporary file in", parent))?;
    let mut b = tar::Builder::new(tmp);
    b.mode(tar::HeaderMode::Deterministic);
    let mut seen = std::collections::HashSet::new();
    for n in names {
        if !seen.insert(n) {
            continue;
        }
        b.append_path_with_name(dir.join(n), n)
            .map_err(TransportError::io("writing", dest))?;
    }
    b.into_inner()
        .and_then(|tmp| tmp.commit(dest))
        .map_err(TransportError::io("writing", dest))
}
