//! Records of unpacked layer trees (`layer-trees/<chain-id-hex>`), so that [`Store::fsck`] can
//! tell that a directory under `layers/` changed after it was unpacked.
//!
//! Why a record and not the diff ID itself: the diff ID is the digest of the uncompressed tar
//! exactly as its author wrote it (entry order, header fields, PAX records, padding). The
//! unpacked tree keeps none of that, and it holds overlay's whiteout forms instead of `.wh.`
//! entries, so re-tarring it cannot reproduce the diff ID. Instead, right after the tar stream
//! was verified against the diff ID and before the tree is renamed into place, every entry's
//! metadata is recorded: path, type, mode, owner, size, symlink target or device number, and
//! its inode, mtime and ctime; and so is the layer it came from (blob descriptor, diff ID).
//! Contents are not hashed at unpack: that was about an eighth of an unpack's CPU time, paid on
//! every pull for a check that runs rarely. Nor is the tree walked again when the apply could
//! report it ([`wharf_archive::ApplyOptions::record`]: regular files as the descriptor that
//! wrote them saw them, the rest looked at once the apply ended): the walk was the last step of
//! every layer of a pull, after its unpack, and a tenth of a second for a layer of 24,000
//! files. Both give the same record (tested below).
//!
//! - The **fast** check compares what `lstat` gives (type, mode, owner, size, inode, mtime and
//!   ctime) without reading file contents. Writing a file changes its ctime, which no user can
//!   set back, and replacing it changes its inode, so this catches every ordinary edit; it
//!   misses only what bypasses the filesystem's timestamps (writing the block device, a
//!   clock set back by root between the write and the check).
//! - The **full** check does the fast check, then extracts the layer's blob again into `tmp/`
//!   (verified against its digest and diff ID, as at unpack) and compares both trees entry by
//!   entry, contents and extended attributes included: it catches what the fast check misses.
//!   When the blob is gone (a container keeps a layer whose image was removed), only the
//!   fast check can run.
//!
//! Records written before this scheme hold content digests and no layer; the full check
//! compares against those as before.
//!
//! Owners are recorded as host IDs (translated through `/proc/self/uid_map`), so a record made
//! inside the rootless user namespace compares with a check run outside it and vice versa.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use wharf_archive::NodeStat;
use wharf_oci::digest::{Hasher, HashingReader};
use wharf_oci::{Descriptor, Digest};

use crate::fsutil::{mkdir_private, remove_all};
use crate::{Store, StoreError};

/// The directory of tree records, beside `layers/`.
pub(crate) const TREES_DIR: &str = "layer-trees";

/// One recorded entry; `content` is the sha256 of a regular file's bytes, the target of a
/// symlink or the device number of a device node.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Entry {
    kind: char,
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    ino: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    content: String,
    xattrs: String,
}

/// path (relative, `/`-separated; lossy for names that are not UTF-8) -> entry.
type Tree = BTreeMap<String, Entry>;

/// A record: the layer the tree was unpacked from and the tree's metadata.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Record {
    layer: Descriptor,
    diff_id: Digest,
    tree: Tree,
}

/// A record as stored: the current form, or a tree with content digests from before.
#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum Stored {
    Current(Box<Record>),
    Hashed(Tree),
}

/// How deep [`Store::check_layer_tree`] looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeCheck {
    /// Metadata only (`lstat`): fast, see the module docs for what it misses.
    Fast,
    /// Metadata and every file's content.
    Full,
}

/// Maps IDs seen in this process's user namespace to host IDs.
struct IdMap(Vec<(u32, u32, u32)>);

impl IdMap {
    fn load(file: &str) -> Self {
        let ranges = fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let f: Vec<u32> = l
                    .split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect();
                (f.len() == 3).then(|| (f[0], f[1], f[2]))
            })
            .collect();
        Self(ranges)
    }

    fn host(&self, id: u32) -> u32 {
        self.0
            .iter()
            .find(|(inside, _, n)| id >= *inside && id - inside < *n)
            .map_or(id, |(inside, outside, _)| outside + (id - inside))
    }
}

