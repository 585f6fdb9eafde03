//! Paths inside a container's root filesystem: symlinks are resolved against the container's
//! root, never the host's, so `COPY x /bin/` into an image where `/bin -> usr/bin` lands in
//! `usr/bin` of the image and a hostile link cannot point a write outside the root.

use std::io;
use std::path::{Path, PathBuf};

/// Resolves the absolute container path `path` against `root` and returns the host path.
/// Symlinks in directories are followed inside `root`; the last component is followed only
/// when `follow_last`. Missing components are kept as they are (the caller creates them). A
/// chain of more than 40 links fails with ELOOP. This is the sandbox's resolver (one resolver
/// for the runtime, volumes and builds).
pub fn resolve(root: &Path, path: &str, follow_last: bool) -> io::Result<PathBuf> {
    wharf_sandbox::resolve_in_root(root, Path::new(path), follow_last).map_err(io::Error::from)
}

/// Joins a Dockerfile path onto the working directory (absolute paths win), `/`-separated.
pub fn absolute(workdir: &str, path: &str) -> String {
    if path.starts_with('/') {
        path.to_owned()
    } else {
        let base = if workdir.is_empty() { "/" } else { workdir };
        format!("{}/{path}", base.trim_end_matches('/'))
    }
}

/// `mkdir -p` inside the root; created directories get mode 0755 and `owner`.
///
/// Each component is resolved by the sandbox's resolver, then made by path: safe while nothing
/// else changes the root filesystem (COPY, WORKDIR and RUN mount targets run between steps, with
/// no container process alive). The runtime makes its own targets with `mkdirat` in
/// `openat2(RESOLVE_IN_ROOT)` handles; moving this onto that code would close the window too.
pub fn mkdir_all(root: &Path, path: &str, owner: Option<(u32, u32)>) -> io::Result<PathBuf> {
    let mut done = String::new();
    for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
        done.push('/');
        done.push_str(part);
        let host = resolve(root, &done, true)?;
        match std::fs::symlink_metadata(&host) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{done} exists and is not a directory"),
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Through a symlink whose target does not exist yet (`ln -s /var/lib/x /x`,
                // then `WORKDIR /x`) the target is made inside the root, parents included,
                // as BuildKit's mkdir -p does.
                if let Some(parent) = host.parent()
                    && !parent.exists()
                    && let Ok(rel) = parent.strip_prefix(root)
                {
                    mkdir_all(root, &format!("/{}", rel.display()), owner)?;
                }
                std::fs::create_dir(&host)?;
                if let Some((uid, gid)) = owner {
                    std::os::unix::fs::lchown(&host, Some(uid), Some(gid))?;
                }
            }
            Err(e) => return Err(e),
        }
    }
    resolve(root, path, true)
}

/// Expands the absolute container path pattern `pattern` (Go `filepath.Match` wildcards in
/// any component) against the tree under `root`, one component at a time as BuildKit's
/// `ResolveWildcards` does: directories on the way are resolved inside `root` (symlinks
/// followed), so nothing outside the root is read. Returns the matching absolute container
/// paths, sorted per directory; an empty list when nothing matches.
pub fn glob(root: &Path, pattern: &str) -> io::Result<Vec<String>> {
    let mut matched = vec![String::new()];
    for part in pattern.split('/').filter(|p| !p.is_empty() && *p != ".") {
        let mut next = Vec::new();
        for dir in &matched {
            if part == ".." || !crate::context::has_wildcard(part) {
                next.push(format!("{dir}/{part}"));
                continue;
            }
            let host = resolve(root, if dir.is_empty() { "/" } else { dir }, true)?;
            let entries = match std::fs::read_dir(&host) {
                Ok(e) => e,
                // Not a directory or missing: this branch matches nothing.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                    ) =>
                {
                    continue;
                }
                Err(e) => return Err(e),
            };
            let mut names = Vec::new();
            for entry in entries {
                let name = entry?.file_name();
                if crate::context::glob(part.as_bytes(), name.as_encoded_bytes()) {
                    names.push(name.to_string_lossy().into_owned());
                }
            }
            names.sort();
            next.extend(names.into_iter().map(|n| format!("{dir}/{n}")));
        }
        matched = next;
    }
    let mut out = Vec::new();
    for m in matched {
        let path = if m.is_empty() { "/".to_owned() } else { m };
        if std::fs::symlink_metadata(resolve(root, &path, false)?).is_ok() {
            out.push(path);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        std::fs::create_dir_all(root.join("usr/bin")).unwrap();
        std::os::unix::fs::symlink("usr/bin", root.join("bin")).unwrap();
        std::os::unix::fs::symlink("/../../../etc", root.join("escape")).unwrap();
        assert_eq!(
            resolve(root, "/bin/sh", true).unwrap(),
            root.join("usr/bin/sh")
        );
        assert_eq!(
            resolve(root, "/escape/passwd", true).unwrap(),
            root.join("etc/passwd")
        );
        assert_eq!(resolve(root, "/bin", false).unwrap(), root.join("bin"));
        assert_eq!(absolute("/app", "x/y"), "/app/x/y");
        assert_eq!(absolute("", "x"), "/x");
        assert_eq!(absolute("/app", "/z"), "/z");
        let made = mkdir_all(root, "/bin/new/dir", None).unwrap();
        assert_eq!(made, root.join("usr/bin/new/dir"));
        assert!(made.is_dir());
    }

    /// A base image whose directory is a chain of 41 links to a host path: COPY and WORKDIR
    /// must fail with ELOOP, not create anything on the host.
    #[test]
    fn a_41_link_chain_fails_with_eloop_and_creates_nothing_outside() {
        let t = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = t.path();
        for i in 1..41 {
            std::os::unix::fs::symlink(format!("/l{}", i + 1), root.join(format!("l{i}"))).unwrap();
        }
        std::os::unix::fs::symlink(outside.path(), root.join("l41")).unwrap();
        let e = resolve(root, "/l1/x", true).unwrap_err();
        assert!(e.to_string().contains("ELOOP"), "{e}");
        assert!(mkdir_all(root, "/l1/made", None).is_err());
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[test]
    fn glob_matches_inside_the_root_only() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        std::fs::create_dir_all(root.join("out/sub")).unwrap();
        for f in ["out/b.txt", "out/a.txt", "out/c.log", "out/sub/d.txt"] {
            std::fs::write(root.join(f), f).unwrap();
        }
        std::os::unix::fs::symlink("/out", root.join("link")).unwrap();
        assert_eq!(
            glob(root, "/out/*.txt").unwrap(),
            ["/out/a.txt", "/out/b.txt"]
        );
        assert_eq!(glob(root, "/link/?.log").unwrap(), ["/link/c.log"]);
        assert_eq!(
            glob(root, "/*/sub/*").unwrap(),
            ["/link/sub/d.txt", "/out/sub/d.txt"]
        );
        assert_eq!(glob(root, "/o*/a.txt").unwrap(), ["/out/a.txt"]);
        assert!(glob(root, "/out/*.md").unwrap().is_empty());
        assert!(glob(root, "/out/a.txt/*").unwrap().is_empty());
        assert!(glob(root, "/nothere/*").unwrap().is_empty());
    }
}
