//! `--squash`: a stage's new layers merged into one layer on top of its base (buildah's and
//! docker's meaning; the base's layers stay as they are).
//!
//! The merge works on the layer tars, so it never walks the image's tree: a first pass reads the
//! headers from the newest layer down and keeps an entry only if no newer layer replaced it
//! (same path, or a non-directory at an ancestor) or hid it (a whiteout of it or an ancestor,
//! an opaque marker on an ancestor). Whiteouts and opaque markers are kept themselves, since
//! they may hide files of the base. A second pass writes the kept entries oldest layer first,
//! so parents still come before their children, with their PAX records (long names, xattrs).

use std::collections::HashSet;
use std::io::{BufReader, Write};

use wharf_archive::{DEFAULT_GZIP_LEVEL, LayerCompression, LayerReader};
use wharf_oci::Digest;
use wharf_oci::digest::{Hasher, HashingWriter};
use wharf_store::Store;

use crate::error::BuildError;

/// A stored layer blob to merge.
#[derive(Debug, Clone)]
pub struct LayerBlob {
    pub digest: Digest,
    pub compression: LayerCompression,
}

/// The merged layer, stored as a blob.
#[derive(Debug, Clone)]
pub struct Squashed {
    pub digest: Digest,
    pub size: u64,
    pub diff_id: Digest,
    pub compression: LayerCompression,
}

/// `.wh..wh..opq`: the directory holding it is opaque.
const OPAQUE_MARKER: &str = ".wh..wh..opq";
/// `.wh.NAME` removes `NAME`.
const WHITEOUT_PREFIX: &str = ".wh.";

/// A path in a layer tar, normalised: no `./` prefix, no trailing `/`.
fn normalize(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    let s = s.trim_start_matches("./").trim_start_matches('/');
    s.trim_end_matches('/').to_owned()
}

fn parent_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    let mut cur = path;
    std::iter::from_fn(move || {
        let (p, _) = cur.rsplit_once('/')?;
        cur = p;
        Some(p)
    })
}

fn tar_err(what: &'static str, digest: &Digest) -> impl FnOnce(std::io::Error) -> BuildError {
    let path = std::path::PathBuf::from(digest.to_string());
    move |e| BuildError::io(what, path)(e)
}

type LayerEntry<'a> = tar::Entry<'a, &'a mut LayerReader<BufReader<std::fs::File>>>;

