//! `ADD` of a Git repository, as BuildKit does it: `https://host/repo.git#REF:SUBDIR`,
//! `git://host/repo#REF`, `ssh://…`, `git@host:repo.git`, and BuildKit 0.24's query form
//! `https://host/repo.git?tag=v1&subdir=docs` (keys `ref`, `tag`, `branch`, `subdir`,
//! `checksum`/`commit`, `keep-git-dir`, `submodules`, `mtime`, `fetch-by-commit`, as its
//! `dfgitutil` defines them). The repository is fetched with the `git` program (as BuildKit's
//! git source does) into a staging directory, shallowly where the server allows it, at REF (a
//! branch, a tag or a commit; default the remote's HEAD), with its submodules (unless
//! `submodules=false`), and SUBDIR of the checkout is what ADD copies. `.git` is dropped
//! unless `--keep-git-dir=true` (or `keep-git-dir` in the query); `--checksum=COMMIT` (or
//! `checksum=` in the query) must name the commit fetched. Every file gets the commit's time,
//! so the layer depends on the commit alone: BuildKit's `mtime=commit`, which wharf makes the
//! default (BuildKit's default keeps the checkout's times, which `mtime=checkout` asks for).
//!
//! Over ssh (`git@host:…`, `ssh://…`) git authenticates with the build's `--ssh default`
//! agent, as BuildKit forwards its `default` ssh socket to its git source; without one the
//! fetch is refused before git runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::BuildError;

/// Whether `source` is a Git repository ADD fetches (BuildKit's `gitutil` rules: a `git@`
/// or `git://`/`ssh://` address, or an http(s) URL whose path ends in `.git`; a query and
/// a fragment do not count).
pub(crate) fn is_git(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    if is_scp_like(source) || lower.starts_with("git://") || lower.starts_with("ssh://") {
        return true;
    }
    let without_fragment = lower.split('#').next().unwrap_or_default();
    let path = without_fragment.split('?').next().unwrap_or_default();
    (path.starts_with("http://") || path.starts_with("https://"))
        && Path::new(path.trim_end_matches('/'))
            .extension()
            .is_some_and(|e| e == "git")
}

/// An scp-like ssh address, `USER@HOST:PATH` (BuildKit's `sshutil.IsImplicitSSHTransport`:
/// the user of letters, digits, `-`, `_`; the host of letters, digits, `-`, `.`).
fn is_scp_like(source: &str) -> bool {
    let Some((user, rest)) = source.split_once('@') else {
        return false;
    };
    let Some((host, _)) = rest.split_once(':') else {
        return false;
    };
    !user.is_empty()
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// Whether git reaches `remote` over ssh (and so needs an agent).
pub(crate) fn is_ssh(remote: &str) -> bool {
    remote.to_ascii_lowercase().starts_with("ssh://") || is_scp_like(remote)
}

/// `mtime=` of the query form: which times the files get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mtime {
    /// The commit's time (wharf's default: the layer depends on the commit alone).
    Commit,
    /// The times the checkout gave them.
    Checkout,
}

/// A parsed Git source: the remote, the ref, the subdirectory and the query's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GitRef {
    pub remote: String,
    pub reference: Option<String>,
    pub subdir: Option<String>,
    /// `checksum=`/`commit=`: the commit the ref must be at.
    pub checksum: Option<String>,
    pub keep_git_dir: Option<bool>,
    pub submodules: Option<bool>,
    pub mtime: Option<Mtime>,
    /// `fetch-by-commit`: fetch the checksum's commit itself rather than the ref.
    pub fetch_by_commit: bool,
}

