//! Snapshots of a tree's content and metadata, compared exactly between two trees.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use sha2::Digest as _;

/// Everything the layer codec promises to carry for one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: char,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Regular files and symlinks only (directory sizes depend on the filesystem).
    pub size: Option<u64>,
    pub sha256: Option<String>,
    pub link: Option<Vec<u8>>,
    pub rdev: Option<u64>,
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    pub mtime: (i64, i64),
}

#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub nodes: BTreeMap<Vec<u8>, Node>,
    /// Groups of paths that are hard links of one inode (only groups of two or more).
    pub links: Vec<Vec<Vec<u8>>>,
}

fn hash_file(path: &Path) -> String {
    let mut f = std::fs::File::open(path).unwrap();
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    hex::encode(h.finalize())
}

fn is_overlay_xattr(name: &[u8]) -> bool {
    name.starts_with(b"trusted.overlay.") || name.starts_with(b"user.overlay.")
}

/// Snapshots every path below `root` (not `root` itself). `mtimes` can be turned off for
/// trees whose directory times a test cannot control.
pub fn snapshot(root: &Path) -> Snapshot {
    let mut nodes = BTreeMap::new();
    let mut inodes: HashMap<(u64, u64), Vec<Vec<u8>>> = HashMap::new();
    walk(root, root, &mut nodes, &mut inodes);
    let mut links: Vec<Vec<Vec<u8>>> = inodes
        .into_values()
        .filter(|v| v.len() > 1)
        .map(|mut v| {
            v.sort();
            v
        })
        .collect();
    links.sort();
    Snapshot { nodes, links }
}

fn walk(
    root: &Path,
    dir: &Path,
    nodes: &mut BTreeMap<Vec<u8>, Node>,
    inodes: &mut HashMap<(u64, u64), Vec<Vec<u8>>>,
) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .as_os_str()
            .as_bytes()
            .to_vec();
        let m = std::fs::symlink_metadata(&path).unwrap();
        let ft = m.file_type();
        let kind = if ft.is_dir() {
            'd'
        } else if ft.is_symlink() {
            'l'
        } else if ft.is_file() {
            'f'
        } else if ft.is_fifo() {
            'p'
        } else if ft.is_char_device() {
            'c'
        } else if ft.is_block_device() {
            'b'
        } else {
            's'
        };
        let mut xattrs: Vec<(Vec<u8>, Vec<u8>)> = xattr::list(&path)
            .map(|names| {
                names
                    .filter(|n| !is_overlay_xattr(n.as_bytes()))
                    .filter_map(|n| {
                        let v = xattr::get(&path, &n).ok()??;
                        Some((n.as_bytes().to_vec(), v))
                    })
                    .collect()
            })
            .unwrap_or_default();
        xattrs.sort();
        let node = Node {
            kind,
            mode: m.mode(),
            uid: m.uid(),
            gid: m.gid(),
            size: matches!(kind, 'f' | 'l').then(|| m.len()),
            sha256: (kind == 'f').then(|| hash_file(&path)),
            link: (kind == 'l').then(|| {
                std::fs::read_link(&path)
                    .unwrap()
                    .as_os_str()
                    .as_bytes()
                    .to_vec()
            }),
            rdev: matches!(kind, 'c' | 'b').then(|| m.rdev()),
            xattrs,
            mtime: (m.mtime(), 0),
        };
        if kind != 'd' && m.nlink() > 1 {
            inodes
                .entry((m.dev(), m.ino()))
                .or_default()
                .push(rel.clone());
        }
        nodes.insert(rel, node);
        if kind == 'd' {
            walk(root, &path, nodes, inodes);
        }
    }
}

/// Asserts two snapshots are equal, reporting the first differing paths readably.
pub fn assert_same(expected: &Snapshot, actual: &Snapshot) {
    let mut diffs = Vec::new();
    for (p, n) in &expected.nodes {
        match actual.nodes.get(p) {
            None => diffs.push(format!("missing {}", String::from_utf8_lossy(p))),
            Some(a) if a != n => diffs.push(format!(
                "differs {}:\n  expected {n:?}\n  actual   {a:?}",
                String::from_utf8_lossy(p)
            )),
            Some(_) => {}
        }
    }
    for p in actual.nodes.keys() {
        if !expected.nodes.contains_key(p) {
            diffs.push(format!("unexpected {}", String::from_utf8_lossy(p)));
        }
    }
    diffs.truncate(20);
    assert!(diffs.is_empty(), "trees differ:\n{}", diffs.join("\n"));
    assert_eq!(expected.links, actual.links, "hard link groups differ");
}
