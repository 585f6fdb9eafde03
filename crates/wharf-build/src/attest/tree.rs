//! The built image's root filesystem as its layers give it, read from the layer blobs in the
//! store (never from a mounted or unpacked tree, so it works in every isolation mode and no
//! path of the image can lead outside it): which paths exist in the end, which layer last
//! wrote each, the digests of the files this build's COPY/ADD layers wrote, and the bytes of
//! the package databases.

use std::collections::BTreeMap;
use std::io::Read;

use sha2::Digest as _;
use wharf_oci::media_type::{self, LayerCompression};
use wharf_oci::{ImageConfig, ImageManifest, RawManifest};
use wharf_store::Store;

use crate::error::BuildError;

/// The most bytes of one package database read; a larger one is left out with a warning
/// (Debian's with every package of the archive installed is about 60 MiB).
pub(crate) const DB_LIMIT: u64 = 128 << 20;

/// What a path of the final tree is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    File {
        sha256: Option<String>,
        sha1: Option<String>,
        size: u64,
    },
    Symlink(String),
    Other,
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The index of the layer that last wrote the path.
    pub layer: usize,
    pub kind: Kind,
}

/// The final tree and what was read of it.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    pub entries: BTreeMap<String, Entry>,
    /// Contents of the package databases and os-release (paths without a leading `/`).
    pub contents: BTreeMap<String, Vec<u8>>,
    /// Layers whose files are listed with their digests (this build's COPY/ADD layers).
    pub hashed_layers: Vec<usize>,
    pub warnings: Vec<String>,
}

/// Whether the contents of `path` are read (the package databases, os-release).
pub(crate) fn wanted(path: &str) -> bool {
    matches!(
        path,
        "var/lib/dpkg/status" | "lib/apk/db/installed" | "etc/os-release" | "usr/lib/os-release"
    ) || path
        .strip_prefix("var/lib/dpkg/status.d/")
        .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
}