/// `%XX` escapes and `+` of a query component (`application/x-www-form-urlencoded`, as Go's
/// `url.ParseQuery`).
fn unescape(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'%' => {
                let hex = [bytes.next()?, bytes.next()?];
                let hex = std::str::from_utf8(&hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
            }
            b'+' => out.push(b' '),
            _ => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

impl GitRef {
    pub(crate) fn parse(source: &str) -> Result<Self, BuildError> {
        let (remote, fragment) = match source.split_once('#') {
            Some((r, f)) => (r, Some(f)),
            None => (source, None),
        };
        let (remote, query) = match remote.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (remote, None),
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
        let mut r = Self {
            remote: remote.to_owned(),
            reference: nonempty(reference),
            subdir: nonempty(subdir),
            checksum: None,
            keep_git_dir: None,
            submodules: None,
            mtime: None,
            fetch_by_commit: false,
        };
        if let Some(q) = query {
            r.load_query(q).map_err(|reason| bad(&reason))?;
        }
        if r.reference.as_deref().is_some_and(|r| r.starts_with('-'))
            || r.checksum.as_deref().is_some_and(|r| r.starts_with('-'))
        {
            return Err(bad("a ref cannot start with '-'"));
        }
        if r.subdir
            .as_deref()
            .is_some_and(|s| s.split('/').any(|p| p == ".."))
        {
            return Err(bad("the subdirectory must stay inside the repository"));
        }
        Ok(r)
    }

    /// BuildKit's `loadQuery`: each key once, known keys only, `tag`/`branch` as full refs,
    /// no conflict with the fragment's ref or subdirectory.
    fn load_query(&mut self, query: &str) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        let (mut tag, mut branch) = (None, None);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (Some(k), Some(v)) = (unescape(k), unescape(v)) else {
                return Err(format!("the query part {pair:?} is not valid URL encoding"));
            };
            if !seen.insert(k.clone()) {
                return Err(format!("query {k:?} has multiple values"));
            }
            let flag = |v: &str| -> Result<bool, String> {
                match v {
                    "" | "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
                    "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
                    _ => Err(format!("invalid {k} value: {v:?} (true or false)")),
                }
            };
            if v.is_empty()
                && !matches!(
                    k.as_str(),
                    "submodules" | "keep-git-dir" | "fetch-by-commit"
                )
            {
                return Err(format!("query {k:?} has no value"));
            }
            match k.as_str() {
                "ref" => {
                    if self.reference.as_ref().is_some_and(|r| *r != v) {
                        return Err(format!(
                            "ref conflicts: {:?} vs {v:?}",
                            self.reference.as_deref().unwrap_or_default()
                        ));
                    }
                    self.reference = Some(v);
                }
                "tag" => tag = Some(v),
                "branch" => branch = Some(v),
                "subdir" => {
                    if self.subdir.as_ref().is_some_and(|s| *s != v) {
                        return Err(format!(
                            "subdir conflicts: {:?} vs {v:?}",
                            self.subdir.as_deref().unwrap_or_default()
                        ));
                    }
                    self.subdir = Some(v);
                }
                "checksum" | "commit" => self.checksum = Some(v),
                "keep-git-dir" => self.keep_git_dir = Some(flag(&v)?),
                "submodules" => self.submodules = Some(flag(&v)?),
                "fetch-by-commit" => self.fetch_by_commit = flag(&v)?,
                "mtime" => {
                    self.mtime = Some(match v.as_str() {
                        "commit" => Mtime::Commit,
                        "checkout" => Mtime::Checkout,
                        _ => {
                            return Err(format!(
                                "invalid mtime value: {v:?} (must be \"checkout\" or \"commit\")"
                            ));
                        }
                    });
                }
                _ => {
                    return Err(format!(
                        "unexpected query {k:?} (known: ref, tag, branch, subdir, checksum, \
                         commit, keep-git-dir, submodules, mtime, fetch-by-commit)"
                    ));
                }
            }
        }
        if tag.is_some() && branch.is_some() {
            return Err("branch conflicts with tag".to_owned());
        }
        for (name, prefix) in [(tag, "refs/tags/"), (branch, "refs/heads/")] {
            let Some(name) = name else { continue };
            let full = if name.starts_with(prefix) {
                name
            } else {
                format!("{prefix}{name}")
            };
            if self.reference.as_ref().is_some_and(|r| *r != full) {
                return Err(format!(
                    "ref conflicts: {:?} vs {full:?}",
                    self.reference.as_deref().unwrap_or_default()
                ));
            }
            self.reference = Some(full);
        }
        if self.fetch_by_commit && self.checksum.is_none() {
            return Err("fetch-by-commit needs checksum=COMMIT".to_owned());
        }
        Ok(())
    }
}

/// What ADD's flags add to a Git source (BuildKit: they must agree with its query).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AddFlags<'a> {
    /// `--keep-git-dir`.
    pub keep_git_dir: Option<bool>,
    /// `--checksum`.
    pub checksum: Option<&'a str>,
    /// The build's `--ssh default` agent socket, for ssh remotes.
    pub ssh_agent: Option<&'a Path>,
}

/// What [`fetch`] staged.
pub(crate) struct Fetched {
    /// The directory ADD copies (the checkout, or its subdirectory).
    pub dir: PathBuf,
    /// Everything that decides the staged tree (commit, subdirectory, options), for the
    /// cache key.
    pub key: String,
}