/// The kind of entry an `st_mode` names, as records spell it.
fn kind_of(mode: u32) -> char {
    match mode & 0o170_000 {
        0o040_000 => 'd',
        0o120_000 => 'l',
        0o100_000 => 'f',
        0o020_000 => 'c',
        0o060_000 => 'b',
        0o010_000 => 'p',
        _ => 's',
    }
}

/// What `lstat` says of `m`, in the form the apply reports it.
fn node_stat(m: &fs::Metadata) -> NodeStat {
    NodeStat {
        mode: m.mode(),
        uid: m.uid(),
        gid: m.gid(),
        size: m.size(),
        ino: m.ino(),
        rdev: m.rdev(),
        mtime: (m.mtime(), m.mtime_nsec()),
        ctime: (m.ctime(), m.ctime_nsec()),
    }
}

/// The record of the entry at `path` whose `lstat` is `st`: the one place a record's entry is
/// made, whether the tree was walked or reported by the apply.
fn entry(
    path: &Path,
    st: &NodeStat,
    check: TreeCheck,
    ids: &(IdMap, IdMap),
) -> Result<Entry, StoreError> {
    let kind = kind_of(st.mode);
    let content = match kind {
        // An unreadable file reads the same way when recorded and when checked (same user,
        // same namespace); the error text stands in for its digest.
        'f' if check == TreeCheck::Full => {
            hash_file(path).unwrap_or_else(|e| format!("unreadable: {e}"))
        }
        'l' => fs::read_link(path)
            .map_err(StoreError::io("reading link", path))?
            .to_string_lossy()
            .into_owned(),
        'c' | 'b' => st.rdev.to_string(),
        _ => String::new(),
    };
    Ok(Entry {
        kind,
        mode: st.mode & 0o7777,
        uid: ids.0.host(st.uid),
        gid: ids.1.host(st.gid),
        size: if kind == 'd' { 0 } else { st.size },
        ino: st.ino,
        mtime: st.mtime,
        ctime: st.ctime,
        content,
        xattrs: if check == TreeCheck::Full {
            xattr_digest(path)
        } else {
            String::new()
        },
    })
}

fn id_maps() -> (IdMap, IdMap) {
    (
        IdMap::load("/proc/self/uid_map"),
        IdMap::load("/proc/self/gid_map"),
    )
}

/// The tree [`walk`] (fast) would find at `root`, from what the apply reported of it.
fn tree_of_nodes(root: &Path, nodes: Vec<(Vec<u8>, NodeStat)>) -> Result<Tree, StoreError> {
    let ids = id_maps();
    let mut tree = Tree::new();
    for (rel, st) in nodes {
        let rel = Path::new(std::ffi::OsStr::from_bytes(&rel));
        let e = entry(&root.join(rel), &st, TreeCheck::Fast, &ids)?;
        tree.insert(rel.to_string_lossy().into_owned(), e);
    }
    Ok(tree)
}

fn xattr_digest(path: &Path) -> String {
    let mut names: Vec<_> = xattr::list(path).map(Iterator::collect).unwrap_or_default();
    if names.is_empty() {
        return String::new();
    }
    names.sort();
    let mut h = Hasher::sha256();
    for n in names {
        let value = xattr::get(path, &n).ok().flatten().unwrap_or_default();
        h.update(n.as_encoded_bytes());
        h.update(b"\0");
        h.update(wharf_oci::digest::sha256(&value).as_ref().as_bytes());
        h.update(b"\n");
    }
    h.finish().to_string()
}

fn hash_file(path: &Path) -> io::Result<String> {
    let file = fs::File::open(path)?;
    let mut r = HashingReader::new(
        io::BufReader::with_capacity(256 << 10, file),
        Hasher::sha256(),
    );
    io::copy(&mut r, &mut io::sink())?;
    Ok(r.finish().0.to_string())
}