/// A tar path made relative and clean; `None` for the root itself or a path with `..`.
fn clean(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let mut parts = Vec::new();
    for p in text.split('/') {
        match p {
            "" | "." => {}
            ".." => return None,
            p => parts.push(p),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

fn remove_under(tree: &mut Tree, dir: &str) {
    let prefix = format!("{dir}/");
    tree.entries.retain(|p, _| !p.starts_with(&prefix));
    tree.contents.retain(|p, _| !p.starts_with(&prefix));
}

/// Reads the image `manifest` (an image manifest, not an index) layer by layer. Files of the
/// layers at or after `base_layers` whose history says COPY or ADD are hashed.
pub(crate) fn read(
    store: &Store,
    manifest: &wharf_oci::Digest,
    base_layers: usize,
) -> Result<Tree, BuildError> {
    let raw = RawManifest::parse(store.read_small(manifest)?, None)?;
    let image: ImageManifest = raw
        .image()
        .cloned()
        .ok_or_else(|| BuildError::Attestation {
            reason: format!("{manifest} is not an image manifest"),
        })?;
    let config: ImageConfig = store.read_json(image.config().digest())?;
    // History entries that made a layer, in layer order.
    let made: Vec<&str> = config
        .history
        .iter()
        .filter(|h| !h.empty_layer)
        .map(|h| h.created_by.as_deref().unwrap_or(""))
        .collect();
    let mut tree = Tree::default();
    for (i, layer) in image.layers().iter().enumerate() {
        let by = made.get(i).copied().unwrap_or("").trim_start();
        let upper = by.get(..4).unwrap_or("").to_ascii_uppercase();
        let hashed = i >= base_layers && (upper == "COPY" || upper.starts_with("ADD"));
        if hashed {
            tree.hashed_layers.push(i);
        }
        let compression = media_type::layer_compression(layer.media_type().as_ref())
            .unwrap_or(LayerCompression::Gzip);
        let blob = store.open_blob(layer.digest())?;
        let reader = wharf_archive::decompress(std::io::BufReader::new(blob), compression)?;
        read_layer(&mut tree, i, reader, hashed).map_err(|source| BuildError::Io {
            op: "reading the layer for the SBOM",
            path: store.blob_path(layer.digest()),
            source,
        })?;
    }
    Ok(tree)
}

fn read_layer(tree: &mut Tree, index: usize, r: impl Read, hashed: bool) -> std::io::Result<()> {
    let mut archive = tar::Archive::new(r);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let Some(path) = clean(&entry.path_bytes()) else {
            continue;
        };
        let (dir, base) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
        if base == ".wh..wh..opq" {
            if dir.is_empty() {
                tree.entries.clear();
                tree.contents.clear();
            } else {
                remove_under(tree, dir);
            }
            continue;
        }
        if let Some(gone) = base.strip_prefix(".wh.") {
            let gone = if dir.is_empty() {
                gone.to_owned()
            } else {
                format!("{dir}/{gone}")
            };
            tree.entries.remove(&gone);
            tree.contents.remove(&gone);
            remove_under(tree, &gone);
            continue;
        }
        let kind = entry.header().entry_type();
        // A path written again replaces what was there (a file over a directory included).
        tree.contents.remove(&path);
        let kind = if kind.is_file() {
            let size = entry.size();
            let want = wanted(&path);
            if want && size > DB_LIMIT {
                tree.warnings.push(format!(
                    "/{path} has {size} bytes, more than the {DB_LIMIT} read for the SBOM: its \
                     packages are not listed"
                ));
            }
            let keep = want && size <= DB_LIMIT;
            let mut bytes = Vec::new();
            let (mut s256, mut s1) = (sha2::Sha256::new(), sha1::Sha1::new());
            let mut buf = vec![0u8; 64 << 10];
            loop {
                let n = entry.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                if hashed {
                    s256.update(&buf[..n]);
                    sha1::Digest::update(&mut s1, &buf[..n]);
                }
                if keep {
                    bytes.extend_from_slice(&buf[..n]);
                }
            }
            if keep {
                tree.contents.insert(path.clone(), bytes);
            }
            Kind::File {
                sha256: hashed.then(|| hex(&s256.finalize())),
                sha1: hashed.then(|| hex(&sha1::Digest::finalize(s1))),
                size,
            }
        } else if kind.is_symlink() {
            let target = entry
                .link_name_bytes()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            Kind::Symlink(target)
        } else if kind.is_hard_link() {
            // The same file as its target, which an earlier entry of this layer wrote.
            let target = entry.link_name_bytes().and_then(|b| clean(&b));
            match target.and_then(|t| {
                let e = tree.entries.get(&t)?.clone();
                let c = tree.contents.get(&t).cloned();
                Some((e, c))
            }) {
                Some((e, c)) => {
                    if let Some(c) = c.filter(|_| wanted(&path)) {
                        tree.contents.insert(path.clone(), c);
                    }
                    e.kind
                }
                None => Kind::Other,
            }
        } else {
            Kind::Other
        };
        tree.entries.insert(path, Entry { layer: index, kind });
    }
    Ok(())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A path with file contents, a symlink target, or neither (a directory).
    type Item<'a> = (&'a str, Option<&'a [u8]>, Option<&'a str>);

    fn layer(entries: &[Item<'_>]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, data, link) in entries {
            let mut h = tar::Header::new_ustar();
            h.set_mode(0o644);
            match (data, link) {
                (Some(d), _) => {
                    h.set_entry_type(tar::EntryType::Regular);
                    h.set_size(d.len() as u64);
                    b.append_data(&mut h, path, *d).unwrap();
                }
                (None, Some(l)) => {
                    h.set_entry_type(tar::EntryType::Symlink);
                    h.set_size(0);
                    b.append_link(&mut h, path, l).unwrap();
                }
                (None, None) => {
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_size(0);
                    b.append_data(&mut h, path, &[][..]).unwrap();
                }
            }
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn whiteouts_and_opaque_dirs_remove_what_lower_layers_wrote() {
        let mut tree = Tree::default();
        let l0 = layer(&[
            ("var/lib/dpkg/", None, None),
            ("var/lib/dpkg/status", Some(b"Package: a\n"), None),
            ("etc/a", Some(b"a"), None),
            ("etc/b", Some(b"b"), None),
            ("opt/x/y", Some(b"y"), None),
        ]);
        read_layer(&mut tree, 0, &l0[..], false).unwrap();
        assert!(tree.contents.contains_key("var/lib/dpkg/status"));
        let l1 = layer(&[
            ("./var/lib/dpkg/.wh.status", Some(b""), None),
            ("etc/.wh.a", Some(b""), None),
            ("opt/x/.wh..wh..opq", Some(b""), None),
            ("new", Some(b"hello"), None),
        ]);
        read_layer(&mut tree, 1, &l1[..], true).unwrap();
        assert!(!tree.contents.contains_key("var/lib/dpkg/status"));
        assert!(!tree.entries.contains_key("etc/a"));
        assert!(tree.entries.contains_key("etc/b"));
        assert!(!tree.entries.contains_key("opt/x/y"));
        let Kind::File { sha256, .. } = &tree.entries["new"].kind else {
            panic!("not a file")
        };
        assert_eq!(
            sha256.as_deref(),
            Some("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        );
    }
}
