//! Build contexts that are not directories, as `docker build` takes them: a tar archive on
//! standard input (`kiln build -`, gzip or zstd compressed or not), a Dockerfile alone on
//! standard input (an empty context), or a Dockerfile on standard input next to a directory
//! context (`-f -`), or an `http(s)://` URL of either (downloaded first, then read the same way).
//!
//! An archive is unpacked into a temporary directory under the store's `tmp/` (named by the
//! process's lease there, so a concurrent process does not take it for a leftover) with the same
//! safe extraction as image layers (nothing lands outside it; devices are refused), owned by the
//! caller; the directory is removed when the [`Materialized`] context is dropped.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use wharf_registry::Downloader;

use wharf_archive::ApplyOptions;
use wharf_store::Store;

use crate::error::BuildError;

/// A directory under the store's `tmp/` owned by this process, removed on drop.
#[derive(Debug)]
pub struct TempTree(PathBuf);

impl TempTree {
    pub fn new(store: &Store, kind: &str) -> Result<Self, BuildError> {
        let path = store.temp_path(kind);
        std::fs::create_dir_all(&path).map_err(BuildError::io("creating", &path))?;
        Ok(Self(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempTree {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            tracing::warn!("removing {}: {e}", self.0.display());
        }
    }
}

/// A context written to disk for the build.
#[derive(Debug)]
pub struct Materialized {
    dir: TempTree,
    /// The Dockerfile when the input was one (not an archive).
    pub dockerfile: Option<PathBuf>,
}

impl Materialized {
    /// The context directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// Reads a context from `input` (standard input): a tar archive (compressed or not) becomes
/// the context; anything else is taken as a Dockerfile with an empty context.
pub fn from_reader(mut input: impl Read, store: &Store) -> Result<Materialized, BuildError> {
    let mut head = Vec::with_capacity(512);
    (&mut input)
        .take(512)
        .read_to_end(&mut head)
        .map_err(BuildError::io("reading", "standard input"))?;
    let dir = TempTree::new(store, "context")?;
    let stream = Cursor::new(head.clone()).chain(input);
    let Some(compression) = wharf_archive::sniff(&head) else {
        let dockerfile = dir.path().join("Dockerfile");
        let mut out =
            std::fs::File::create(&dockerfile).map_err(BuildError::io("creating", &dockerfile))?;
        let mut stream = stream;
        std::io::copy(&mut stream, &mut out).map_err(BuildError::io("writing", &dockerfile))?;
        return Ok(Materialized {
            dir,
            dockerfile: Some(dockerfile),
        });
    };
    let mut tar = wharf_archive::decompress(stream, compression)?;
    let opts = ApplyOptions {
        same_owner: false,
        confine_absolute_names: true,
        ..ApplyOptions::default()
    };
    wharf_archive::apply_layer(&mut tar, dir.path(), &opts)?;
    Ok(Materialized {
        dir,
        dockerfile: None,
    })
}

/// Downloads `url` (a tar archive, compressed or not, or a Dockerfile) and reads it as
/// [`from_reader`] does. The download is streamed to a file in the store's `tmp/`, over the
/// registry crate's HTTP stack (certs.d and proxies apply).
pub fn from_url(url: &str, store: &Store, net: &Downloader) -> Result<Materialized, BuildError> {
    use std::io::Write as _;
    let download = TempTree::new(store, "download")?;
    let file = download.path().join("context");
    let out = std::fs::File::create(&file).map_err(BuildError::io("creating", &file))?;
    let mut out = std::io::BufWriter::new(out);
    net.get(url, &mut |chunk| out.write_all(chunk))
        .map_err(|e| BuildError::Download(Box::new(e)))?;
    out.flush().map_err(BuildError::io("writing", &file))?;
    drop(out);
    let input = std::fs::File::open(&file).map_err(BuildError::io("opening", &file))?;
    from_reader(std::io::BufReader::new(input), store)
}

/// Writes a Dockerfile read from `input` (`-f -`) to a temporary directory in the store.
pub fn dockerfile_from_reader(
    mut input: impl Read,
    store: &Store,
) -> Result<Materialized, BuildError> {
    let dir = TempTree::new(store, "dockerfile")?;
    let path = dir.path().join("Dockerfile");
    let mut out = std::fs::File::create(&path).map_err(BuildError::io("creating", &path))?;
    std::io::copy(&mut input, &mut out).map_err(BuildError::io("writing", &path))?;
    Ok(Materialized {
        dir,
        dockerfile: Some(path),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tar_becomes_the_context_and_text_a_dockerfile() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open(t.path()).unwrap();
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_size(3);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, "sub/f.txt", &b"hi\n"[..]).unwrap();
        let bytes = b.into_inner().unwrap();
        let m = from_reader(&bytes[..], &store).unwrap();
        assert!(m.dockerfile.is_none());
        assert_eq!(std::fs::read(m.dir().join("sub/f.txt")).unwrap(), b"hi\n");

        let m = from_reader(&b"FROM scratch\n"[..], &store).unwrap();
        let df = m.dockerfile.clone().unwrap();
        assert_eq!(std::fs::read(&df).unwrap(), b"FROM scratch\n");
        let dir = m.dir().to_owned();
        drop(m);
        assert!(!dir.exists(), "the temporary context is removed");
    }
}
