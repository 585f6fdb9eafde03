//! Read access to the files of a directory or of a tar archive (by member offsets, so an
//! archive is read in place and never unpacked), and verified blob writes into a directory.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};

use tokio::io::AsyncReadExt as _;
use wharf_fs::{Atomic, Durability, Pending};
use wharf_oci::Digest;
use wharf_oci::digest::{Hasher, HashingWriter};

use crate::BlobStream;
use crate::error::{Result, TransportError};

/// Manifests and configs read whole are refused above this size (the one cap of
/// `wharf_oci::limits`, so the store can read back whatever was copied from here).
const SMALL_LIMIT: u64 = wharf_oci::limits::MAX_JSON_SIZE;

/// The files of a directory, or of a tar archive indexed by member name (read in place).
#[derive(Debug)]
pub enum Files {
    Dir(PathBuf),
    Tar {
        path: PathBuf,
        /// member name (normalised, no `./`) -> (data offset, size)
        members: HashMap<String, (u64, u64)>,
    },
}

fn normalise(name: &str) -> String {
    Path::new(name)
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

impl Files {
    /// Indexes the regular files of a tar archive. Symbolic and hard links between members
    /// (as `docker save` writes for repeated layers) resolve to their targets.
    pub(crate) fn tar(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(TransportError::io("opening", path))?;
        let mut archive = tar::Archive::new(io::BufReader::new(file));
        let mut members = HashMap::new();
        let mut links = Vec::new();
        let entries = archive
            .entries()
            .map_err(TransportError::io("reading", path))?;
        for entry in entries {
            let entry = entry.map_err(TransportError::io("reading", path))?;
            let name = normalise(
                &entry
                    .path()
                    .map_err(TransportError::io("reading", path))?
                    .to_string_lossy(),
            );
            let kind = entry.header().entry_type();
            if kind.is_file() {
                members.insert(name, (entry.raw_file_position(), entry.size()));
            } else if (kind.is_symlink() || kind.is_hard_link())
                && let Ok(Some(target)) = entry.link_name()
            {
                {
                    let target = target.to_string_lossy().into_owned();
                    let resolved = if kind.is_symlink() {
                        let parent = Path::new(&name).parent().unwrap_or(Path::new(""));
                        normalise(&parent.join(target).to_string_lossy())
                    } else {
                        normalise(&target)
                    };
                    links.push((name, resolved));
                }
            }
        }
        for (name, target) in links {
            if let Some(v) = members.get(&target).copied() {
                members.insert(name, v);
            }
        }
        Ok(Self::Tar {
            path: path.to_owned(),
            members,
        })
    }

    pub(crate) fn location(&self) -> &Path {
        match self {
            Self::Dir(p) | Self::Tar { path: p, .. } => p,
        }
    }

    fn not_found(&self, rel: &str) -> TransportError {
        TransportError::NotFound {
            what: rel.to_owned(),
            location: self.location().display().to_string(),
        }
    }

    pub(crate) fn exists(&self, rel: &str) -> bool {
        match self {
            Self::Dir(d) => d.join(rel).is_file(),
            Self::Tar { members, .. } => members.contains_key(&normalise(rel)),
        }
    }

    /// Opens `rel` positioned at its first byte, with its size.
    pub(crate) fn open_sync(&self, rel: &str) -> Result<(File, u64)> {
        match self {
            Self::Dir(d) => {
                let p = d.join(rel);
                let f = File::open(&p).map_err(|e| {
                    if e.kind() == io::ErrorKind::NotFound {
                        self.not_found(rel)
                    } else {
                        TransportError::io("opening", &p)(e)
                    }
                })?;
                let size = f
                    .metadata()
                    .map_err(TransportError::io("reading", &p))?
                    .len();
                Ok((f, size))
            }
            Self::Tar { path, members } => {
                let (offset, size) = *members
                    .get(&normalise(rel))
                    .ok_or_else(|| self.not_found(rel))?;
                let mut f = File::open(path).map_err(TransportError::io("opening", path))?;
                f.seek(SeekFrom::Start(offset))
                    .map_err(TransportError::io("reading", path))?;
                Ok((f, size))
            }
        }
    }

    pub(crate) fn read_small(&self, rel: &str) -> Result<Vec<u8>> {
        let (f, size) = self.open_sync(rel)?;
        if size > SMALL_LIMIT {
            return Err(TransportError::Invalid {
                location: self.location().display().to_string(),
                what: format!("{rel} is larger than {SMALL_LIMIT} bytes"),
            });
        }
        let mut out = Vec::with_capacity(size as usize);
        f.take(size)
            .read_to_end(&mut out)
            .map_err(TransportError::io("reading", self.location()))?;
        Ok(out)
    }

    /// `rel` as a stream (only its bytes, for a tar member).
    pub(crate) fn open_stream(&self, rel: &str) -> Result<(BlobStream, u64)> {
        let (f, size) = self.open_sync(rel)?;
        Ok((Box::new(tokio::fs::File::from_std(f).take(size)), size))
    }
}

/// Writes a stream into `dest` through a temporary file in the same directory, checking its
/// digest and size (when given) before renaming it into place.
pub(crate) fn write_verified(
    reader: impl Read,
    dest: &Path,
    digest: Option<&Digest>,
    size: Option<u64>,
) -> Result<(Digest, u64)> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    write_into(reader, dir, dest, |_| dest.to_owned(), digest, size)
}

