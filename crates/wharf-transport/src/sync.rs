//! `sync`, as skopeo-sync(1): every image of a repository, a directory tree or a YAML list is
//! copied to a registry or a directory, one destination per source `image:tag`.
//!
//! Destination names follow skopeo: a registry image `HOST/PATH/NAME:TAG` goes to
//! `DEST/NAME:TAG` (`DEST/HOST/PATH/NAME:TAG` with `scoped`); a `dir` image goes to
//! `DEST/<its path below the source directory>` (its last component unless `scoped`). A
//! repository named without tag or digest is synced with all its tags. A directory destination
//! that already exists is refused, as skopeo does.
//!
//! [`plan`] lists what would be copied (the registry is asked for tags, nothing is written);
//! [`sync`] copies the plan's images one after the other.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use wharf_oci::{Digest, Reference};
use wharf_registry::{ClientOptions, Credentials, RegistryClient};

use crate::copy::{CopyOptions, copy};
use crate::dest::Destination;
use crate::error::{Result, TransportError};
use crate::reference::ImageRef;
use crate::source::Source;
use crate::sync_config::{self, RegistrySync, SemverFilter};

/// `--src`: where the images come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncSource {
    /// A repository (all tags) or one image on a registry.
    Docker,
    /// A directory tree holding `dir:` images.
    Dir,
    /// A YAML file in skopeo-sync(1)'s format.
    Yaml,
}

/// `--dest`: where the images go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncDest {
    /// A registry, optionally with a repository prefix (`HOST[/PATH]`).
    Docker,
    /// A directory; one `dir:` image per source image below it.
    Dir,
}

impl SyncSource {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "docker" => Some(Self::Docker),
            "dir" => Some(Self::Dir),
            "yaml" => Some(Self::Yaml),
            _ => None,
        }
    }
}

impl SyncDest {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "docker" => Some(Self::Docker),
            "dir" => Some(Self::Dir),
            _ => None,
        }
    }
}

/// Options of [`plan`] and [`sync`].
#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// Keep the source's full path (registry host included) below the destination.
    pub scoped: bool,
    /// Appended to every destination name (`--append-suffix`).
    pub append_suffix: String,
    /// Copy nothing; report what would be copied.
    pub dry_run: bool,
    /// Go on after an image fails, and fail at the end.
    pub keep_going: bool,
    pub copy: CopyOptions,
}

/// One image to copy, with the options to read it with (a YAML registry has its own).
#[derive(Debug, Clone)]
pub struct SyncImage {
    pub source: ImageRef,
    pub source_options: Arc<ClientOptions>,
    pub destination: ImageRef,
    /// The YAML registry's `referrers:` (`None`: the command line's `--referrers`).
    pub referrers: Option<bool>,
}

/// What a sync will copy.
#[derive(Debug, Default)]
pub struct SyncPlan {
    pub images: Vec<SyncImage>,
    /// Repositories or directories the images came from.
    pub sources: usize,
    /// Repositories of a YAML file whose images could not be listed (only with `keep_going`;
    /// without it the first such error ends [`plan`]), each a [`TransportError::SyncPlan`].
    pub failed: Vec<TransportError>,
}

/// What happens, in order, while [`sync`] works.
#[derive(Debug)]
pub enum SyncEvent<'a> {
    /// Image `n` of `total` is about to be copied (or would be, on a dry run).
    Copying {
        n: usize,
        total: usize,
        from: &'a ImageRef,
        to: &'a ImageRef,
        dry_run: bool,
    },
    /// The image failed and `keep_going` is set.
    Failed {
        from: &'a ImageRef,
        error: &'a TransportError,
    },
}

/// What a sync did.
#[derive(Debug, Default)]
pub struct SyncReport {
    /// The digest written and where, for each image copied.
    pub synced: Vec<(Digest, ImageRef)>,
    /// Images that failed (only with `keep_going`).
    pub failed: Vec<(ImageRef, TransportError)>,
}

fn invalid(location: impl Into<String>, what: impl Into<String>) -> TransportError {
    TransportError::Invalid {
        location: location.into(),
        what: what.into(),
    }
}

