//! The inputs of COPY, ADD and `RUN --mount`: sources from the context, a stage, an image or
//! a URL, hashed into the digest that keys the step's cache entry, and the copy itself.

use std::path::Path;

use wharf_dockerfile::instruction::Copy;
use wharf_oci::config::ContainerConfig;

use super::StageBuilder;
use crate::config;
use crate::container::{DeferredCopy, WorkingContainer};
use crate::context::{self, Source};
use crate::copy::{self, CopySpec};
use crate::error::BuildError;
use crate::mounts::{self, FromRoot};
use crate::rootfs;
use crate::{copy_flags, sources};

/// The sources of a COPY/ADD and the digest that keys them.
pub(super) struct CopyInputs {
    pub(super) sources: Vec<Source>,
    pub(super) digest: String,
    /// For `--from`: the container holding the stage's or image's files.
    pub(super) from: Option<WorkingContainer>,
    /// Heredoc and URL sources, written to files.
    pub(super) staged: Option<sources::Staged>,
    /// For `--parents`, one per source: the leading directories its `/./` pivot drops
    /// (relative like [`Source::rel`]; empty without a pivot).
    pub(super) pivots: Vec<String>,
    /// `--from=NAME` of a `--build-context NAME=DIR`: that context, with its ignore file.
    pub(super) named: Option<crate::context::Context>,
}