/// Writes a stream of unknown digest into `dir` through a temporary file, then renames it to
/// `name(digest)`.
pub(crate) fn write_hashed(
    reader: impl Read,
    dir: &Path,
    name: impl FnOnce(&Digest) -> PathBuf,
) -> Result<(Digest, u64)> {
    write_into(reader, dir, dir, name, None, None)
}

fn write_into(
    mut reader: impl Read,
    dir: &Path,
    label: &Path,
    name: impl FnOnce(&Digest) -> PathBuf,
    digest: Option<&Digest>,
    size: Option<u64>,
) -> Result<(Digest, u64)> {
    let dest = label;
    let tmp = Pending::in_dir(dir, Durability::Synced)
        .map_err(TransportError::io("creating a temporary file in", dir))?;
    let hasher = match digest {
        Some(d) => Hasher::for_digest(d).map_err(|_| TransportError::Invalid {
            location: dest.display().to_string(),
            what: format!("unsupported digest algorithm in {d}"),
        })?,
        None => Hasher::sha256(),
    };
    let mut w = HashingWriter::new(tmp, hasher);
    io::copy(&mut reader, &mut w).map_err(TransportError::io("writing", dest))?;
    w.flush().map_err(TransportError::io("writing", dest))?;
    let (actual, n, pending) = w.finish();
    if let Some(d) = digest
        && *d != actual
    {
        return Err(TransportError::DigestMismatch {
            what: format!("blob {d}"),
            expected: d.clone(),
            actual,
        });
    }
    if let Some(s) = size
        && s != n
    {
        return Err(TransportError::SizeMismatch {
            digest: actual,
            expected: s,
            actual: n,
        });
    }
    let dest = name(&actual);
    pending
        .commit(&dest)
        .map_err(TransportError::io("writing", &dest))?;
    Ok((actual, n))
}

/// Writes small bytes atomically (temporary file + rename).
pub(crate) fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<()> {
    Atomic::new(dest)
        .write(bytes)
        .map_err(TransportError::io("writing", dest))
}

/// Writes a stream whose source already verifies it (its last read fails when the bytes do
/// not match their digest, as a registry download does) into `dest`, checking only its size:
/// hashing it a second time here cost as much CPU as the rest of a registry-to-layout copy.
/// A failed read leaves nothing behind: the temporary file is dropped.
pub(crate) fn write_presumed(mut reader: impl Read, dest: &Path, size: u64) -> Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let mut w = Pending::in_dir(dir, Durability::Synced)
        .map_err(TransportError::io("creating a temporary file in", dir))?;
    let n = io::copy(&mut reader, &mut w).map_err(TransportError::io("writing", dest))?;
    if n != size {
        return Err(TransportError::Invalid {
            location: dest.display().to_string(),
            what: format!("expected {size} bytes, got {n}"),
        });
    }
    w.commit(dest).map_err(TransportError::io("writing", dest))
}