/// Lists the images to sync and names their destinations. Asks registries for tags; writes
/// nothing.
pub async fn plan(
    from: SyncSource,
    source: &str,
    to: SyncDest,
    destination: &str,
    source_options: &ClientOptions,
    opts: &SyncOptions,
) -> Result<SyncPlan> {
    if from == SyncSource::Dir && to == SyncDest::Dir {
        return Err(invalid(
            "sync",
            "sync from dir to dir is not implemented (hint: use rsync)",
        ));
    }
    let src_opts = Arc::new(source_options.clone());
    let keep_going = opts.keep_going;
    // (source image, destination suffix before scoping, options, its YAML `referrers:`)
    let mut found: Vec<(ImageRef, String, Arc<ClientOptions>, Option<bool>)> = Vec::new();
    let mut sources = 0;
    let mut failed = Vec::new();
    match from {
        SyncSource::Docker => {
            let name = source.strip_prefix("docker://").unwrap_or(source);
            let r = Reference::parse(name).map_err(|e| TransportError::BadReference {
                input: source.to_owned(),
                why: e.to_string(),
            })?;
            let refs = if r.tag.is_some() || r.digest.is_some() {
                vec![r]
            } else {
                let refs = all_tags(&r, &src_opts).await?;
                if refs.is_empty() {
                    return Err(TransportError::NotFound {
                        what: "any image to sync".into(),
                        location: source.to_owned(),
                    });
                }
                refs
            };
            sources = 1;
            for r in refs {
                found.push((
                    ImageRef::Docker(r.clone()),
                    r.to_string(),
                    src_opts.clone(),
                    None,
                ));
            }
        }
        SyncSource::Dir => {
            let base = Path::new(source);
            let images = dir_images(base)?;
            if images.is_empty() {
                return Err(TransportError::NotFound {
                    what: "any image to sync".into(),
                    location: source.to_owned(),
                });
            }
            sources = 1;
            for path in images {
                let rel = path.strip_prefix(base).unwrap_or(&path);
                let suffix = if rel.as_os_str().is_empty() {
                    base_name(base)
                } else {
                    rel.to_string_lossy().into_owned()
                };
                found.push((ImageRef::Dir { path }, suffix, src_opts.clone(), None));
            }
        }
        SyncSource::Yaml => {
            let path = Path::new(source);
            for (registry, cfg) in sync_config::load(path)? {
                let opts = Arc::new(registry_options(source_options, &cfg));
                let listed = yaml_images(source, &registry, &cfg, &opts).await;
                for listing in listed {
                    let refs = match listing {
                        Ok(refs) => refs,
                        Err(e) if keep_going => {
                            failed.push(e);
                            continue;
                        }
                        Err(e) => return Err(e),
                    };
                    if refs.is_empty() {
                        continue;
                    }
                    sources += 1;
                    for r in refs {
                        found.push((
                            ImageRef::Docker(r.clone()),
                            r.to_string(),
                            opts.clone(),
                            cfg.referrers,
                        ));
                    }
                }
            }
        }
    }
    let mut images = Vec::with_capacity(found.len());
    for (src, suffix, source_options, referrers) in found {
        // With referrers copied, the tag-schema fallback indexes (`sha256-<hex>` tags) are
        // not images to sync: the referrers copy writes them at the destination.
        if referrers.unwrap_or(opts.copy.referrers)
            && let ImageRef::Docker(r) = &src
            && r.tag.as_deref().is_some_and(is_referrers_tag)
        {
            continue;
        }
        let suffix = if opts.scoped {
            suffix
        } else {
            last_component(&suffix).to_owned()
        };
        let name = format!("{}{}", join(destination, &suffix), opts.append_suffix);
        let destination = match to {
            SyncDest::Docker => ImageRef::parse(&format!("docker://{name}"))?,
            SyncDest::Dir => {
                let path = PathBuf::from(name);
                if path.exists() {
                    return Err(invalid(
                        path.display().to_string(),
                        "refusing to overwrite an existing destination directory",
                    ));
                }
                ImageRef::Dir { path }
            }
        };
        images.push(SyncImage {
            source: src,
            source_options,
            destination,
            referrers,
        });
    }
    Ok(SyncPlan {
        images,
        sources,
        failed,
    })
}