/// Reads each entry of a stored layer (verifying the blob as it is read).
fn for_each_entry(
    store: &Store,
    layer: &LayerBlob,
    f: &mut dyn FnMut(&mut LayerEntry<'_>) -> Result<(), BuildError>,
) -> Result<(), BuildError> {
    let blob = store.open_blob(&layer.digest)?;
    let mut reader = LayerReader::new(BufReader::new(blob), layer.compression)?;
    {
        let mut archive = tar::Archive::new(&mut reader);
        let entries = archive
            .entries()
            .map_err(tar_err("reading the layer", &layer.digest))?;
        for entry in entries {
            let mut entry = entry.map_err(tar_err("reading the layer", &layer.digest))?;
            f(&mut entry)?;
        }
    }
    // Drain the padding so the digest check covers the whole blob.
    std::io::copy(&mut reader, &mut std::io::sink())
        .map_err(tar_err("reading the layer", &layer.digest))?;
    reader.finish()?;
    Ok(())
}

/// What a newer layer did to a path, as seen by older layers.
#[derive(Default)]
struct Shadow {
    /// Paths a newer layer wrote (entries of older layers there are replaced).
    written: HashSet<String>,
    /// Non-directories a newer layer wrote: they also replace whatever was below them.
    files: HashSet<String>,
    /// Paths whited out by a newer layer.
    removed: HashSet<String>,
    /// Directories a newer layer made opaque.
    opaque: HashSet<String>,
}

impl Shadow {
    fn hides(&self, path: &str) -> bool {
        if self.removed.contains(path) {
            return true;
        }
        ancestors(path)
            .any(|a| self.removed.contains(a) || self.opaque.contains(a) || self.files.contains(a))
    }
}

/// Merges `layers` (oldest first) into one layer written with `compression`.
pub fn squash(
    store: &Store,
    layers: &[LayerBlob],
    compression: LayerCompression,
) -> Result<Squashed, BuildError> {
    // Pass 1, newest first: which entries survive.
    let mut keep: Vec<Vec<bool>> = vec![Vec::new(); layers.len()];
    let mut shadow = Shadow::default();
    for (i, layer) in layers.iter().enumerate().rev() {
        let mut mine = Shadow::default();
        let kept = &mut keep[i];
        for_each_entry(store, layer, &mut |entry| {
            let path = normalize(&entry.path_bytes());
            let base = path.rsplit('/').next().unwrap_or_default().to_owned();
            let parent = parent_of(&path).to_owned();
            let (target, is_marker) = if base == OPAQUE_MARKER {
                (parent.clone(), true)
            } else if let Some(name) = base.strip_prefix(WHITEOUT_PREFIX) {
                (crate::context::join_rel(&parent, name), true)
            } else {
                (path.clone(), false)
            };
            let hidden = shadow.hides(&path)
                || shadow.written.contains(&path)
                || (is_marker && shadow.written.contains(&target));
            kept.push(!hidden);
            if hidden {
                return Ok(());
            }
            if base == OPAQUE_MARKER {
                mine.opaque.insert(target);
            } else if is_marker {
                mine.removed.insert(target);
            } else {
                if !entry.header().entry_type().is_dir() {
                    mine.files.insert(path.clone());
                }
                mine.written.insert(path);
            }
            Ok(())
        })?;
        shadow.written.extend(mine.written);
        shadow.files.extend(mine.files);
        shadow.removed.extend(mine.removed);
        shadow.opaque.extend(mine.opaque);
    }

    // Pass 2, oldest first: write the survivors.
    let blob = store.blob_writer(None)?;
    let compressed = match compression {
        LayerCompression::Gzip => Out::Gzip(Box::new(flate2::write::GzEncoder::new(
            blob,
            flate2::Compression::new(DEFAULT_GZIP_LEVEL.unsigned_abs()),
        ))),
        LayerCompression::None => Out::Plain(Box::new(blob)),
        LayerCompression::Zstd => {
            return Err(BuildError::Unsupported {
                what: "--squash with zstd layers".to_owned(),
            });
        }
    };
    let mut builder = tar::Builder::new(HashingWriter::new(compressed, Hasher::sha256()));
    for (i, layer) in layers.iter().enumerate() {
        let mut n = 0;
        for_each_entry(store, layer, &mut |entry| {
            let k = keep[i].get(n).copied().unwrap_or(false);
            n += 1;
            if !k {
                return Ok(());
            }
            let pax: Vec<(String, Vec<u8>)> = match entry
                .pax_extensions()
                .map_err(tar_err("reading the layer", &layer.digest))?
            {
                Some(exts) => exts
                    .filter_map(Result::ok)
                    .filter_map(|e| Some((e.key().ok()?.to_owned(), e.value_bytes().to_vec())))
                    .collect(),
                None => Vec::new(),
            };
            if !pax.is_empty() {
                builder
                    .append_pax_extensions(pax.iter().map(|(k, v)| (k.as_str(), v.as_slice())))
                    .map_err(tar_err("writing the squashed layer", &layer.digest))?;
            }
            let header = entry.header().clone();
            builder
                .append(&header, &mut *entry)
                .map_err(tar_err("writing the squashed layer", &layer.digest))?;
            Ok(())
        })?;
    }
    let hashing = builder
        .into_inner()
        .map_err(BuildError::io("finishing", "the squashed layer"))?;
    let (diff_id, _, compressed) = hashing.finish();
    let stored = compressed
        .finish()
        .map_err(BuildError::io("finishing", "the squashed layer"))?
        .commit()?;
    Ok(Squashed {
        digest: stored.digest,
        size: stored.size,
        diff_id,
        compression,
    })
}

/// The blob, compressed or not.
enum Out {
    Gzip(Box<flate2::write::GzEncoder<wharf_store::BlobWriter>>),
    Plain(Box<wharf_store::BlobWriter>),
}

impl Out {
    fn finish(self) -> std::io::Result<wharf_store::BlobWriter> {
        match self {
            Out::Gzip(g) => g.finish(),
            Out::Plain(b) => Ok(*b),
        }
    }
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Out::Gzip(g) => g.write(buf),
            Out::Plain(b) => b.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Out::Gzip(g) => g.flush(),
            Out::Plain(b) => b.flush(),
        }
    }
}