/// Walks `root` and records every entry below it (the root directory itself is left out:
/// renaming it into place changes its ctime).
fn walk(root: &Path, check: TreeCheck) -> Result<Tree, StoreError> {
    let ids = id_maps();
    let mut tree = Tree::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        let mut names: Vec<_> = fs::read_dir(&dir)
            .map_err(StoreError::io("listing", &dir))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()
            .map_err(StoreError::io("listing", &dir))?;
        names.sort();
        for name in names {
            let rel = rel.join(&name);
            let path = root.join(&rel);
            let m = fs::symlink_metadata(&path).map_err(StoreError::io("inspecting", &path))?;
            let e = entry(&path, &node_stat(&m), check, &ids)?;
            if e.kind == 'd' {
                stack.push(rel.clone());
            }
            tree.insert(rel.to_string_lossy().into_owned(), e);
        }
    }
    Ok(tree)
}

/// What changed between a recorded tree and the one on disk: up to `max` descriptions.
fn differences(recorded: &Tree, now: &Tree, check: TreeCheck, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    for (path, was) in recorded {
        let Some(is) = now.get(path) else {
            out.push(format!("/{path} was removed"));
            continue;
        };
        let what = if was.kind != is.kind {
            Some("its type changed")
        } else if check == TreeCheck::Full && was.content != is.content {
            Some("its content changed")
        } else if was.kind == 'l' && was.content != is.content {
            Some("its target changed")
        } else if was.mode != is.mode {
            Some("its mode changed")
        } else if (was.uid, was.gid) != (is.uid, is.gid) {
            Some("its owner changed")
        } else if was.size != is.size {
            Some("its size changed")
        } else if check == TreeCheck::Full && was.xattrs != is.xattrs {
            Some("its extended attributes changed")
        } else if check == TreeCheck::Fast
            && (was.ino, was.mtime, was.ctime) != (is.ino, is.mtime, is.ctime)
        {
            Some("it was modified (inode or timestamps differ)")
        } else {
            None
        };
        if let Some(w) = what {
            out.push(format!("/{path}: {w}"));
        }
        if out.len() >= max {
            return out;
        }
    }
    for path in now.keys().filter(|p| !recorded.contains_key(*p)) {
        if out.len() >= max {
            break;
        }
        out.push(format!("/{path} was added"));
    }
    out
}

/// The outcome of checking one layer tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeStatus {
    Intact,
    /// No record: unpacked before records existed. Nothing to compare with.
    Unrecorded,
    /// What differs (at most a few entries).
    Changed(Vec<String>),
}

impl Store {
    fn tree_record_path(&self, chain: &Digest) -> PathBuf {
        self.root().join(TREES_DIR).join(chain.digest())
    }

    /// The record of the tree at `dir`, which is about to become a layer directory, unpacked
    /// from `layer` (verified against `diff_id`); from `nodes`, what the apply reported of
    /// the tree, when it could, else by walking it.
    pub(crate) fn layer_tree_record(
        dir: &Path,
        layer: &Descriptor,
        diff_id: &Digest,
        nodes: Option<Vec<(Vec<u8>, NodeStat)>>,
    ) -> Result<Vec<u8>, StoreError> {
        let tree = match nodes {
            Some(nodes) => tree_of_nodes(dir, nodes)?,
            None => walk(dir, TreeCheck::Fast)?,
        };
        let record = Record {
            layer: layer.clone(),
            diff_id: diff_id.clone(),
            tree,
        };
        serde_json::to_vec(&record).map_err(|source| StoreError::Json {
            what: format!("the record of {}", dir.display()),
            source,
        })
    }

    /// Stores the record of `layers/<chain>` made by [`Store::layer_tree_record`].
    pub(crate) fn save_layer_tree_record(
        &self,
        chain: &Digest,
        record: &[u8],
    ) -> Result<(), StoreError> {
        mkdir_private(&self.root().join(TREES_DIR))?;
        self.write_file_atomic(&self.tree_record_path(chain), record)
    }

