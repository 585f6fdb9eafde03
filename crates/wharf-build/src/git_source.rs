//! `ADD` of a Git repository, as BuildKit does it: `https://host/repo.git#REF:SUBDIR`,
//! `git://host/repo#REF`, `ssh://…`, `git@host:repo.git`. The repository is fetched with the
//! `git` program (as BuildKit's git source does) into a staging directory, shallowly where the
//! server allows it, at REF (a branch, a tag or a commit; default the remote's HEAD), and SUBDIR
//! of the checkout is what ADD copies. `.git` is dropped unless `--keep-git-dir=true`;
//! `--checksum=COMMIT` must name the commit fetched. Every file gets the commit's time, so the
//! layer depends on the commit alone.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::BuildError;

/// Whether `source` is a Git repository ADD fetches (BuildKit's `gitutil` rules: a `git@`
/// or `git://`/`ssh://` address, or an http(s) URL whose path ends in `.git`).
pub(crate) fn is_git(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    if lower.starts_with("git@") || lower.starts_with("git://") || lower.starts_with("ssh://") {
        return true;
    }
    let path = lower.split('#').next().unwrap_or_default();
    (path.starts_with("http://") || path.starts_with("https://"))
        && Path::new(path.trim_end_matches('/'))
            .extension()
            .is_some_and(|e| e == "git")
}

/// A parsed Git source: the remote, the ref and the subdirectory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GitRef {
    pub remote: String,
    pub reference: Option<String>,
    pub subdir: Option<String>,
}

impl GitRef {
    pub(crate) fn parse(source: &str) -> Result<Self, BuildError> {
        let (remote, fragment) = match source.split_once('#') {
            Some((r, f)) => (r, Some(f)),
            None => (source, None),
        };
        let bad = |reason: &str| BuildError::InvalidFlag {
            flag: "git source",
            value: source.to_owned(),
            reason: reason.to_owned(),
        };
        if remote.is_empty() || remote.starts_with('-') {
            return Err(bad("the remote must be a URL or git@host:path"));
        }
        let (reference, subdir) = match fragment {
            None => (None, None),
            Some(f) => match f.split_once(':') {
                Some((r, s)) => (Some(r), Some(s)),
                None => (Some(f), None),
            },
        };
        let nonempty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_owned);
        let reference = nonempty(reference);
        if reference.as_deref().is_some_and(|r| r.starts_with('-')) {
            return Err(bad("a ref cannot start with '-'"));
        }
        let subdir = nonempty(subdir);
        if subdir
            .as_deref()
            .is_some_and(|s| s.split('/').any(|p| p == ".."))
        {
            return Err(bad("the subdirectory must stay inside the repository"));
        }
        Ok(Self {
            remote: remote.to_owned(),
            reference,
            subdir,
        })
    }
}

/// What [`fetch`] staged.
pub(crate) struct Fetched {
    /// The directory ADD copies (the checkout, or its subdirectory).
    pub dir: PathBuf,
    /// The commit checked out (for the cache key and `--checksum`).
    pub commit: String,
}

fn git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        // Never a prompt (no terminal in a build), never the user's or system's aliases and
        // hooks changing what is fetched.
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_ASKPASS", "true")
        .args([
            "-c",
            "protocol.file.allow=never",
            "-c",
            "core.hooksPath=/dev/null",
        ]);
    cmd
}

fn run(cmd: &mut Command, what: &str, source: &str) -> Result<String, BuildError> {
    let out = cmd.output().map_err(|e| BuildError::GitFetch {
        source_url: source.to_owned(),
        reason: format!("{what}: cannot run git ({e}); hint: install git"),
    })?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    Err(BuildError::GitFetch {
        source_url: source.to_owned(),
        reason: format!("{what}: {}", err.trim()),
    })
}

