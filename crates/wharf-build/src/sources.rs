//! COPY/ADD sources that are not files of the context: heredocs (`COPY <<EOF /f`) and, for
//! ADD, `http(s)://` URLs. Each is written to a file in a staging directory under the store's
//! `tmp/` and then copied like a context file.
//!
//! - A heredoc becomes a file named after its delimiter, mode 0644, mtime 0 (the Unix epoch,
//!   so the layer depends on the Dockerfile alone); unquoted delimiters were expanded by the
//!   planner.
//! - A URL is streamed to disk (never held in memory) while its SHA-256 is computed;
//!   `--checksum=sha256:...` must match. As Docker, the file is named after the URL's last
//!   path segment, gets mode 0600 and the `Last-Modified` time of the response (else the
//!   epoch). Remote archives are not unpacked (Docker's rule).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use filetime::FileTime;
use wharf_dockerfile::instruction::Copy;
use wharf_oci::{Digest, Hasher};
use wharf_registry::Downloader;

use crate::context::Source;
use crate::error::BuildError;

/// Sources written to a staging directory, alive as long as this value.
#[derive(Debug)]
pub(crate) struct Staged {
    _dir: tempfile::TempDir,
    pub sources: Vec<Source>,
    /// Covers the staged files' names, contents and times (for the cache key).
    pub digest: String,
    /// The URLs fetched and the sha256 of what each served (for provenance).
    pub urls: Vec<(String, Digest)>,
}

/// Whether `source` is an ADD URL this engine fetches.
pub(crate) fn is_url(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Whether `source` names a heredoc (`<<EOF`, `<<-EOF`, `<<"EOF"`).
pub(crate) fn is_heredoc(source: &str) -> bool {
    source.starts_with("<<") && source.len() > 2
}

/// Stages the heredoc and URL sources of `c` in a directory under `tmp`; returns `None` when
/// there are none. The other sources are left to the caller.
pub(crate) fn stage(
    c: &Copy,
    add: bool,
    tmp: &Path,
    net: &Downloader,
    ssh_agent: Option<&Path>,
) -> Result<Option<Staged>, BuildError> {
    let wanted: Vec<&String> = c
        .sources
        .iter()
        .filter(|s| is_heredoc(s) || (add && (is_url(s) || crate::git_source::is_git(s))))
        .collect();
    if wanted.is_empty() {
        if c.checksum.is_some() {
            return Err(BuildError::InvalidFlag {
                flag: "checksum",
                value: c.checksum.clone().unwrap_or_default(),
                reason: "only an http(s) source can be verified with --checksum".to_owned(),
            });
        }
        return Ok(None);
    }
    std::fs::create_dir_all(tmp).map_err(BuildError::io("creating", tmp))?;
    let dir = tempfile::Builder::new()
        .prefix("add-")
        .tempdir_in(tmp)
        .map_err(BuildError::io("creating a staging directory in", tmp))?;
    let mut heredocs = c.heredocs.iter();
    let mut sources = Vec::new();
    let mut h = Hasher::sha256();
    let mut urls = Vec::new();
    for (n, s) in wanted.iter().enumerate() {
        // Each source gets its own subdirectory, so two with the same name do not collide.
        let sub = dir.path().join(n.to_string());
        std::fs::create_dir(&sub).map_err(BuildError::io("creating", &sub))?;
        let (name, path, digest) = if is_heredoc(s) {
            let doc = heredocs.next().ok_or_else(|| BuildError::InvalidFlag {
                flag: "heredoc",
                value: (*s).clone(),
                reason: "no heredoc body for this source".to_owned(),
            })?;
            let path = sub.join(&doc.name);
            let body = doc.body();
            std::fs::write(&path, &body).map_err(BuildError::io("writing", &path))?;
            set_mode_mtime(&path, 0o644, 0)?;
            let digest = wharf_oci::digest::sha256(body.as_bytes()).to_string();
            (doc.name.clone(), path, digest)
        } else if crate::git_source::is_git(s) {
            let flags = crate::git_source::AddFlags {
                keep_git_dir: c.keep_git_dir,
                checksum: c.checksum.as_deref(),
                ssh_agent,
            };
            let git = crate::git_source::fetch(s, flags, &sub)?;
            let digest = format!("git {}", git.key);
            let name = git
                .dir
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            (name, git.dir, digest)
        } else {
            let fetched = fetch(s, c.checksum.as_deref(), &sub, net)?;
            let digest = format!("{} mtime {}", fetched.digest, fetched.mtime);
            urls.push(((*s).clone(), fetched.digest.clone()));
            (fetched.name, fetched.path, digest)
        };
        h.update(format!("staged {name} {digest}\n").as_bytes());
        sources.push(Source { rel: name, path });
    }
    Ok(Some(Staged {
        _dir: dir,
        sources,
        digest: h.finish().to_string(),
        urls,
    }))
}

fn set_mode_mtime(path: &Path, mode: u32, mtime: i64) -> Result<(), BuildError> {
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode))
        .map_err(BuildError::io("changing the mode of", path))?;
    let t = FileTime::from_unix_time(mtime, 0);
    filetime::set_file_times(path, t, t).map_err(BuildError::io("setting times of", path))
}