fn git(dir: &Path, agent: Option<&Path>) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        // Never a prompt (no terminal in a build), never the user's or system's aliases and
        // hooks changing what is fetched.
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_ASKPASS", "true")
        // BuildKit's ssh for its git source: no user configuration, the host key not
        // checked (a Dockerfile cannot give known hosts); nothing written to the user's
        // known_hosts either. Authentication is the build's agent only.
        .env(
            "GIT_SSH_COMMAND",
            "ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
             -o BatchMode=yes",
        )
        .env_remove("SSH_AUTH_SOCK")
        .args([
            "-c",
            "protocol.file.allow=never",
            "-c",
            "core.hooksPath=/dev/null",
        ]);
    if let Some(sock) = agent {
        cmd.env("SSH_AUTH_SOCK", sock);
    }
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
pub(crate) fn fetch(source: &str, flags: AddFlags<'_>, dir: &Path) -> Result<Fetched, BuildError> {
    let r = GitRef::parse(source)?;
    let keep_git_dir = match (flags.keep_git_dir, r.keep_git_dir) {
        (Some(a), Some(b)) if a != b => {
            return Err(BuildError::InvalidFlag {
                flag: "keep-git-dir",
                value: a.to_string(),
                reason: format!(
                    "inconsistent keep-git-dir configuration: {source} asks for keep-git-dir={b}"
                ),
            });
        }
        (a, b) => a.or(b).unwrap_or(false),
    };
    let checksum = match (flags.checksum, r.checksum.as_deref()) {
        (Some(a), Some(b)) if a != b => {
            return Err(BuildError::InvalidFlag {
                flag: "checksum",
                value: a.to_owned(),
                reason: format!("checksum mismatch: {source} asks for checksum={b}"),
            });
        }
        (a, b) => a.or(b),
    };
    let submodules = r.submodules.unwrap_or(true);
    let mtime = r.mtime.unwrap_or(Mtime::Commit);
    let agent = if is_ssh(&r.remote) {
        // BuildKit mounts the client's `default` ssh socket for its git source and fails
        // without one ("no SSH key \"default\" forwarded from the client").
        Some(flags.ssh_agent.ok_or_else(|| {
            BuildError::GitFetch {
                source_url: source.to_owned(),
                reason: "no SSH agent forwarded for this ssh remote; hint: start an agent with \
                     the key (ssh-agent, ssh-add) and pass --ssh default (or --ssh \
                     default=SOCKET) to kiln build, as BuildKit requires"
                    .to_owned(),
            }
        })?)
    } else {
        None
    };
    let git = |d: &Path| git(d, agent);
    let repo = dir.join("checkout");
    std::fs::create_dir_all(&repo).map_err(BuildError::io("creating", &repo))?;
    run(git(&repo).args(["init", "-q"]), "git init", source)?;
    run(
        git(&repo).args(["remote", "add", "origin", "--", &r.remote]),
        "git remote add",
        source,
    )?;
    let want = if r.fetch_by_commit {
        // `fetch-by-commit`: the commit itself is fetched (the ref's current head is not
        // compared); `checksum` is that commit.
        checksum.map(str::to_owned)
    } else {
        r.reference.clone()
    }
    .unwrap_or_else(|| "HEAD".to_owned());
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
        if want == "HEAD" {
            "refs/remotes/origin/HEAD".to_owned()
        } else {
            let name = &want;
            // A full ref (`?branch=`/`?tag=` give refs/heads/X, refs/tags/X) maps to where
            // the fetch put it.
            let candidates = match name.strip_prefix("refs/heads/") {
                Some(b) => vec![format!("refs/remotes/origin/{b}")],
                None if name.starts_with("refs/") => vec![name.clone()],
                None => vec![
                    format!("refs/remotes/origin/{name}"),
                    format!("refs/tags/{name}"),
                    name.clone(),
                ],
            };
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
    if submodules && repo.join(".gitmodules").is_file() {
        // BuildKit checks submodules out by default (`submodules=false` skips them); their
        // URLs come from the repository, so the same protocol rules apply (no `file://`).
        run(
            git(&repo).args([
                "submodule",
                "update",
                "-q",
                "--init",
                "--recursive",
                "--depth",
                "1",
            ]),
            "git submodule update",
            source,
        )?;
    }
    let time: i64 = run(
        git(&repo).args(["log", "-1", "--format=%ct", "HEAD"]),
        "git log",
        source,
    )?
    .parse()
    .unwrap_or(0);
    if !keep_git_dir {
        remove_git_dirs(&repo, true)?;
    }
    if mtime == Mtime::Commit {
        set_times(&repo, time)?;
    }
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
    let key = format!(
        "{commit} subdir {:?} keep-git-dir {keep_git_dir} submodules {submodules} mtime {:?}{}",
        r.subdir.as_deref().unwrap_or_default(),
        mtime,
        // Checkout times are the time of the fetch: never the same tree twice.
        if mtime == Mtime::Checkout {
            format!(" at {:?}", std::time::SystemTime::now())
        } else {
            String::new()
        }
    );
    Ok(Fetched { dir, key })
}

/// Removes `.git` of the checkout and of its submodules (a `.git` file there).
fn remove_git_dirs(dir: &Path, top: bool) -> Result<(), BuildError> {
    let dot = dir.join(".git");
    match std::fs::symlink_metadata(&dot) {
        Ok(m) if m.is_dir() => {
            std::fs::remove_dir_all(&dot).map_err(BuildError::io("removing", &dot))?;
        }
        Ok(_) if !top => std::fs::remove_file(&dot).map_err(BuildError::io("removing", &dot))?,
        _ => {}
    }
    for e in std::fs::read_dir(dir).map_err(BuildError::io("reading", dir))? {
        let e = e.map_err(BuildError::io("reading", dir))?;
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            remove_git_dirs(&e.path(), false)?;
        }
    }
    Ok(())
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

    /// BuildKit 0.24's query form (`dfgitutil.loadQuery`).
    #[test]
    fn the_query_form_follows_buildkit() {
        assert!(is_git("https://h/r.git?tag=v1&subdir=docs"));
        assert!(is_git("http://h/r.git?ref=main#:sub"));
        assert!(!is_git("https://h/file.tar.gz?x=r.git"));
        let r = GitRef::parse("https://h/r.git?tag=v1.0&subdir=docs%2Fapi").unwrap();
        assert_eq!(r.remote, "https://h/r.git");
        assert_eq!(r.reference.as_deref(), Some("refs/tags/v1.0"));
        assert_eq!(r.subdir.as_deref(), Some("docs/api"));
        let r = GitRef::parse("https://h/r.git?branch=dev&keep-git-dir&submodules=false").unwrap();
        assert_eq!(r.reference.as_deref(), Some("refs/heads/dev"));
        assert_eq!((r.keep_git_dir, r.submodules), (Some(true), Some(false)));
        let r = GitRef::parse("git@h:o/r.git?ref=pull/42/head&checksum=abcdef1#:sub").unwrap();
        assert_eq!(r.remote, "git@h:o/r.git");
        assert_eq!(r.reference.as_deref(), Some("pull/42/head"));
        assert_eq!(r.checksum.as_deref(), Some("abcdef1"));
        assert_eq!(r.subdir.as_deref(), Some("sub"));
        let r = GitRef::parse("https://h/r.git?commit=abcdef1&fetch-by-commit=true&mtime=checkout")
            .unwrap();
        assert!(r.fetch_by_commit && r.mtime == Some(Mtime::Checkout));
        // The fragment and the query may say the same thing, never two.
        assert!(GitRef::parse("https://h/r.git?ref=main#main").is_ok());
        for (bad, why) in [
            ("https://h/r.git?ref=a#b", "ref conflicts"),
            (
                "https://h/r.git?tag=a&branch=b",
                "branch conflicts with tag",
            ),
            ("https://h/r.git?subdir=a#:b", "subdir conflicts"),
            ("https://h/r.git?ref=a&ref=b", "multiple values"),
            ("https://h/r.git?ref=", "no value"),
            ("https://h/r.git?colour=red", "unexpected query"),
            ("https://h/r.git?keep-git-dir=maybe", "invalid keep-git-dir"),
            ("https://h/r.git?mtime=now", "invalid mtime"),
            ("https://h/r.git?subdir=../x", "inside the repository"),
            (
                "https://h/r.git?ref=--upload-pack=x",
                "cannot start with '-'",
            ),
            ("https://h/r.git?fetch-by-commit", "needs checksum"),
            ("https://h/r.git?ref=%zz", "URL encoding"),
        ] {
            let e = GitRef::parse(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn ssh_remotes_are_recognised() {
        for yes in [
            "git@h:r.git",
            "ssh://git@h:22/r.git",
            "SSH://h/r",
            "root@127.0.0.1:/srv/r",
        ] {
            assert!(is_ssh(yes), "{yes}");
        }
        for no in [
            "https://u@h/r.git",
            "git://h/r",
            "http://h/r.git",
            "a b@h:r",
            "@h:r",
            "u@:r",
        ] {
            assert!(!is_ssh(no), "{no}");
        }
    }
}
