//! `.dockerignore` / `.containerignore` files and a build-context walker.
//!
//! Patterns follow Docker's `patternmatcher` and `ignorefile` packages: `#` comments,
//! surrounding whitespace trimmed, paths cleaned like Go's `filepath.Clean` (so a
//! leading or trailing `/` does not matter), `*` and `?` do not cross `/`, `**` does,
//! `[...]` classes, `\` escapes, and `!` exceptions where the last matching pattern
//! wins. A path is excluded when it or one of its parent directories matches.
//!
//! ```
//! use wharf_dockerfile::ignore::Matcher;
//! let m = Matcher::parse("# secrets\nsecret/\n!secret/public.txt\n*.log\n").unwrap();
//! assert!(m.is_excluded("secret/key.pem"));
//! assert!(!m.is_excluded("secret/public.txt"));
//! assert!(m.is_excluded("app.log"));
//! assert!(!m.is_excluded("logs/app.log"));
//! ```

use std::fs::Metadata;
use std::path::{Path, PathBuf};

use regex::Regex;

/// Errors of ignore files and context walking.
#[derive(Debug, thiserror::Error)]
pub enum IgnoreError {
    /// A pattern that does not compile.
    #[error("invalid ignore pattern {pattern:?}: {reason}")]
    BadPattern {
        /// The pattern (cleaned).
        pattern: String,
        /// Why.
        reason: String,
    },
    /// An ignore file that cannot be read.
    #[error("reading {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Walking the context failed.
    #[error("walking build context")]
    Walk(#[from] walkdir::Error),
}

#[derive(Debug, Clone)]
struct Pattern {
    cleaned: String,
    exclusion: bool,
    re: Regex,
}

/// A compiled list of ignore patterns.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    patterns: Vec<Pattern>,
}

/// Go's `path.Clean` for `/`-separated paths.
pub fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// `ignorefile.ReadAll`: the patterns of an ignore file, normalised.
pub fn read_patterns(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let mut p = line.trim();
        if p.is_empty() {
            continue;
        }
        let invert = p.starts_with('!');
        if invert {
            p = p[1..].trim();
        }
        let mut pat = String::new();
        if !p.is_empty() {
            pat = clean(p);
            if pat.len() > 1 && pat.starts_with('/') {
                pat.remove(0);
            }
        }
        out.push(if invert { format!("!{pat}") } else { pat });
    }
    out
}

fn compile(pattern: &str) -> Result<Regex, IgnoreError> {
    let mut re = String::from("^");
    let mut it = pattern.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '*' if it.peek() == Some(&'*') => {
                it.next();
                if it.peek() == Some(&'/') {
                    it.next();
                }
                re.push_str(if it.peek().is_none() { ".*" } else { "(.*/)?" });
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' => {
                re.push('\\');
                re.push(c);
            }
            '\\' => match it.next() {
                Some(n) => re.push_str(&regex::escape(n.encode_utf8(&mut [0; 4]))),
                None => re.push_str("\\\\"),
            },
            c => re.push(c),
        }
    }
    re.push('$');
    Regex::new(&re).map_err(|e| IgnoreError::BadPattern {
        pattern: pattern.to_owned(),
        reason: e.to_string(),
    })
}