pub(crate) struct Fetched {
    /// The file name (the URL's last path segment).
    pub name: String,
    pub path: PathBuf,
    pub digest: Digest,
    pub mtime: i64,
}

/// The file name Docker gives a downloaded URL: its last path segment.
fn url_file_name(url: &reqwest::Url) -> String {
    url.path_segments()
        .and_then(|mut s| s.next_back().map(str::to_owned))
        .filter(|n| !n.is_empty() && n != "." && n != "..")
        .unwrap_or_else(|| "index.html".to_owned())
}

/// Downloads `url` into `dir` (streamed, hashed, checked against `checksum` when given).
pub(crate) fn fetch(
    url: &str,
    checksum: Option<&str>,
    dir: &Path,
    net: &Downloader,
) -> Result<Fetched, BuildError> {
    let fail = |reason: String| BuildError::Fetch {
        url: url.to_owned(),
        reason,
    };
    let expected = checksum
        .map(|c| {
            wharf_oci::digest::parse(c).map_err(|e| BuildError::InvalidFlag {
                flag: "checksum",
                value: c.to_owned(),
                reason: e.to_string(),
            })
        })
        .transpose()?;
    let parsed = reqwest::Url::parse(url).map_err(|e| fail(e.to_string()))?;
    let name = url_file_name(&parsed);
    let path = dir.join(&name);
    let mut file = std::fs::File::create(&path).map_err(BuildError::io("creating", &path))?;
    let mut h = match &expected {
        Some(d) => Hasher::for_digest(d).map_err(|e| fail(e.to_string()))?,
        None => Hasher::sha256(),
    };
    let got = net
        .get(url, &mut |chunk| {
            h.update(chunk);
            file.write_all(chunk)
        })
        .map_err(|e| BuildError::Download(Box::new(e)))?;
    let (digest, last_modified) = (h.finish(), got.last_modified);
    file.sync_all().map_err(BuildError::io("writing", &path))?;
    drop(file);
    if let Some(e) = expected
        && e != digest
    {
        return Err(BuildError::ChecksumMismatch {
            url: url.to_owned(),
            expected: e,
            actual: digest,
        });
    }
    let mtime = last_modified.unwrap_or(0);
    set_mode_mtime(&path, 0o600, mtime)?;
    Ok(Fetched {
        name,
        path,
        digest,
        mtime,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_kinds() {
        let n = |u: &str| url_file_name(&reqwest::Url::parse(u).unwrap());
        assert_eq!(n("https://example.com/a/b/tool.tar.gz?x=1"), "tool.tar.gz");
        assert_eq!(n("http://example.com/"), "index.html");
        assert!(is_url("HTTPS://x/y"));
        assert!(!is_url("git@github.com:a/b"));
        assert!(is_heredoc("<<EOF") && is_heredoc("<<-\"EOT\""));
        assert!(!is_heredoc("<<") && !is_heredoc("file"));
    }
}
