//! The build context: a directory whose ignore file (`.containerignore`, `.dockerignore`, or
//! `<Dockerfile>.dockerignore`) hides paths from COPY/ADD, source wildcards, and the content
//! digests that key the cache.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use wharf_dockerfile::ignore::{self, Matcher};
use wharf_oci::Hasher;

use crate::error::BuildError;

/// A build context directory with its ignore rules.
#[derive(Debug, Clone)]
pub struct Context {
    dir: PathBuf,
    matcher: Matcher,
    /// File content digests by absolute path, valid while (size, mtime, ctime, inode) match:
    /// an unchanged context is not read again to compute cache keys.
    stat_cache: RefCell<BTreeMap<String, StatEntry>>,
}

/// One remembered file digest and the `stat` it was computed for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatEntry {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    ino: u64,
    digest: String,
}

impl StatEntry {
    fn stat_of(meta: &std::fs::Metadata) -> (u64, i128, i128, u64) {
        (
            meta.len(),
            i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
            meta.ino(),
        )
    }
}

/// One source after wildcard expansion: its path relative to the context (or a stage root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub rel: String,
    pub path: PathBuf,
}

impl Context {
    /// Opens `dir`, reading the ignore file that applies for `dockerfile`.
    pub fn open(dir: &Path, dockerfile: Option<&Path>) -> Result<Self, BuildError> {
        let mut matcher = Matcher::default();
        for candidate in ignore::ignore_file_candidates(dir, dockerfile) {
            // An ignore file in the context is read inside it: a symlink to a file outside
            // resolves as if the context were `/` and, finding nothing, is ignored (BuildKit
            // reads it from the transferred context). One next to a Dockerfile outside the
            // context is the user's own file.
            let path = match candidate.strip_prefix(dir) {
                Ok(rel) => crate::rootfs::resolve(dir, &format!("/{}", rel.display()), true)
                    .map_err(BuildError::io("resolving", &candidate))?,
                Err(_) => candidate,
            };
            if path.is_file() {
                matcher = Matcher::read(&path)?;
                break;
            }
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            matcher,
            stat_cache: RefCell::default(),
        })
    }

    /// Loads remembered file digests (from a previous build's [`Context::stat_cache_bytes`]);
    /// unreadable data is ignored, since it only costs re-hashing.
    pub fn load_stat_cache(&self, bytes: &[u8]) {
        if let Ok(map) = serde_json::from_slice(bytes) {
            *self.stat_cache.borrow_mut() = map;
        }
    }

    /// The remembered file digests, to be stored for the next build.
    pub fn stat_cache_bytes(&self) -> Result<Vec<u8>, BuildError> {
        serde_json::to_vec(&*self.stat_cache.borrow()).map_err(BuildError::Serialize)
    }

    /// The content digest of a regular file, remembered by its `stat`.
    fn file_digest(&self, path: &Path, meta: &std::fs::Metadata) -> Result<String, BuildError> {
        let key = path.to_string_lossy().into_owned();
        let (size, mtime_ns, ctime_ns, ino) = StatEntry::stat_of(meta);
        if let Some(e) = self.stat_cache.borrow().get(&key)
            && (e.size, e.mtime_ns, e.ctime_ns, e.ino) == (size, mtime_ns, ctime_ns, ino)
        {
            return Ok(e.digest.clone());
        }
        let mut h = Hasher::sha256();
        let mut f = std::fs::File::open(path).map_err(BuildError::io("opening", path))?;
        let mut buf = vec![0u8; 256 << 10];
        loop {
            let n = f.read(&mut buf).map_err(BuildError::io("reading", path))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        let digest = h.finish().to_string();
        self.stat_cache.borrow_mut().insert(
            key,
            StatEntry {
                size,
                mtime_ns,
                ctime_ns,
                ino,
                digest: digest.clone(),
            },
        );
        Ok(digest)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The host path of `rel` with symlinks resolved inside the context: a link pointing
    /// outside (`/etc/passwd`, `../../x`) resolves as if the context were `/`, so no COPY, ADD
    /// or bind mount reads a file of the host outside the context.
    fn confined(&self, rel: &str) -> Result<PathBuf, BuildError> {
        crate::rootfs::resolve(&self.dir, &format!("/{rel}"), true)
            .map_err(BuildError::io("resolving", self.dir.join(rel)))
    }

    pub fn is_excluded(&self, rel: &str) -> bool {
        !rel.is_empty() && rel != "." && self.matcher.is_excluded(rel)
    }

    /// Expands one COPY source (wildcards allowed) into existing, not-excluded paths.
    pub fn sources(&self, src: &str) -> Result<Vec<Source>, BuildError> {
        let cleaned = clean_rel(src);
        if has_wildcard(&cleaned) {
            let pattern: Vec<&str> = cleaned.split('/').collect();
            let mut out = Vec::new();
            for entry in ignore::walk(&self.dir, &self.matcher) {
                let entry = entry?;
                let parts: Vec<&str> = entry.rel_path.split('/').collect();
                if parts.len() == pattern.len()
                    && parts
                        .iter()
                        .zip(&pattern)
                        .all(|(p, pat)| glob(pat.as_bytes(), p.as_bytes()))
                {
                    out.push(Source {
                        path: self.confined(&entry.rel_path)?,
                        rel: entry.rel_path,
                    });
                }
            }
            if out.is_empty() {
                return Err(BuildError::SourceNotFound {
                    path: src.to_owned(),
                    excluded: false,
                });
            }
            return Ok(out);
        }
        let path = if cleaned.is_empty() {
            self.dir.clone()
        } else {
            self.confined(&cleaned)?
        };
        // An excluded directory with an exception below it is still there, holding what the
        // exception re-includes (as in BuildKit's transferred context): `COPY sub ./` copies
        // the same files as `COPY . ./` puts under `sub/`.
        let excluded =
            self.is_excluded(&cleaned) && !(path.is_dir() && self.matcher.must_descend(&cleaned));
        if excluded || std::fs::symlink_metadata(&path).is_err() {
            return Err(BuildError::SourceNotFound {
                path: src.to_owned(),
                excluded,
            });
        }
        Ok(vec![Source { rel: cleaned, path }])
    }

    /// A digest of everything COPY would read from `sources`: names, types, modes, owners,
    /// sizes, link targets and file contents, after the ignore rules.
    pub fn digest_sources(&self, sources: &[Source]) -> Result<String, BuildError> {
        let mut h = Hasher::sha256();
        for s in sources {
            h.update(format!("source {}\n", s.rel).as_bytes());
            // A top-level symlink is followed, as COPY follows it.
            let meta = std::fs::metadata(&s.path).map_err(BuildError::io("reading", &s.path))?;
            if meta.is_dir() {
                for entry in ignore::walk(&s.path, &Matcher::default()) {
                    let entry = entry?;
                    let rel = join_rel(&s.rel, &entry.rel_path);
                    if self.is_excluded(&rel) {
                        continue;
                    }
                    self.hash_entry(&mut h, &entry.rel_path, &entry.path, &entry.metadata)?;
                }
            } else {
                self.hash_entry(&mut h, "", &s.path, &meta)?;
            }
        }
        Ok(h.finish().to_string())
    }

    fn hash_entry(
        &self,
        h: &mut Hasher,
        rel: &str,
        path: &Path,
        meta: &std::fs::Metadata,
    ) -> Result<(), BuildError> {
        let ft = meta.file_type();
        h.update(
            format!(
                "{rel}\0{:o}\0{}:{}\0{}\0",
                meta.mode(),
                meta.uid(),
                meta.gid(),
                meta.len()
            )
            .as_bytes(),
        );
        if ft.is_symlink() {
            let target = std::fs::read_link(path).map_err(BuildError::io("reading link", path))?;
            h.update(target.as_os_str().as_encoded_bytes());
        } else if ft.is_file() {
            h.update(self.file_digest(path, meta)?.as_bytes());
        }
        h.update(b"\n");
        Ok(())
    }
}

pub(crate) fn join_rel(a: &str, b: &str) -> String {
    if a.is_empty() || a == "." {
        b.to_owned()
    } else {
        format!("{a}/{b}")
    }
}

/// Cleans a context-relative source: `./a/../b/` -> `b`; `..` cannot leave the context.
pub fn clean_rel(src: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in src.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

pub(crate) fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Go's `filepath.Match` for one path component: `*`, `?`, `[...]` (with `^`/`!` negation and
/// ranges), `\` escapes.
pub(crate) fn glob(pat: &[u8], name: &[u8]) -> bool {
    match pat.first() {
        None => name.is_empty(),
        Some(b'*') => (0..=name.len()).any(|i| glob(&pat[1..], &name[i..])),
        Some(b'?') => !name.is_empty() && glob(&pat[1..], &name[1..]),
        Some(b'[') => {
            let Some((&c, rest_name)) = name.split_first() else {
                return false;
            };
            let mut i = 1;
            let negate = matches!(pat.get(1), Some(b'^' | b'!'));
            if negate {
                i += 1;
            }
            let mut matched = false;
            let mut first = true;
            while i < pat.len() && (first || pat[i] != b']') {
                first = false;
                let lo = pat[i];
                if pat.get(i + 1) == Some(&b'-') && pat.get(i + 2).is_some_and(|&b| b != b']') {
                    matched |= lo <= c && c <= pat[i + 2];
                    i += 3;
                } else {
                    matched |= lo == c;
                    i += 1;
                }
            }
            if i >= pat.len() {
                return false; // unterminated class
            }
            matched != negate && glob(&pat[i + 1..], rest_name)
        }
        Some(b'\\') if pat.len() > 1 => {
            name.first() == Some(&pat[1]) && glob(&pat[2..], &name[1..])
        }
        Some(&p) => name.first() == Some(&p) && glob(&pat[1..], &name[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_follow_go_filepath_match() {
        assert!(glob(b"*.txt", b"a.txt"));
        assert!(!glob(b"*.txt", b"a.txtx"));
        assert!(glob(b"a?c", b"abc"));
        assert!(glob(b"[a-c]x", b"bx"));
        assert!(!glob(b"[^a-c]x", b"bx"));
        assert!(glob(b"\\*", b"*"));
        assert_eq!(clean_rel("./a/../b/"), "b");
        assert_eq!(clean_rel("../../x"), "x");
    }

    #[test]
    fn sources_expand_wildcards_and_honour_the_ignore_file() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        std::fs::write(d.join(".dockerignore"), "secret.txt\n").unwrap();
        for f in ["a.txt", "b.txt", "c.md", "secret.txt"] {
            std::fs::write(d.join(f), f).unwrap();
        }
        let ctx = Context::open(d, None).unwrap();
        let names: Vec<String> = ctx
            .sources("*.txt")
            .unwrap()
            .into_iter()
            .map(|s| s.rel)
            .collect();
        assert_eq!(names, ["a.txt", "b.txt"]);
        let err = ctx.sources("secret.txt").unwrap_err().to_string();
        assert!(err.contains("excluded"), "{err}");
        assert!(ctx.sources("nope").is_err());
        let before = ctx.digest_sources(&ctx.sources(".").unwrap()).unwrap();
        std::fs::write(d.join("secret.txt"), "changed").unwrap();
        assert_eq!(
            before,
            ctx.digest_sources(&ctx.sources(".").unwrap()).unwrap()
        );
        std::fs::write(d.join("a.txt"), "changed").unwrap();
        assert_ne!(
            before,
            ctx.digest_sources(&ctx.sources(".").unwrap()).unwrap()
        );
    }

    #[test]
    fn an_excluded_directory_holding_an_exception_is_a_source() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        std::fs::create_dir_all(d.join("sub/inner")).unwrap();
        std::fs::write(d.join("sub/inner/deep.txt"), "deep").unwrap();
        std::fs::write(d.join("sub/x.txt"), "x").unwrap();
        std::fs::write(d.join(".dockerignore"), "sub\n!**/deep.txt\n").unwrap();
        let ctx = Context::open(d, None).unwrap();
        // Docker's MatchesOrParentMatches: the exception re-includes the deep file.
        assert!(!ctx.is_excluded("sub/inner/deep.txt"));
        assert!(ctx.is_excluded("sub/x.txt"));
        assert_eq!(ctx.sources("sub/inner").unwrap()[0].rel, "sub/inner");
        assert_eq!(ctx.sources("sub").unwrap()[0].rel, "sub");
        assert!(ctx.sources("sub/x.txt").is_err());
    }

    #[test]
    fn an_ignore_file_linking_out_of_the_context_is_not_read() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("outside"), "*.txt\n").unwrap();
        let d = t.path().join("ctx");
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("a.txt"), "a").unwrap();
        std::os::unix::fs::symlink(t.path().join("outside"), d.join(".dockerignore")).unwrap();
        assert!(!Context::open(&d, None).unwrap().is_excluded("a.txt"));
        // A link to a file inside the context is read.
        std::fs::write(d.join("rules"), "*.txt\n").unwrap();
        std::fs::remove_file(d.join(".dockerignore")).unwrap();
        std::os::unix::fs::symlink("rules", d.join(".dockerignore")).unwrap();
        assert!(Context::open(&d, None).unwrap().is_excluded("a.txt"));
    }

    #[test]
    fn symlinks_never_leave_the_context() {
        let t = tempfile::tempdir().unwrap();
        let outside = t.path().join("outside.txt");
        std::fs::write(&outside, "host file").unwrap();
        let d = t.path().join("ctx");
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::fs::write(d.join("inside.txt"), "in").unwrap();
        std::os::unix::fs::symlink(&outside, d.join("abs-link")).unwrap();
        std::os::unix::fs::symlink("../outside.txt", d.join("rel-link")).unwrap();
        std::os::unix::fs::symlink("../inside.txt", d.join("sub/ok-link")).unwrap();
        std::os::unix::fs::symlink(t.path(), d.join("dir-link")).unwrap();
        let ctx = Context::open(&d, None).unwrap();
        // Links out of the context point at nothing inside it.
        for l in ["abs-link", "rel-link", "dir-link/outside.txt"] {
            assert!(ctx.sources(l).is_err(), "{l} escaped");
        }
        assert!(
            ctx.sources("*-link")
                .unwrap()
                .iter()
                .all(|s| s.path.starts_with(&d))
        );
        // A link inside the context is followed.
        let s = ctx.sources("sub/ok-link").unwrap();
        assert_eq!(s[0].path, d.join("inside.txt"));
        assert_eq!(s[0].rel, "sub/ok-link");
    }
}