impl Matcher {
    /// Compiles patterns (already in ignore-file form, `!` for exceptions).
    pub fn new<I, S>(patterns: I) -> Result<Self, IgnoreError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out = Vec::new();
        for p in patterns {
            let p = p.as_ref().trim();
            if p.is_empty() {
                continue;
            }
            let p = clean(p);
            let (exclusion, p) = match p.strip_prefix('!') {
                Some("") => {
                    return Err(IgnoreError::BadPattern {
                        pattern: "!".to_owned(),
                        reason: "illegal exclusion pattern".to_owned(),
                    });
                }
                Some(rest) => (true, rest.to_owned()),
                None => (false, p),
            };
            out.push(Pattern {
                re: compile(&p)?,
                cleaned: p,
                exclusion,
            });
        }
        Ok(Self { patterns: out })
    }

    /// Parses the text of an ignore file.
    pub fn parse(text: &str) -> Result<Self, IgnoreError> {
        Self::new(read_patterns(text))
    }

    /// Reads and parses an ignore file.
    pub fn read(path: &Path) -> Result<Self, IgnoreError> {
        let text = std::fs::read_to_string(path).map_err(|source| IgnoreError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Whether any pattern is an `!` exception.
    pub fn has_exclusions(&self) -> bool {
        self.patterns.iter().any(|p| p.exclusion)
    }

    /// Docker's `MatchesOrParentMatches`: is `rel` (a `/`-separated path relative to the
    /// context) excluded?
    pub fn is_excluded(&self, rel: &str) -> bool {
        let rel = clean(rel);
        let parent = rel.rsplit_once('/').map_or(".", |(p, _)| p);
        let mut matched = false;
        for p in &self.patterns {
            if p.exclusion != matched {
                continue;
            }
            let mut hit = p.re.is_match(&rel);
            if !hit && parent != "." {
                let mut prefix = String::new();
                for dir in parent.split('/') {
                    if !prefix.is_empty() {
                        prefix.push('/');
                    }
                    prefix.push_str(dir);
                    if p.re.is_match(&prefix) {
                        hit = true;
                        break;
                    }
                }
            }
            if hit {
                matched = !p.exclusion;
            }
        }
        matched
    }

    /// Whether an excluded directory must still be walked because an exception may
    /// re-include something below it.
    pub fn must_descend(&self, dir: &str) -> bool {
        let dir_slash = format!("{dir}/");
        self.patterns.iter().any(|p| {
            p.exclusion
                && (format!("{}/", p.cleaned).starts_with(&dir_slash)
                    || p.cleaned.contains(['*', '?', '[', '\\']))
        })
    }
}

/// The ignore file that applies to a build: `<Dockerfile>.dockerignore` next to the
/// Dockerfile first, then `.containerignore` (it wins over `.dockerignore`), then
/// `.dockerignore`, in the context directory.
///
/// This follows symlinks as the host sees them: a builder must resolve the candidates of
/// [`ignore_file_candidates`] inside the context instead (BuildKit reads the file from the
/// transferred context, where a link out of it leads nowhere).
pub fn find_ignore_file(context: &Path, dockerfile: Option<&Path>) -> Option<PathBuf> {
    ignore_file_candidates(context, dockerfile)
        .into_iter()
        .find(|p| p.is_file())
}

/// The paths [`find_ignore_file`] tries, in order.
pub fn ignore_file_candidates(context: &Path, dockerfile: Option<&Path>) -> Vec<PathBuf> {
    let specific = dockerfile.and_then(|d| {
        let name = d.file_name()?.to_str()?;
        Some(d.with_file_name(format!("{name}.dockerignore")))
    });
    specific
        .into_iter()
        .chain([
            context.join(".containerignore"),
            context.join(".dockerignore"),
        ])
        .collect()
}

/// A file (or directory or symlink) of the context that is not ignored.
#[derive(Debug)]
pub struct ContextEntry {
    /// Path relative to the context, `/`-separated.
    pub rel_path: String,
    /// Full path on disk.
    pub path: PathBuf,
    /// `lstat` metadata (symlinks are not followed).
    pub metadata: Metadata,
}

/// Walks `context` in file-name order, yielding the entries `matcher` does not exclude.
/// Excluded directories are skipped unless an exception may re-include a child.
pub fn walk(
    context: &Path,
    matcher: &Matcher,
) -> impl Iterator<Item = Result<ContextEntry, IgnoreError>> {
    let mut it = walkdir::WalkDir::new(context)
        .min_depth(1)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter();
    let matcher = matcher.clone();
    std::iter::from_fn(move || {
        loop {
            let entry = match it.next()? {
                Ok(e) => e,
                Err(e) => return Some(Err(e.into())),
            };
            let rel = entry
                .path()
                .strip_prefix(context)
                .unwrap_or(entry.path())
                .to_string_lossy()
                .replace(std::path::MAIN_SEPARATOR, "/");
            let is_dir = entry.file_type().is_dir();
            if matcher.is_excluded(&rel) {
                if is_dir && !matcher.must_descend(&rel) {
                    it.skip_current_dir();
                }
                continue;
            }
            let metadata = match entry.metadata() {
                Ok(m) => m,
                Err(e) => return Some(Err(e.into())),
            };
            return Some(Ok(ContextEntry {
                rel_path: rel,
                path: entry.into_path(),
                metadata,
            }));
        }
    })
}
