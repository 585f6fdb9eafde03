//! Resolving container paths inside a root filesystem in user space, following symlinks as the
//! container would see them, so that a hostile image cannot point a path at the host.
//!
//! The runtime itself never acts on a path computed here: it lets the kernel resolve with
//! `openat2(RESOLVE_IN_ROOT)` (see [`crate::syscall::InRoot`]), which cannot race with a symlink
//! swapped in later. This resolver is for code that must name the result (the build engine's
//! `COPY` destinations, messages), and it follows the same rules: `..` stops at the root,
//! absolute links restart at the root, and a chain of more than [`MAX_LINKS`] links fails with
//! ELOOP rather than being handed, half-resolved, to the host's kernel.

use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};

/// Links followed before giving up, as Linux's `MAXSYMLINKS` (and `openat2`).
pub const MAX_LINKS: usize = 40;

/// Why a container path could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(
        "{path} in the root filesystem {root} resolves through more than {MAX_LINKS} symbolic \
         links (ELOOP): the image is broken or hostile; fix or remove the link chain"
    )]
    TooManyLinks { root: PathBuf, path: PathBuf },

    #[error("cannot read the symbolic link {link} while resolving {path}")]
    ReadLink {
        link: PathBuf,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl ResolveError {
    /// The errno the kernel gives for the same failure.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            ResolveError::TooManyLinks { .. } => Some(libc::ELOOP),
            ResolveError::ReadLink { source, .. } => source.raw_os_error(),
        }
    }
}

impl From<ResolveError> for io::Error {
    fn from(e: ResolveError) -> Self {
        let kind = match e.raw_os_error() {
            Some(errno) => io::Error::from_raw_os_error(errno).kind(),
            None => io::ErrorKind::Other,
        };
        io::Error::new(kind, e)
    }
}

