//! Mount-less layers: where neither kernel overlay nor fuse-overlayfs can be mounted (an
//! unprivileged CI container), the working root is a plain copy of the base and a step's layer
//! is what differs between the tree before and after it, as kaniko and buildah's vfs driver do.
//!
//! Entries are compared by their `lstat` key (inode, size, mtime, ctime, mode, owner): ctime
//! moves on every content, mode, owner or xattr change, so no file content is read to find a
//! change. The layer holds the changed entries with all their parent directories and a
//! whiteout for each deleted subtree, sorted as the tree walk of an overlay upper would be, so
//! the same step gives the same layer (with `--timestamp`) as on overlay. One difference
//! remains: a directory deleted and made again gets whiteouts for its old children, where
//! overlay marks it opaque.

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
        }
    }
}

/// The state of a tree: every entry's key by its path relative to the root.
#[derive(Debug, Default, Clone)]
pub struct Tree {
    entries: HashMap<Vec<u8>, StatKey>,
}

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
        let mut entries: BTreeSet<Vec<Vec<u8>>> = BTreeSet::new();
        let mut whiteouts: BTreeSet<Vec<Vec<u8>>> = BTreeSet::new();
        let split =
            |p: &[u8]| -> Vec<Vec<u8>> { p.split(|b| *b == b'/').map(<[u8]>::to_vec).collect() };
        let add_parents = |entries: &mut BTreeSet<Vec<Vec<u8>>>, parts: &[Vec<u8>]| {
            for n in 1..parts.len() {
                entries.insert(parts[..n].to_vec());
            }
        };
        for (path, key) in &after.entries {
            if self.entries.get(path) != Some(key) {
                let parts = split(path);
                add_parents(&mut entries, &parts);
                entries.insert(parts);
            }
        }
        for path in self.entries.keys() {
            if after.entries.contains_key(path) {
                continue;
            }
            let parts = split(path);
            // Only the top of a deleted subtree, and nothing under a path that is no longer a
            // directory (its new entry replaces the whole subtree).
            let parent = parts[..parts.len() - 1].join(&b'/');
            if !(parent.is_empty() || self.is_dir(&parent) && after.is_dir(&parent)) {
                continue;
            }
            add_parents(&mut entries, &parts);
            whiteouts.insert(parts);
        }
        let mut all: Vec<(Vec<Vec<u8>>, bool)> = entries
            .into_iter()
            .map(|p| (p, false))
            .chain(whiteouts.into_iter().map(|p| (p, true)))
            .collect();
        all.sort();
        all.into_iter()
            .map(|(parts, wh)| {
                let path = parts.join(&b'/');
                if wh {
                    Change::Whiteout(path)
                } else {
                    Change::Entry(path)
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