/// Copies every image of `plan` (nothing on a dry run), reporting each through `on`.
pub async fn sync(
    plan: &SyncPlan,
    destination_options: &ClientOptions,
    opts: &SyncOptions,
    on: &(dyn Fn(&SyncEvent<'_>) + Send + Sync),
) -> Result<SyncReport> {
    let mut report = SyncReport::default();
    let total = plan.images.len();
    for (i, img) in plan.images.iter().enumerate() {
        on(&SyncEvent::Copying {
            n: i + 1,
            total,
            from: &img.source,
            to: &img.destination,
            dry_run: opts.dry_run,
        });
        if opts.dry_run {
            continue;
        }
        let result = async {
            let src = Source::open(&img.source, &img.source_options, None)?;
            let dst = Destination::open(&img.destination, destination_options, None)?;
            match img.referrers {
                Some(referrers) => {
                    let o = CopyOptions {
                        referrers,
                        ..opts.copy.clone()
                    };
                    copy(&src, &dst, &o).await
                }
                None => copy(&src, &dst, &opts.copy).await,
            }
        }
        .await;
        match result {
            Ok(r) => {
                if let Some(d) = r.manifest_digest {
                    report.synced.push((d, img.destination.clone()));
                }
            }
            Err(error) if opts.keep_going => {
                on(&SyncEvent::Failed {
                    from: &img.source,
                    error: &error,
                });
                report.failed.push((img.source.clone(), error));
            }
            Err(error) => {
                return Err(TransportError::Sync {
                    from: img.source.to_string(),
                    to: img.destination.to_string(),
                    source: Box::new(error),
                });
            }
        }
    }
    Ok(report)
}

/// Whether `tag` is a referrers fallback tag (`sha256-` and 64 lowercase hex digits).
fn is_referrers_tag(tag: &str) -> bool {
    tag.strip_prefix("sha256-").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The options for one registry of a YAML file: its own TLS, certificates and credentials
/// where it sets them, the command line's otherwise.
fn registry_options(base: &ClientOptions, cfg: &RegistrySync) -> ClientOptions {
    let mut o = base.clone();
    if let Some(v) = cfg.tls_verify {
        o.tls_verify = Some(v);
    }
    if let Some(d) = &cfg.cert_dir {
        o.cert_dir = Some(d.clone());
    }
    if let Some(c) = &cfg.credentials
        && !(c.username.is_empty() && c.password.is_empty())
    {
        o.creds = Some(Credentials::new(c.username.clone(), c.password.clone()));
        o.anonymous = false;
    }
    o
}

/// A repository named by `REGISTRY/NAME` in a YAML file; refused if it has a tag or digest.
fn yaml_repository(file: &str, registry: &str, name: &str) -> Result<Reference> {
    let input = format!("{registry}/{name}");
    let r = Reference::parse(&input).map_err(|e| TransportError::BadReference {
        input: format!("{file}: {input}"),
        why: e.to_string(),
    })?;
    if r.tag.is_some() || r.digest.is_some() {
        return Err(TransportError::BadReference {
            input: format!("{file}: {input}"),
            why: "names an image, not a repository (list tags under it)".into(),
        });
    }
    Ok(r)
}

/// The images one registry entry of a YAML file names, one list per repository (`images`
/// first, then `images-by-tag-regex`, then `images-by-semver`); a repository whose images
/// cannot be listed (bad name, unreachable, unknown, bad pattern) is an error of its own,
/// naming it, so that the others can still be synced.
async fn yaml_images(
    file: &str,
    registry: &str,
    cfg: &RegistrySync,
    opts: &ClientOptions,
) -> Vec<Result<Vec<Reference>>> {
    let mut out = Vec::new();
    let named = |name: &str, r: Result<Vec<Reference>>| {
        r.map_err(|e| TransportError::SyncPlan {
            image: format!("{registry}/{name}"),
            source: Box::new(e),
        })
    };
    for (name, refs) in &cfg.images {
        let listed = async {
            let repo = yaml_repository(file, registry, name)?;
            match refs.as_deref() {
                None | Some([]) => all_tags(&repo, opts).await,
                Some(list) => list
                    .iter()
                    .map(|t| with_tag_or_digest(file, &repo, t))
                    .collect::<Result<_>>(),
            }
        };
        out.push(named(name, listed.await));
    }
    for (name, pattern) in &cfg.images_by_tag_regex {
        let listed = async {
            let repo = yaml_repository(file, registry, name)?;
            let re = regex::Regex::new(pattern).map_err(|e| {
                invalid(
                    format!("{file}: {registry}: images-by-tag-regex: {name}"),
                    format!("bad regular expression {pattern:?}: {e}"),
                )
            })?;
            Ok(all_tags(&repo, opts)
                .await?
                .into_iter()
                .filter(|r| r.tag.as_deref().is_some_and(|t| re.is_match(t)))
                .collect())
        };
        out.push(named(name, listed.await));
    }
    for (name, constraint) in &cfg.images_by_semver {
        let listed = async {
            let repo = yaml_repository(file, registry, name)?;
            let filter = SemverFilter::parse(constraint).map_err(|e| {
                invalid(
                    format!("{file}: {registry}: images-by-semver: {name}"),
                    format!("bad version constraint {e}"),
                )
            })?;
            Ok(all_tags(&repo, opts)
                .await?
                .into_iter()
                .filter(|r| r.tag.as_deref().is_some_and(|t| filter.matches(t)))
                .collect())
        };
        out.push(named(name, listed.await));
    }
    out
}

fn with_tag_or_digest(file: &str, repo: &Reference, t: &str) -> Result<Reference> {
    let sep = if t.contains(':') { '@' } else { ':' };
    let input = format!("{}{sep}{t}", repo.name());
    Reference::parse(&input).map_err(|e| TransportError::BadReference {
        input: format!("{file}: {input}"),
        why: e.to_string(),
    })
}

/// Every tag of a repository, as references.
async fn all_tags(repo: &Reference, opts: &ClientOptions) -> Result<Vec<Reference>> {
    let client = RegistryClient::new(&repo.registry, opts)?;
    let tags = client.list_tags(&repo.repository, None).await?;
    Ok(tags
        .into_iter()
        .map(|t| Reference {
            tag: Some(t),
            digest: None,
            ..repo.clone()
        })
        .collect())
}

/// The `dir:` images below `base`: every directory holding a `manifest.json` (not searched
/// further), in name order.
fn dir_images(base: &Path) -> Result<Vec<PathBuf>> {
    if !base.is_dir() {
        return Err(TransportError::NotFound {
            what: "source directory".into(),
            location: base.display().to_string(),
        });
    }
    let mut out = Vec::new();
    let mut walk = walkdir::WalkDir::new(base)
        .sort_by_file_name()
        .follow_links(false)
        .into_iter();
    while let Some(entry) = walk.next() {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(base).to_owned();
            TransportError::Io {
                op: "reading",
                path,
                source: e.into(),
            }
        })?;
        if entry.file_type().is_dir() && entry.path().join("manifest.json").is_file() {
            out.push(entry.path().to_owned());
            walk.skip_current_dir();
        }
    }
    Ok(out)
}

fn base_name(p: &Path) -> String {
    p.components()
        .rev()
        .find_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .unwrap_or_default()
}

fn last_component(s: &str) -> &str {
    let s = s.trim_end_matches('/');
    s.rsplit('/').next().unwrap_or(s)
}

/// `a/b` with Go's `path.Join` clean-up: no empty or `.` components, `..` folded.
fn join(a: &str, b: &str) -> String {
    let absolute = a.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for p in a.split('/').chain(b.split('/')) {
        match p {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_as_go_path_join() {
        assert_eq!(
            join("my-registry.local.lan/test/", "busybox:1"),
            "my-registry.local.lan/test/busybox:1"
        );
        assert_eq!(
            join("/media/usb", "/busybox:1-glibc"),
            "/media/usb/busybox:1-glibc"
        );
        assert_eq!(join("a/./b/", "../c"), "a/c");
        assert_eq!(join("/", "x"), "/x");
        assert_eq!(
            last_component("registry.example.com/busybox:1"),
            "busybox:1"
        );
        assert_eq!(last_component("redis@sha256:00"), "redis@sha256:00");
        assert_eq!(
            base_name(Path::new("/media/usb/busybox:1-glibc/")),
            "busybox:1-glibc"
        );
    }
}