/// The normal and `..` components of `p` (root and `.` dropped).
fn components(p: &Path) -> Vec<OsString> {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

/// Resolves the container path `path` (absolute or relative to `/`) against `root` and returns
/// the host path, which always lies under `root`. Symlinks in directories are followed inside
/// `root`; the last component is followed only when `follow_last`. Missing components are kept
/// as they are (the caller creates them).
pub fn resolve_in_root(
    root: &Path,
    path: &Path,
    follow_last: bool,
) -> Result<PathBuf, ResolveError> {
    let mut pending = components(path);
    pending.reverse();
    let mut resolved: Vec<OsString> = Vec::new();
    let mut links = 0;
    while let Some(part) = pending.pop() {
        if part == ".." {
            resolved.pop();
            continue;
        }
        let mut candidate = root.to_path_buf();
        candidate.extend(&resolved);
        candidate.push(&part);
        let last = pending.is_empty();
        match std::fs::symlink_metadata(&candidate) {
            Ok(m) if m.file_type().is_symlink() && (!last || follow_last) => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(ResolveError::TooManyLinks {
                        root: root.to_path_buf(),
                        path: path.to_path_buf(),
                    });
                }
                let target =
                    std::fs::read_link(&candidate).map_err(|source| ResolveError::ReadLink {
                        link: candidate.clone(),
                        path: path.to_path_buf(),
                        source,
                    })?;
                if target.is_absolute() {
                    resolved.clear();
                }
                let mut more = components(&target);
                more.reverse();
                pending.extend(more);
            }
            _ => resolved.push(part),
        }
    }
    let mut out = root.to_path_buf();
    out.extend(resolved);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn secure_join(root: &Path, path: &Path) -> Result<PathBuf, ResolveError> {
        resolve_in_root(root, path, true)
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::create_dir_all(root.join("usr/lib")).unwrap();
        symlink("/usr/lib", root.join("lib")).unwrap();
        symlink("../../../../../../etc", root.join("escape")).unwrap();
        symlink("/", root.join("slash")).unwrap();
        let join = |p: &str| secure_join(root, Path::new(p)).unwrap();
        assert_eq!(join("/lib/x"), root.join("usr/lib/x"));
        assert_eq!(join("/escape/passwd"), root.join("etc/passwd"));
        assert_eq!(join("/slash/slash/proc"), root.join("proc"));
        assert_eq!(join("../../dev/null"), root.join("dev/null"));
        assert_eq!(
            resolve_in_root(root, Path::new("/lib"), false).unwrap(),
            root.join("lib")
        );
    }

    #[test]
    fn link_loops_fail_with_eloop() {
        let d = tempfile::tempdir().unwrap();
        symlink("b", d.path().join("a")).unwrap();
        symlink("a", d.path().join("b")).unwrap();
        let e = secure_join(d.path(), Path::new("/a")).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ELOOP));
        assert!(e.to_string().contains("/a in the root filesystem"), "{e}");
    }

    /// The attack of issue 11: /etc/hosts -> l1 -> ... -> l41 -> a host path. Counting must
    /// not stop at 40 and hand the rest over: the whole chain fails, and so does the kernel.
    #[test]
    fn a_chain_of_41_links_fails_and_40_resolve_inside() {
        let d = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::create_dir_all(root.join("etc")).unwrap();
        let chain = |n: usize, name: &str| {
            for i in 1..n {
                symlink(format!("/{name}{}", i + 1), root.join(format!("{name}{i}"))).unwrap();
            }
            symlink(outside.path(), root.join(format!("{name}{n}"))).unwrap();
            symlink(format!("/{name}1"), root.join(format!("etc/{name}"))).unwrap();
        };
        chain(41, "long");
        let e = secure_join(root, Path::new("/etc/long/x")).unwrap_err();
        assert!(matches!(e, ResolveError::TooManyLinks { .. }), "{e}");
        // The kernel agrees, for the same chain.
        let k = crate::sys::mount::open_in_root(root, Path::new("/etc/long/x")).unwrap_err();
        assert_eq!(k.raw_os_error(), Some(libc::ELOOP), "{k}");
        // 40 links (the one in /etc included) still resolve, inside the root.
        chain(39, "short");
        let p = secure_join(root, Path::new("/etc/short/x")).unwrap();
        assert!(p.starts_with(root), "{}", p.display());
        assert_eq!(
            p,
            root.join(outside.path().strip_prefix("/").unwrap())
                .join("x")
        );
    }

    /// Exhaustive over small trees: every combination of links among a few names, every path
    /// of up to three components: the result lies under the root, a resolution never panics,
    /// and it matches what the kernel's `openat2(RESOLVE_IN_ROOT)` finds when the path exists.
    #[test]
    fn small_trees_resolve_inside_the_root_like_the_kernel() {
        let targets = [
            "/", "..", "../..", "d", "/d/e", "a", "b", "/a/../b", "missing",
        ];
        let names = ["a", "b", "d", "..", "e", "missing"];
        for (i, ta) in targets.iter().enumerate() {
            for tb in &targets[i % 3..] {
                let d = tempfile::tempdir().unwrap();
                let root = d.path();
                std::fs::create_dir_all(root.join("d/e")).unwrap();
                symlink(ta, root.join("a")).unwrap();
                symlink(tb, root.join("b")).unwrap();
                symlink("/a", root.join("d/e/up")).unwrap();
                for x in names.iter().chain(["d/e/up"].iter()) {
                    for y in names {
                        for z in ["", "e", "up", "a"] {
                            let path = format!("/{x}/{y}/{z}");
                            let Ok(p) = secure_join(root, Path::new(&path)) else {
                                continue;
                            };
                            assert!(p.starts_with(root), "{path} -> {}", p.display());
                            if let Ok(fd) = crate::sys::mount::open_in_root(root, Path::new(&path))
                            {
                                let k =
                                    std::fs::read_link(crate::sys::mount::fd_path(&fd)).unwrap();
                                assert_eq!(
                                    std::fs::canonicalize(&p).ok(),
                                    Some(k),
                                    "{path} with a -> {ta}, b -> {tb}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