/// Fetches `source` into `dir` (created empty by the caller) and returns what ADD copies.
pub(crate) fn fetch(
    source: &str,
    keep_git_dir: bool,
    checksum: Option<&str>,
    dir: &Path,
) -> Result<Fetched, BuildError> {
    let r = GitRef::parse(source)?;
    let repo = dir.join("checkout");
    std::fs::create_dir_all(&repo).map_err(BuildError::io("creating", &repo))?;
    run(git(&repo).args(["init", "-q"]), "git init", source)?;
    run(
        git(&repo).args(["remote", "add", "origin", "--", &r.remote]),
        "git remote add",
        source,
    )?;
    let want = r.reference.clone().unwrap_or_else(|| "HEAD".to_owned());
    // Shallow first; a server that refuses (a dumb HTTP server, a commit not advertised)
    // gets a full fetch, then the ref is looked up locally as BuildKit does.
    let shallow = run(
        git(&repo).args([
            "fetch",
            "-q",
            "--depth",
            "1",
            "--no-tags",
            "origin",
            "--",
            &want,
        ]),
        "git fetch",
        source,
    );
    let target = if shallow.is_ok() {
        "FETCH_HEAD".to_owned()
    } else {
        run(
            git(&repo).args([
                "fetch",
                "-q",
                "--tags",
                "origin",
                "+refs/heads/*:refs/remotes/origin/*",
            ]),
            "git fetch",
            source,
        )?;
        match &r.reference {
            None => "refs/remotes/origin/HEAD".to_owned(),
            Some(name) => {
                let candidates = [
                    format!("refs/remotes/origin/{name}"),
                    format!("refs/tags/{name}"),
                    name.clone(),
                ];
                candidates
                    .into_iter()
                    .find(|c| {
                        run(
                            git(&repo).args([
                                "rev-parse",
                                "-q",
                                "--verify",
                                &format!("{c}^{{commit}}"),
                            ]),
                            "git rev-parse",
                            source,
                        )
                        .is_ok()
                    })
                    .ok_or_else(|| BuildError::GitFetch {
                        source_url: source.to_owned(),
                        reason: format!("the repository has no branch, tag or commit {name:?}"),
                    })?
            }
        }
    };
    let target = if target == "refs/remotes/origin/HEAD" {
        // A dumb server has no symbolic HEAD on the remote: take its default branch from
        // the remote's HEAD file through ls-remote.
        let head = run(
            git(&repo).args(["ls-remote", "--symref", "origin", "HEAD"]),
            "git ls-remote",
            source,
        )?;
        head.lines()
            .find_map(|l| l.strip_prefix("ref: refs/heads/"))
            .and_then(|l| l.split_whitespace().next())
            .map_or_else(
                || "refs/remotes/origin/master".to_owned(),
                |b| format!("refs/remotes/origin/{b}"),
            )
    } else {
        target
    };
    run(
        git(&repo).args([
            "-c",
            "advice.detachedHead=false",
            "checkout",
            "-q",
            &target,
            "--",
        ]),
        "git checkout",
        source,
    )?;
    let commit = run(
        git(&repo).args(["rev-parse", "HEAD"]),
        "git rev-parse",
        source,
    )?;
    if let Some(sum) = checksum {
        // BuildKit: a Git source's checksum is its commit (a full or abbreviated hash).
        let sum = sum.strip_prefix("sha1:").unwrap_or(sum);
        if sum.len() < 7 || !commit.starts_with(&sum.to_ascii_lowercase()) {
            return Err(BuildError::InvalidFlag {
                flag: "checksum",
                value: sum.to_owned(),
                reason: format!("{source} is at commit {commit}"),
            });
        }
    }
    let time: i64 = run(
        git(&repo).args(["log", "-1", "--format=%ct", "HEAD"]),
        "git log",
        source,
    )?
    .parse()
    .unwrap_or(0);
    if !keep_git_dir {
        let dot = repo.join(".git");
        std::fs::remove_dir_all(&dot).map_err(BuildError::io("removing", &dot))?;
    }
    set_times(&repo, time)?;
    let dir = match &r.subdir {
        Some(s) => {
            let sub = crate::rootfs::resolve(&repo, s, true)
                .map_err(BuildError::io("resolving", s.as_str()))?;
            if !sub.is_dir() {
                return Err(BuildError::GitFetch {
                    source_url: source.to_owned(),
                    reason: format!("the repository has no directory {s:?} at {commit}"),
                });
            }
            sub
        }
        None => repo,
    };
    Ok(Fetched { dir, commit })
}

/// Every file's times set to the commit's, links themselves included.
fn set_times(path: &Path, time: i64) -> Result<(), BuildError> {
    let t = filetime::FileTime::from_unix_time(time, 0);
    let meta = std::fs::symlink_metadata(path).map_err(BuildError::io("reading", path))?;
    if meta.is_dir() {
        for e in std::fs::read_dir(path).map_err(BuildError::io("reading", path))? {
            let e = e.map_err(BuildError::io("reading", path))?;
            set_times(&e.path(), time)?;
        }
    }
    filetime::set_symlink_file_times(path, t, t).map_err(BuildError::io("setting times of", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_sources_are_recognised_and_parsed() {
        for yes in [
            "https://example.com/repo.git",
            "https://example.com/repo.git#main:sub",
            "git@github.com:o/r.git",
            "git://host/r",
            "ssh://git@host/r.git",
        ] {
            assert!(is_git(yes), "{yes}");
        }
        for no in [
            "https://example.com/file.tar.gz",
            "src/",
            "https://h/x.git.tar",
        ] {
            assert!(!is_git(no), "{no}");
        }
        let r = GitRef::parse("https://h/r.git#v1.0:docs/api").unwrap();
        assert_eq!(r.reference.as_deref(), Some("v1.0"));
        assert_eq!(r.subdir.as_deref(), Some("docs/api"));
        let r = GitRef::parse("https://h/r.git#:only-sub").unwrap();
        assert_eq!((r.reference, r.subdir.as_deref()), (None, Some("only-sub")));
        assert!(GitRef::parse("https://h/r.git#main:../out").is_err());
        assert!(GitRef::parse("https://h/r.git#--upload-pack=x").is_err());
    }
}