impl StageBuilder<'_> {
    /// The tree of a stage (other than `stage`) or image named by `--from`/`from=`.
    pub(super) fn root_of(&mut self, stage: usize, from: &str) -> Result<FromRoot, BuildError> {
        // `--build-context NAME=docker-image://REF` stands for REF, over a stage of that name.
        let image;
        let from = match self.named_context(from) {
            Some(crate::NamedContext::Image(r)) => {
                image = r;
                return self.image_root(stage, &image);
            }
            Some(crate::NamedContext::Dir(_)) => {
                return Err(BuildError::Unsupported {
                    what: format!(
                        "the build context {from:?} (a directory) as a RUN --mount from=: use it with COPY --from"
                    ),
                });
            }
            None => from,
        };
        let (layers, identity) = match self.plan.stage(from).map(|s| s.index) {
            Some(i) if i != stage => {
                let r = self.build_stage(i)?;
                (r.layers, r.key.to_string())
            }
            _ => {
                // An image named by `--from` is taken for the platform of the stage using it.
                let platform = self.stage_platform(stage)?;
                let (_, layers, id) = self.load_image(from, platform.as_ref())?;
                (layers, id.to_string())
            }
        };
        Ok(FromRoot {
            container: self.container(&layers)?,
            identity,
        })
    }

    /// The `--build-context` named `name`, if any.
    pub(super) fn named_context(&self, name: &str) -> Option<crate::NamedContext> {
        self.opts.build_contexts.get(name).cloned()
    }

    /// The tree of the image `reference`, for the platform of `stage`.
    fn image_root(&mut self, stage: usize, reference: &str) -> Result<FromRoot, BuildError> {
        let platform = self.stage_platform(stage)?;
        let (_, layers, id) = self.load_image(reference, platform.as_ref())?;
        Ok(FromRoot {
            container: self.container(&layers)?,
            identity: id.to_string(),
        })
    }

    /// Resolves the `--mount`s of a RUN (stages and images of bind mounts built or pulled).
    pub(super) fn run_mounts(
        &mut self,
        stage: usize,
        r: &wharf_dockerfile::instruction::Run,
    ) -> Result<mounts::Planned, BuildError> {
        let mut froms = Vec::new();
        for m in &r.mounts {
            froms.push(match (&m.kind, &m.from) {
                (
                    wharf_dockerfile::mount::MountType::Bind
                    | wharf_dockerfile::mount::MountType::Cache,
                    Some(f),
                ) => Some(self.root_of(stage, f)?),
                _ => None,
            });
        }
        mounts::plan(r, &self.context, &self.opts.run, froms)
    }

    pub(super) fn copy_inputs(
        &mut self,
        stage: usize,
        c: &Copy,
        add: bool,
    ) -> Result<CopyInputs, BuildError> {
        if add
            && let Some(u) = c
                .sources
                .iter()
                .find(|s| s.contains("://") && !sources::is_url(s) && !crate::git_source::is_git(s))
        {
            return Err(BuildError::Unsupported {
                what: format!("ADD of the remote source {u:?}"),
            });
        }
        let named = match c.from.as_deref().and_then(|f| self.named_context(f)) {
            Some(crate::NamedContext::Dir(dir)) => Some(crate::context::Context::open(&dir, None)?),
            _ => None,
        };
        let from = c.from.as_ref().filter(|_| named.is_none());
        let Some(from) = from else {
            let context = named.as_ref().unwrap_or(&self.context);
            let within = if named.is_some() {
                "the named build context"
            } else {
                "the build context"
            };
            let net = wharf_registry::Downloader::new(
                self.opts.runtime.clone(),
                self.opts.pull.client.clone(),
            );
            let agent = self.opts.run.ssh("default").map(|a| a.socket.as_path());
            let staged = sources::stage(c, add, &self.store.tmp_dir(), &net, agent)?;
            for (url, digest) in staged.iter().flat_map(|s| &s.urls) {
                self.materials.url(url, digest);
            }
            let mut list = Vec::new();
            let mut pivots = Vec::new();
            let mut unmatched = Vec::new();
            for s in &c.sources {
                if !(sources::is_heredoc(s)
                    || add && (sources::is_url(s) || crate::git_source::is_git(s)))
                {
                    match context.sources(s) {
                        Ok(found) => {
                            let pivot = copy_flags::pivot(s, c.parents);
                            pivots.extend(found.iter().map(|_| pivot.clone()));
                            list.extend(found);
                        }
                        // `COPY package.json yarn.lock* ./`: a wildcard may match nothing.
                        Err(BuildError::SourceNotFound {
                            excluded: false, ..
                        }) if context::has_wildcard(s) => unmatched.push(s),
                        Err(e) => return Err(e),
                    }
                }
            }
            if list.is_empty() && staged.is_none() && !unmatched.is_empty() {
                return Err(no_match(&unmatched, within));
            }
            let mut digest = context.digest_sources(&list)?;
            if let Some(st) = &staged {
                digest.push_str(&st.digest);
                list.extend(st.sources.iter().cloned());
                pivots.resize(list.len(), String::new());
            }
            return Ok(CopyInputs {
                sources: list,
                digest,
                from: None,
                staged,
                pivots,
                named,
            });
        };
        let FromRoot {
            container: ctr,
            identity,
        } = self.root_of(stage, from)?;
        let root = ctr.rootfs();
        let mut sources = Vec::new();
        let mut pivots = Vec::new();
        let mut unmatched = Vec::new();
        for s in &c.sources {
            let abs = config::clean_abs(s);
            let pivot = copy_flags::pivot(s, c.parents);
            // A wildcard matches in the stage's or image's root, as BuildKit does.
            let matches = if context::has_wildcard(&abs) {
                rootfs::glob(&root, &abs).map_err(BuildError::io("matching", &abs))?
            } else {
                vec![abs]
            };
            let mut found = false;
            for abs in matches {
                let path = rootfs::resolve(&root, &abs, true)
                    .map_err(BuildError::io("resolving", &abs))?;
                if std::fs::symlink_metadata(&path).is_ok() {
                    found = true;
                    pivots.push(pivot.clone());
                    sources.push(Source {
                        rel: abs.trim_start_matches('/').to_owned(),
                        path,
                    });
                }
            }
            if !found && context::has_wildcard(s) {
                unmatched.push(s);
            } else if !found {
                return Err(BuildError::SourceNotFoundIn {
                    path: s.clone(),
                    from: from.clone(),
                });
            }
        }
        if sources.is_empty() && !unmatched.is_empty() {
            return Err(no_match(&unmatched, from));
        }
        Ok(CopyInputs {
            sources,
            digest: identity,
            from: Some(ctr),
            staged: None,
            pivots,
            named: None,
        })
    }

    /// Copies the inputs. `--link` gives the same layer as without it: each COPY already
    /// becomes its own layer of the copied files only; what BuildKit adds with it (reusing the
    /// layer when only the base changed) is not done, the cache key still chains the parent.
    ///
    /// Regular files are created without their bytes: the step's snapshot fills them while it
    /// writes the layer (one read of each source), so the returned files go to
    /// [`WorkingContainer::defer`] with the inputs that keep the sources in place.
    pub(super) fn copy(
        &self,
        c: &Copy,
        cfg: &ContainerConfig,
        rootfs: &Path,
        inputs: CopyInputs,
        add: bool,
    ) -> Result<DeferredCopy, BuildError> {
        let chown = c
            .chown
            .as_deref()
            .map(|v| copy::parse_chown(rootfs, v))
            .transpose()?;
        let chmod = c.chmod.as_deref().map(copy::parse_chmod).transpose()?;
        let workdir = cfg.working_dir.clone().unwrap_or_default();
        let mut dest = rootfs::absolute(&workdir, &c.dest);
        if dest.ends_with("/.") || c.dest == "." {
            dest = format!("{}/", dest.trim_end_matches('.').trim_end_matches('/'));
        }
        if inputs.sources.len() > 1 && !dest.ends_with('/') {
            // Several sources (after wildcard expansion) go into an existing directory. Else
            // BuildKit copies them one after the other to the destination as named (each
            // source its own copy, dockerfile2llb has no "must end with /" check): the last
            // file wins, as `COPY a.txt b.txt /file` gives `/file` = b.txt there.
            let host =
                rootfs::resolve(rootfs, &dest, true).map_err(BuildError::io("resolving", &dest))?;
            if host.is_dir() {
                dest.push('/');
            }
        }
        let keep_owner = inputs.from.is_some();
        let context = inputs.named.as_ref().unwrap_or(&self.context);
        let exclude = copy_flags::Exclude::new(&c.excludes)?;
        let (list, pivots): (Vec<&Source>, Vec<&str>) = inputs
            .sources
            .iter()
            .zip(
                inputs
                    .pivots
                    .iter()
                    .map(String::as_str)
                    .chain(std::iter::repeat("")),
            )
            .filter(|(s, _)| !exclude.top_level(s))
            .unzip();
        let pending = copy::Pending::default();
        for (s, pivot) in list.iter().zip(pivots) {
            // One link group per source (and per wildcard match), as BuildKit's file backend
            // calls fsutil's copy once for each: links between two sources are not kept.
            let links = copy::HardLinks::default();
            let from_url = inputs
                .staged
                .as_ref()
                .is_some_and(|st| st.sources.iter().any(|x| x.path == s.path));
            // The context's ignore rules are the context's: a downloaded file or a fetched
            // Git checkout is no part of it.
            let excluded = |rel: &str| {
                (!keep_owner && !from_url && context.is_excluded(rel))
                    || exclude.inside(rel, list.iter().copied())
            };
            let spec = CopySpec {
                rootfs,
                dest: if c.parents {
                    copy_flags::parents_dest(&dest, s, pivot)
                } else {
                    dest.clone()
                },
                chown,
                chmod: chmod.clone(),
                keep_owner,
                excluded: &excluded,
                // Docker unpacks local archives only, never a downloaded one, unless asked
                // with `ADD --unpack=true` (Dockerfile 1.17); `--unpack=false` keeps a local
                // archive as it is.
                unpack: add && c.unpack.unwrap_or(!from_url),
                links: &links,
            };
            copy::copy_sources_deferred(std::slice::from_ref(*s), &spec, &pending)?;
        }
        Ok(DeferredCopy {
            files: pending.into_inner(),
            keep: Box::new(inputs),
        })
    }
}

/// The error of a COPY/ADD whose sources are all wildcards matching nothing.
fn no_match(unmatched: &[&String], within: &str) -> BuildError {
    BuildError::NoSourceMatched {
        patterns: unmatched
            .iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", "),
        within: within.to_owned(),
    }
}
