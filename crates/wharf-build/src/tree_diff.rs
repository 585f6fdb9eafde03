//! Mount-less layers: where neither kernel overlay nor fuse-overlayfs can be mounted (an
//! unprivileged CI container), the working root is a plain copy of the base and a step's layer
//! is what differs between the tree before and after it, as kaniko and buildah's vfs driver do.
//!
//! Entries are compared by their `lstat` key (inode, size, mtime, ctime, mode, owner): ctime
//! moves on every content, mode, owner or xattr change, so no file content is read to find a
//! change. The layer holds the changed entries with all their parent directories and a
//! whiteout for each deleted subtree, sorted as the tree walk of an overlay upper would be, so
//! the same step gives the same layer (with `--timestamp`) as on overlay. A directory made
//! where something was deleted (another inode, or the same inode number born again: the
//! birth time differs) is marked opaque instead, with no whiteouts below it, as overlay does.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use wharf_archive::Change;

/// What a change is detected by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StatKey {
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    mode: u32,
    uid: u32,
    gid: u32,
    /// Birth time where the file system keeps one (`statx`), else `(0, 0)`: a directory
    /// deleted and made again may get the same inode number back, never the same birth time.
    btime: (i64, u32),
}

impl StatKey {
    fn of(m: &std::fs::Metadata) -> Self {
        StatKey {
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
            mode: m.mode(),
            uid: m.uid(),
            gid: m.gid(),
            btime: m
                .created()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or((0, 0), |d| {
                    (
                        i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                        d.subsec_nanos(),
                    )
                }),
        }
    }

    /// Whether `self` and `other` are the same file: the same inode, born at the same time.
    fn same_file(&self, other: &StatKey) -> bool {
        self.ino == other.ino && self.btime == other.btime
    }
}

/// The state of a tree: every entry's key by its path relative to the root.
#[derive(Debug, Default, Clone)]
pub struct Tree {
    entries: HashMap<Vec<u8>, StatKey>,
}

/// The first bytes of an encoded [`Tree`] (the version is in it).
const MAGIC: &[u8] = b"wharf-tree-1\n";
const S_IFMT: u32 = 0o170_000;
const S_IFDIR: u32 = 0o040_000;

impl Tree {
    /// Walks `root` without following symbolic links.
    pub fn scan(root: &Path) -> io::Result<Tree> {
        let mut tree = Tree::default();
        let mut stack = vec![(root.to_path_buf(), Vec::new())];
        while let Some((dir, rel)) = stack.pop() {
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                let name = entry.file_name();
                let mut child = rel.clone();
                if !child.is_empty() {
                    child.push(b'/');
                }
                child.extend_from_slice(name.as_bytes());
                let m = match std::fs::symlink_metadata(entry.path()) {
                    Ok(m) => m,
                    // Removed while we walked (a RUN's leftover process): not part of it.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
                let key = StatKey::of(&m);
                if m.is_dir() {
                    stack.push((entry.path(), child.clone()));
                }
                tree.entries.insert(child, key);
            }
        }
        Ok(tree)
    }

