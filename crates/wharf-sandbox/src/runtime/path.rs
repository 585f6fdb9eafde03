//! Resolving container paths inside the root filesystem before `pivot_root`, following symlinks
//! as the container would see them, so that a hostile image cannot point a mount at the host.

use std::path::{Component, Path, PathBuf};

const MAX_LINKS: usize = 40;

/// Joins `unsafe_path` (absolute or relative, container view) onto `root`, resolving every
/// symlink on the way as if `root` were `/`. Missing components are kept as they are (the caller
/// creates them). The result always lies under `root`.
pub(crate) fn secure_join(root: &Path, unsafe_path: &Path) -> PathBuf {
    let mut pending: Vec<std::ffi::OsString> = unsafe_path
        .components()
        .rev()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    let mut resolved: Vec<std::ffi::OsString> = Vec::new();
    let mut links = 0;
    while let Some(part) = pending.pop() {
        if part == ".." {
            resolved.pop();
            continue;
        }
        let mut candidate = root.to_path_buf();
        candidate.extend(&resolved);
        candidate.push(&part);
        match std::fs::symlink_metadata(&candidate) {
            Ok(m) if m.file_type().is_symlink() && links < MAX_LINKS => {
                links += 1;
                let Ok(target) = std::fs::read_link(&candidate) else {
                    resolved.push(part);
                    continue;
                };
                if target.is_absolute() {
                    resolved.clear();
                }
                for c in target.components().rev() {
                    match c {
                        Component::Normal(n) => pending.push(n.to_os_string()),
                        Component::ParentDir => pending.push("..".into()),
                        _ => {}
                    }
                }
            }
            _ => resolved.push(part),
        }
    }
    let mut out = root.to_path_buf();
    out.extend(resolved);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::create_dir_all(root.join("usr/lib")).unwrap();
        symlink("/usr/lib", root.join("lib")).unwrap();
        symlink("../../../../../../etc", root.join("escape")).unwrap();
        symlink("/", root.join("slash")).unwrap();
        assert_eq!(
            secure_join(root, Path::new("/lib/x")),
            root.join("usr/lib/x")
        );
        assert_eq!(
            secure_join(root, Path::new("/escape/passwd")),
            root.join("etc/passwd")
        );
        assert_eq!(
            secure_join(root, Path::new("/slash/slash/proc")),
            root.join("proc")
        );
        assert_eq!(
            secure_join(root, Path::new("../../dev/null")),
            root.join("dev/null")
        );
    }

    #[test]
    fn link_loops_stop() {
        let d = tempfile::tempdir().unwrap();
        symlink("b", d.path().join("a")).unwrap();
        symlink("a", d.path().join("b")).unwrap();
        assert!(secure_join(d.path(), Path::new("/a")).starts_with(d.path()));
    }
}
