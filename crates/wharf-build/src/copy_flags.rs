//! `COPY --exclude` and `COPY --parents` (Dockerfile 1.7 syntax).
//!
//! - `--exclude=PATTERN` (repeatable) uses the ignore-file syntax. A pattern is matched
//!   against each source as named (its path in the context or stage, so `*.txt` drops
//!   wildcard matches like `hom*` that end in `.txt`) and against every path below a directory
//!   source, relative to that source (`*.txt` drops top-level `.txt` files of the directory,
//!   `**/*.txt` all of them). The cache key covers the patterns; files they exclude still
//!   count for the key, so changing one only costs a rebuild.
//! - `--parents` keeps each source's parent directories from the context (or stage) root
//!   under the destination: `COPY --parents a/b/f.txt /d/` gives `/d/a/b/f.txt`, and a
//!   directory source `a/b` gives `/d/a/b/...`. A `/./` in the source is BuildKit's pivot:
//!   only the directories after it are kept (`COPY --parents ./x/./y/* /d/` gives `/d/y/...`).

use wharf_dockerfile::ignore::Matcher;

use crate::context::Source;
use crate::error::BuildError;

/// The `--exclude` patterns of one COPY/ADD.
pub(crate) struct Exclude(Option<Matcher>);

impl Exclude {
    pub(crate) fn new(patterns: &[String]) -> Result<Self, BuildError> {
        if patterns.is_empty() {
            return Ok(Self(None));
        }
        Ok(Self(Some(Matcher::new(patterns)?)))
    }

    /// Whether a whole source is excluded.
    pub(crate) fn top_level(&self, s: &Source) -> bool {
        self.0
            .as_ref()
            .is_some_and(|m| !s.rel.is_empty() && s.rel != "." && m.is_excluded(&s.rel))
    }

    /// Whether `rel` (relative to the context or stage root) is excluded as a path inside
    /// one of `sources`.
    pub(crate) fn inside<'a>(&self, rel: &str, sources: impl Iterator<Item = &'a Source>) -> bool {
        let Some(m) = &self.0 else {
            return false;
        };
        sources
            .filter_map(|s| relative_to(rel, &s.rel))
            .any(|inner| !inner.is_empty() && m.is_excluded(inner))
    }
}

fn relative_to<'a>(rel: &'a str, base: &str) -> Option<&'a str> {
    if base.is_empty() || base == "." {
        return Some(rel);
    }
    rel.strip_prefix(base)?.strip_prefix('/')
}

/// The directories a `--parents` source's `/./` pivot drops, relative like [`Source::rel`]
/// (`./x/./y/*` -> `x`, `/x/./y` -> `x`); empty without `--parents` or a pivot.
pub(crate) fn pivot(src: &str, parents: bool) -> String {
    match src.find("/./") {
        Some(i) if parents => crate::context::clean_rel(&src[..i]),
        _ => String::new(),
    }
}

/// The destination of one source under `--parents`, without the directories its `pivot` drops.
pub(crate) fn parents_dest(dest: &str, s: &Source, pivot: &str) -> String {
    let base = format!("{}/", dest.trim_end_matches('/'));
    let keep = if s.path.is_dir() {
        s.rel.trim_matches('/').to_owned()
    } else {
        std::path::Path::new(&s.rel)
            .parent()
            .map(|p| p.to_string_lossy().trim_matches('/').to_owned())
            .unwrap_or_default()
    };
    let keep = match keep.strip_prefix(pivot) {
        Some(rest) if !pivot.is_empty() && (rest.is_empty() || rest.starts_with('/')) => {
            rest.trim_start_matches('/').to_owned()
        }
        _ => keep,
    };
    if keep.is_empty() || keep == "." {
        base
    } else {
        format!("{base}{keep}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn src(rel: &str, path: PathBuf) -> Source {
        Source {
            rel: rel.to_owned(),
            path,
        }
    }

    #[test]
    fn exclude_matches_sources_and_paths_inside_them() {
        let e = Exclude::new(&["*.txt".to_owned(), "**/*.log".to_owned()]).unwrap();
        let t = tempfile::tempdir().unwrap();
        let dir = src("app", t.path().to_owned());
        assert!(e.top_level(&src("home.txt", t.path().join("home.txt"))));
        assert!(!e.top_level(&dir));
        assert!(e.inside("app/readme.txt", [&dir].into_iter()));
        assert!(!e.inside("app/doc/readme.txt", [&dir].into_iter()));
        assert!(e.inside("app/doc/x.log", [&dir].into_iter()));
        assert!(!e.inside("app/main.rs", [&dir].into_iter()));
        assert!(!e.inside("other/readme.md", [&dir].into_iter()));
        assert!(
            !Exclude::new(&[])
                .unwrap()
                .inside("a.txt", [&dir].into_iter())
        );
    }

    #[test]
    fn parents_keep_the_source_directories() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("a/b")).unwrap();
        std::fs::write(t.path().join("a/b/f.txt"), "x").unwrap();
        let f = src("a/b/f.txt", t.path().join("a/b/f.txt"));
        assert_eq!(parents_dest("/d", &f, ""), "/d/a/b/");
        let d = src("a/b", t.path().join("a/b"));
        assert_eq!(parents_dest("/d/", &d, ""), "/d/a/b/");
        let top = src("f.txt", t.path().join("a/b/f.txt"));
        assert_eq!(parents_dest("/d", &top, ""), "/d/");
        // The `/./` pivot drops what is before it.
        assert_eq!(pivot("./a/./b/*", true), "a");
        assert_eq!(pivot("/a/./b", true), "a");
        assert_eq!(pivot("./a/./b/*", false), "");
        assert_eq!(parents_dest("/d", &f, "a"), "/d/b/");
        assert_eq!(parents_dest("/d", &d, "a/b"), "/d/");
        assert_eq!(parents_dest("/d", &f, "ab"), "/d/a/b/");
    }
}