    /// The tree as bytes, for [`Tree::decode`]: a working container of the copy driver keeps
    /// the tree it was created with beside its record, so that `kiln commit` in a later process
    /// diffs against it.
    pub fn encode(&self) -> Vec<u8> {
        let mut paths: Vec<&Vec<u8>> = self.entries.keys().collect();
        // Sorted, so that the same tree is always the same bytes.
        paths.sort();
        let mut out = Vec::with_capacity(16 + paths.len() * 96);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(paths.len() as u64).to_le_bytes());
        for path in paths {
            let k = &self.entries[path];
            out.extend_from_slice(&(path.len() as u32).to_le_bytes());
            out.extend_from_slice(path);
            for v in [k.ino, k.size] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            for v in [k.mtime.0, k.mtime.1, k.ctime.0, k.ctime.1] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            for v in [k.mode, k.uid, k.gid] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&k.btime.0.to_le_bytes());
            out.extend_from_slice(&k.btime.1.to_le_bytes());
        }
        out
    }

    /// Reads what [`Tree::encode`] wrote; anything else is `InvalidData`.
    pub fn decode(bytes: &[u8]) -> io::Result<Tree> {
        let bad = || io::Error::new(io::ErrorKind::InvalidData, "not a tree snapshot");
        let mut rest = bytes.strip_prefix(MAGIC).ok_or_else(bad)?;
        let mut take = |n: usize| -> io::Result<&[u8]> {
            if rest.len() < n {
                return Err(bad());
            }
            let (head, tail) = rest.split_at(n);
            rest = tail;
            Ok(head)
        };
        let u64_of = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or_default());
        let i64_of = |b: &[u8]| i64::from_le_bytes(b.try_into().unwrap_or_default());
        let u32_of = |b: &[u8]| u32::from_le_bytes(b.try_into().unwrap_or_default());
        let count = u64_of(take(8)?);
        let mut tree = Tree::default();
        for _ in 0..count {
            let len = u32_of(take(4)?) as usize;
            let path = take(len)?.to_vec();
            let key = StatKey {
                ino: u64_of(take(8)?),
                size: u64_of(take(8)?),
                mtime: (i64_of(take(8)?), i64_of(take(8)?)),
                ctime: (i64_of(take(8)?), i64_of(take(8)?)),
                mode: u32_of(take(4)?),
                uid: u32_of(take(4)?),
                gid: u32_of(take(4)?),
                btime: (i64_of(take(8)?), u32_of(take(4)?)),
            };
            tree.entries.insert(path, key);
        }
        if !rest.is_empty() {
            return Err(bad());
        }
        Ok(tree)
    }

    /// Reads the keys of `paths` (relative to `root`) again, after something changed them
    /// that is no change of the step's (a COPY's files filled while its layer was written).
    pub fn restat(&mut self, root: &Path, paths: &[Vec<u8>]) -> io::Result<()> {
        for rel in paths {
            let m = std::fs::symlink_metadata(root.join(std::ffi::OsStr::from_bytes(rel)))?;
            self.entries.insert(rel.clone(), StatKey::of(&m));
        }
        Ok(())
    }

    fn is_dir(&self, path: &[u8]) -> bool {
        self.entries
            .get(path)
            .is_some_and(|k| k.mode & S_IFMT == S_IFDIR)
    }

    /// The changes from `self` (before) to `after`, in layer order.
    pub fn changes(&self, after: &Tree) -> Vec<Change> {
        /// What a change list item is; the order is the layer's at one path: a directory,
        /// then its opaque marker, then (deeper paths) its children.
        #[derive(PartialEq, Eq, PartialOrd, Ord)]
        enum Kind {
            Entry,
            Opaque,
            Whiteout,
        }
        let mut all: BTreeSet<(Vec<Vec<u8>>, Kind)> = BTreeSet::new();
        let split =
            |p: &[u8]| -> Vec<Vec<u8>> { p.split(|b| *b == b'/').map(<[u8]>::to_vec).collect() };
        let add_parents = |all: &mut BTreeSet<(Vec<Vec<u8>>, Kind)>, parts: &[Vec<u8>]| {
            for n in 1..parts.len() {
                all.insert((parts[..n].to_vec(), Kind::Entry));
            }
        };
        // A directory made where something else was (deleted and made again, or a file
        // replaced) hides what was there, as overlay marks it opaque; not one inside such a
        // directory, where nothing below remains to hide.
        let mut remade: BTreeSet<&[u8]> = BTreeSet::new();
        for (path, key) in &after.entries {
            if key.mode & S_IFMT == S_IFDIR
                && self.entries.get(path).is_some_and(|k| !k.same_file(key))
            {
                remade.insert(path);
            }
        }
        let under_remade = |path: &[u8]| {
            path.iter()
                .enumerate()
                .any(|(i, b)| *b == b'/' && remade.contains(&path[..i]))
        };
        for (path, key) in &after.entries {
            if self.entries.get(path) != Some(key) {
                let parts = split(path);
                add_parents(&mut all, &parts);
                if remade.contains(path.as_slice()) && !under_remade(path) {
                    all.insert((parts.clone(), Kind::Opaque));
                }
                all.insert((parts, Kind::Entry));
            }
        }
        for path in self.entries.keys() {
            if after.entries.contains_key(path) || under_remade(path) {
                continue;
            }
            let parts = split(path);
            // Only the top of a deleted subtree, and nothing under a path that is no longer a
            // directory (its new entry replaces the whole subtree).
            let parent = parts[..parts.len() - 1].join(&b'/');
            if !(parent.is_empty() || self.is_dir(&parent) && after.is_dir(&parent)) {
                continue;
            }
            add_parents(&mut all, &parts);
            all.insert((parts, Kind::Whiteout));
        }
        all.into_iter()
            .map(|(parts, kind)| {
                let path = parts.join(&b'/');
                match kind {
                    Kind::Entry => Change::Entry(path),
                    Kind::Opaque => Change::Opaque(path),
                    Kind::Whiteout => Change::Whiteout(path),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(c: &[Change]) -> Vec<String> {
        c.iter()
            .map(|c| match c {
                Change::Entry(p) => String::from_utf8_lossy(p).into_owned(),
                Change::Whiteout(p) => format!("-{}", String::from_utf8_lossy(p)),
                Change::Opaque(p) => format!("{}/.opq", String::from_utf8_lossy(p)),
            })
            .collect()
    }

    #[test]
    fn finds_new_changed_and_deleted_entries_with_their_parents_in_walk_order() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        for d in ["a/b", "a/c", "d/e", "z"] {
            std::fs::create_dir_all(r.join(d)).unwrap();
        }
        std::fs::write(r.join("a/b/f"), "1").unwrap();
        std::fs::write(r.join("a/c/g"), "1").unwrap();
        std::fs::write(r.join("d/e/h"), "1").unwrap();
        std::fs::write(r.join("a.txt"), "1").unwrap();
        let before = Tree::scan(r).unwrap();
        assert!(before.changes(&Tree::scan(r).unwrap()).is_empty());
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(r.join("a/b/f"), "2").unwrap();
        std::fs::remove_dir_all(r.join("d")).unwrap();
        std::fs::remove_file(r.join("a/c/g")).unwrap();
        std::fs::write(r.join("z/new"), "n").unwrap();
        let after = Tree::scan(r).unwrap();
        assert_eq!(
            names(&before.changes(&after)),
            ["a", "a/b", "a/b/f", "a/c", "-a/c/g", "-d", "z", "z/new"]
        );
    }

    #[test]
    fn a_tree_survives_encoding_and_garbage_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        std::fs::create_dir_all(r.join("a/b")).unwrap();
        std::fs::write(r.join("a/b/f"), "1").unwrap();
        std::fs::write(r.join("g"), "2").unwrap();
        let before = Tree::scan(r).unwrap();
        let bytes = before.encode();
        let back = Tree::decode(&bytes).unwrap();
        assert_eq!(back.entries, before.entries);
        assert_eq!(back.encode(), bytes);
        std::fs::remove_file(r.join("g")).unwrap();
        assert_eq!(names(&back.changes(&Tree::scan(r).unwrap())), ["-g"]);
        for bad in [&b""[..], b"garbage", &bytes[..bytes.len() - 1]] {
            assert!(Tree::decode(bad).is_err());
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(Tree::decode(&long).is_err());
    }

    /// Overlay marks a directory made again where one (or a file) was deleted opaque and
    /// writes no whiteouts below it; a directory inside it is new, not opaque.
    #[test]
    fn a_directory_made_again_is_opaque_as_overlay_writes_it() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        std::fs::create_dir_all(r.join("d/old/deep")).unwrap();
        std::fs::write(r.join("d/gone"), "1").unwrap();
        std::fs::write(r.join("f"), "file").unwrap();
        std::fs::create_dir_all(r.join("kept")).unwrap();
        std::fs::write(r.join("kept/gone"), "1").unwrap();
        let before = Tree::scan(r).unwrap();
        std::fs::remove_dir_all(r.join("d")).unwrap();
        std::fs::create_dir_all(r.join("d/old")).unwrap();
        std::fs::write(r.join("d/new"), "n").unwrap();
        std::fs::remove_file(r.join("f")).unwrap();
        std::fs::create_dir(r.join("f")).unwrap();
        std::fs::remove_file(r.join("kept/gone")).unwrap();
        let after = Tree::scan(r).unwrap();
        assert_eq!(
            names(&before.changes(&after)),
            [
                "d",
                "d/.opq",
                "d/new",
                "d/old",
                "f",
                "f/.opq",
                "kept",
                "-kept/gone"
            ]
        );
        let mut out = Vec::new();
        wharf_archive::write_layer_changes(
            r,
            &before.changes(&after),
            &mut out,
            &wharf_archive::WriteOptions {
                compression: wharf_archive::LayerCompression::None,
                ..wharf_archive::WriteOptions::default()
            },
        )
        .unwrap();
        let mut archive = tar::Archive::new(&out[..]);
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "d/",
                "d/.wh..wh..opq",
                "d/new",
                "d/old/",
                "f/",
                "f/.wh..wh..opq",
                "kept/",
                "kept/.wh.gone"
            ]
        );
    }

    #[test]
    fn a_directory_replaced_by_a_file_needs_no_whiteouts_below_it() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        std::fs::create_dir_all(r.join("x/y")).unwrap();
        let before = Tree::scan(r).unwrap();
        std::fs::remove_dir_all(r.join("x")).unwrap();
        std::fs::write(r.join("x"), "file").unwrap();
        assert_eq!(names(&before.changes(&Tree::scan(r).unwrap())), ["x"]);
    }

    /// The layer of a change list: parents, changed entries, and a whiteout owned by 0:0 with
    /// mode 0 and mtime 0, as an overlay upper's whiteout device gives.
    #[test]
    fn the_layer_holds_the_changes_and_whiteouts_as_overlay_writes_them() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        std::fs::create_dir_all(r.join("etc/sub")).unwrap();
        std::fs::write(r.join("etc/gone"), "x").unwrap();
        std::fs::write(r.join("etc/keep"), "x").unwrap();
        let before = Tree::scan(r).unwrap();
        std::fs::remove_file(r.join("etc/gone")).unwrap();
        std::fs::write(r.join("etc/sub/new"), "new").unwrap();
        let changes = before.changes(&Tree::scan(r).unwrap());
        let mut out = Vec::new();
        wharf_archive::write_layer_changes(
            r,
            &changes,
            &mut out,
            &wharf_archive::WriteOptions {
                compression: wharf_archive::LayerCompression::None,
                ..wharf_archive::WriteOptions::default()
            },
        )
        .unwrap();
        let mut archive = tar::Archive::new(&out[..]);
        let entries: Vec<(String, u32, u64, u64)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    h.mode().unwrap(),
                    h.uid().unwrap(),
                    h.mtime().unwrap(),
                )
            })
            .collect();
        let names: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(names, ["etc/", "etc/.wh.gone", "etc/sub/", "etc/sub/new"]);
        let wh = &entries[1];
        assert_eq!((wh.1, wh.2, wh.3), (0, 0, 0), "{wh:?}");
    }
}