    /// Compares `layers/<chain>` with its record.
    pub fn check_layer_tree(
        &self,
        chain: &Digest,
        check: TreeCheck,
    ) -> Result<TreeStatus, StoreError> {
        let record = self.tree_record_path(chain);
        let bytes = match fs::read(&record) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(TreeStatus::Unrecorded),
            Err(e) => return Err(StoreError::io("reading", &record)(e)),
        };
        let stored: Stored = serde_json::from_slice(&bytes).map_err(|source| StoreError::Json {
            what: record.display().to_string(),
            source,
        })?;
        let dir = self.layer_dir(chain);
        let diff = match stored {
            Stored::Hashed(recorded) => differences(&recorded, &walk(&dir, check)?, check, 5),
            Stored::Current(recorded) => {
                let now = walk(&dir, check)?;
                let diff = differences(&recorded.tree, &now, TreeCheck::Fast, 5);
                if diff.is_empty()
                    && check == TreeCheck::Full
                    && self.has_blob(recorded.layer.digest())
                {
                    let fresh = self.fresh_tree(&recorded.layer, &recorded.diff_id)?;
                    differences(&fresh, &now, TreeCheck::Full, 5)
                } else {
                    diff
                }
            }
        };
        Ok(if diff.is_empty() {
            TreeStatus::Intact
        } else {
            TreeStatus::Changed(diff)
        })
    }

    /// The tree of `layer` extracted again from its blob (verified), contents hashed.
    fn fresh_tree(&self, layer: &Descriptor, diff_id: &Digest) -> Result<Tree, StoreError> {
        let temp = self.temp_path("check");
        let result = self
            .extract_verified(
                layer,
                diff_id,
                &temp,
                &crate::unpack::default_apply_options(),
            )
            .and_then(|_| walk(&temp, TreeCheck::Full));
        remove_all(&temp)?;
        result
    }

    /// Removes the unpacked tree of `chain` and its record: the next use unpacks it again from
    /// its verified blob. This is how a damaged layer directory is repaired.
    pub fn remove_layer_tree(&self, chain: &Digest) -> Result<(), StoreError> {
        remove_all(&self.layer_dir(chain))?;
        remove_all(&self.tree_record_path(chain))
    }

    /// Removes records whose layer directory is gone (after gc).
    pub(crate) fn prune_tree_records(&self) -> Result<(), StoreError> {
        for hex in crate::read_dir_names(&self.root().join(TREES_DIR))? {
            if !self.layers_dir().join(&hex).exists() {
                remove_all(&self.root().join(TREES_DIR).join(&hex))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_modes_see_a_rewritten_file_and_only_full_sees_a_same_stat_rewrite() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        fs::create_dir(root.join("bin")).unwrap();
        fs::write(root.join("bin/sh"), b"original").unwrap();
        std::os::unix::fs::symlink("sh", root.join("bin/ash")).unwrap();
        let recorded = walk(root, TreeCheck::Full).unwrap();
        for check in [TreeCheck::Fast, TreeCheck::Full] {
            assert!(differences(&recorded, &walk(root, check).unwrap(), check, 5).is_empty());
        }
        fs::write(root.join("bin/sh"), b"tampered").unwrap();
        for check in [TreeCheck::Fast, TreeCheck::Full] {
            let d = differences(&recorded, &walk(root, check).unwrap(), check, 5);
            assert_eq!(d.len(), 1, "{check:?}: {d:?}");
            assert!(d[0].starts_with("/bin/sh"), "{d:?}");
        }
        fs::remove_file(root.join("bin/ash")).unwrap();
        fs::write(root.join("new"), b"").unwrap();
        let d = differences(
            &recorded,
            &walk(root, TreeCheck::Full).unwrap(),
            TreeCheck::Full,
            5,
        );
        assert!(d.contains(&"/bin/ash was removed".to_owned()), "{d:?}");
        assert!(d.contains(&"/new was added".to_owned()), "{d:?}");
    }

    /// Name, type, content, link target, mode.
    type Spec<'a> = (&'a str, tar::EntryType, &'a [u8], Option<&'a str>, u32);

    fn layer(entries: &[Spec<'_>]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, kind, data, link, mode) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_path(name).unwrap();
            if let Some(l) = link {
                h.set_link_name(l).unwrap();
            }
            h.set_mode(*mode);
            h.set_size(data.len() as u64);
            h.set_mtime(1_000_000);
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn apply_recorded(tar: &[u8], root: &Path) -> Option<Vec<(Vec<u8>, NodeStat)>> {
        let opts = wharf_archive::ApplyOptions {
            whiteouts: wharf_archive::Whiteouts::Overlay {
                xattr_fallback: true,
            },
            same_owner: false,
            record: true,
            ..wharf_archive::ApplyOptions::default()
        };
        wharf_archive::apply_layer(tar, root, &opts).unwrap().nodes
    }

    /// The record made from the apply's report is the one a walk of the tree makes, for a layer
    /// with every kind of entry and every way an entry changes after it was made: replaced by
    /// a later entry of the same name, hard-linked (which changes its ctime), a directory
    /// whose metadata comes after its contents, overlay's whiteout and opaque markers.
    #[test]
    fn the_apply_reports_the_tree_a_walk_finds() {
        use tar::EntryType::{Directory, Fifo, Link, Regular, Symlink};
        let zeros = vec![0u8; 64 << 10];
        let tar = layer(&[
            ("etc/", Directory, b"", None, 0o755),
            ("etc/passwd", Regular, b"root:x:0:0", None, 0o644),
            ("usr/bin/tool", Regular, b"#!/bin/sh", None, 0o755),
            ("usr/bin/alias", Symlink, b"", Some("tool"), 0o777),
            ("usr/bin/hard", Link, b"", Some("usr/bin/tool"), 0o755),
            ("usr/bin/hardsym", Link, b"", Some("usr/bin/alias"), 0o777),
            ("etc/passwd", Regular, b"root:x:0:0:again", None, 0o600),
            ("etc/motd", Regular, b"hello", None, 0o644),
            ("etc/motd", Symlink, b"", Some("passwd"), 0o777),
            ("var/.wh.gone", Regular, b"", None, 0o644),
            ("opt/.wh..wh..opq", Regular, b"", None, 0o644),
            ("run/fifo", Fifo, b"", None, 0o600),
            ("usr/", Directory, b"", None, 0o700),
            ("tmp/empty", Regular, b"", None, 0o644),
            ("tmp/sparse", Regular, &zeros, None, 0o644),
        ]);
        let t = tempfile::tempdir().unwrap();
        let nodes = apply_recorded(&tar, t.path()).expect("a fresh root is recorded");
        let reported = tree_of_nodes(t.path(), nodes).unwrap();
        let walked = walk(t.path(), TreeCheck::Fast).unwrap();
        assert_eq!(reported, walked);
        assert!(reported.contains_key("var/gone") && reported.contains_key("usr/bin/hardsym"));
    }

    /// A layer that reaches a path through a symlink it made names that path differently from
    /// the tree: no report, and the store walks the tree instead.
    #[test]
    fn a_path_through_the_layers_own_link_is_not_reported() {
        use tar::EntryType::{Directory, Regular, Symlink};
        let tar = layer(&[
            ("d/", Directory, b"", None, 0o755),
            ("l", Symlink, b"", Some("d"), 0o777),
            ("l/x", Regular, b"x", None, 0o644),
        ]);
        let t = tempfile::tempdir().unwrap();
        assert!(apply_recorded(&tar, t.path()).is_none());
        assert!(t.path().join("d/x").is_file());
    }
}
