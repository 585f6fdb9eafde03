//! `RUN --mount`: what each mount type becomes for one RUN, as BuildKit does it.
//!
//! - `bind`: the context (after the ignore rules: a filtered copy when something under the
//!   source is ignored, or when `rw`, so that writes never reach the context), or a stage's or
//!   image's tree (`from=`); read-only unless `rw`, writes are discarded.
//! - `cache`: a directory under `$ROOT/cache/mounts/` kept between builds, keyed by `id`
//!   (default: the target); created with `uid`/`gid`/`mode`. `sharing=shared` lets RUN steps
//!   of concurrent builds use it together, `locked` waits for exclusive use, `private` takes
//!   a fresh empty directory when it is in use.
//! - `tmpfs`: a memory file system (`size=`).
//! - `secret`: the value of a `--secret` in a file at `target` (default `/run/secrets/ID`)
//!   and/or an environment variable (`env=`); a missing secret fails only with `required`.
//! - `ssh`: the `--ssh` agent socket bound at `target` (default `/run/buildkit/ssh_agent.N`)
//!   and named by `SSH_AUTH_SOCK`.
//!
//! Mount points the RUN needed that did not exist are removed afterwards when still empty,
//! so no mount leaves anything in the layer. The cache key covers the content digest of
//! bind sources and whether each secret and agent was given, never a secret's value.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use wharf_dockerfile::instruction::Run;
use wharf_dockerfile::mount::{Mount, MountType, Sharing};
use wharf_oci::oci_spec::runtime::{Mount as SpecMount, MountBuilder};
use wharf_store::Store;

use crate::container::WorkingContainer;
use crate::context::{self, Context, Source};
use crate::copy::{self, CopySpec};
use crate::error::BuildError;
use crate::rootfs;
use crate::secrets::{RunOptions, Secret, SecretSource, SshAgent};

/// The root filesystem of a stage or image a bind mount reads (`from=`), and what identifies
/// its content for the cache key.
pub(crate) struct FromRoot {
    pub container: WorkingContainer,
    pub identity: String,
}

enum Item {
    Bind {
        mount: Mount,
        /// Context sources; `None` with `from=`.
        source: Option<Source>,
        from: Option<FromRoot>,
        /// Copy the context source first (ignored entries under it, or `rw`).
        stage: bool,
    },
    Cache {
        mount: Mount,
        /// `from=`: the stage or image whose `source=` directory seeds a new cache.
        from: Option<FromRoot>,
    },
    Tmpfs(Mount),
    Secret {
        mount: Mount,
        secret: Option<Secret>,
    },
    Ssh {
        mount: Mount,
        agent: Option<SshAgent>,
        index: usize,
    },
}

/// A RUN's mounts, resolved before the cache lookup.
pub(crate) struct Planned {
    items: Vec<Item>,
    /// What the cache key covers.
    pub key: String,
}

/// The mounts handed to the runtime, and what to clean up after the command.
pub(crate) struct Attached {
    pub mounts: Vec<SpecMount>,
    /// `SSH_AUTH_SOCK=...`, `env=` secrets.
    pub env: Vec<String>,
    /// Mount points created for this RUN, deepest last: (mount point, topmost created dir).
    stubs: Vec<(PathBuf, PathBuf)>,
    /// Secret copies, private cache directories, staged bind sources.
    temp: Vec<PathBuf>,
    /// Held for the command's lifetime (`sharing=locked|private|shared`).
    locks: Vec<File>,
}

fn target_of(m: &Mount, workdir: &str, default: impl FnOnce() -> String) -> String {
    let t = m.target.clone().unwrap_or_else(default);
    crate::config::clean_abs(&rootfs::absolute(workdir, &t))
}

/// Resolves the mounts of `run`. `froms` holds, for each mount in order, the root of its
/// `from=` stage or image (bind mounts with `from=` only).
pub(crate) fn plan(
    run: &Run,
    ctx: &Context,
    opts: &RunOptions,
    mut froms: Vec<Option<FromRoot>>,
) -> Result<Planned, BuildError> {
    let mut items = Vec::new();
    let mut key: Vec<String> = Vec::new();
    let mut ssh_index = 0;
    froms.resize_with(run.mounts.len(), || None);
    for (m, from) in run.mounts.iter().zip(froms) {
        let common = format!(
            "target={:?} ro={} uid={:?} gid={:?} mode={:?}",
            m.target, m.read_only, m.uid, m.gid, m.mode
        );
        match m.kind {
            MountType::Bind => {
                let src = m.source.clone().unwrap_or_else(|| ".".to_owned());
                if let Some(f) = from {
                    key.push(format!("bind from={} source={src} {common}\n", f.identity));
                    items.push(Item::Bind {
                        mount: m.clone(),
                        source: None,
                        from: Some(f),
                        stage: false,
                    });
                    continue;
                }
                if context::has_wildcard(&src) {
                    return Err(BuildError::InvalidMount {
                        spec: format!("source={src}"),
                        reason: "wildcards are not allowed in a bind mount source".to_owned(),
                    });
                }
                let source = ctx.sources(&src)?.into_iter().next().ok_or_else(|| {
                    BuildError::SourceNotFound {
                        path: src.clone(),
                        excluded: false,
                    }
                })?;
                let digest = ctx.digest_sources(std::slice::from_ref(&source))?;
                let stage = !m.read_only || has_ignored(ctx, &source)?;
                key.push(format!("bind context source={src} {digest} {common}\n"));
                items.push(Item::Bind {
                    mount: m.clone(),
                    source: Some(source),
                    from: None,
                    stage,
                });
            }
            MountType::Cache => {
                let seed = from
                    .as_ref()
                    .map(|f| (f.identity.as_str(), m.source.as_deref()));
                key.push(format!(
                    "cache id={:?} sharing={:?} from={seed:?} {common}\n",
                    m.id, m.sharing
                ));
                items.push(Item::Cache {
                    mount: m.clone(),
                    from,
                });
            }
            MountType::Tmpfs => {
                key.push(format!("tmpfs size={:?} {common}\n", m.size));
                items.push(Item::Tmpfs(m.clone()));
            }
            MountType::Secret => {
                let id = secret_id(m)?;
                let secret = opts.secret(&id).cloned();
                if secret.is_none() && m.required {
                    return Err(BuildError::SecretMissing { id });
                }
                key.push(format!(
                    "secret id={id} env={:?} required={} present={} {common}\n",
                    m.env,
                    m.required,
                    secret.is_some()
                ));
                items.push(Item::Secret {
                    mount: m.clone(),
                    secret,
                });
            }
            MountType::Ssh => {
                let id = m.id.clone().unwrap_or_else(|| "default".to_owned());
                let agent = opts.ssh(&id).cloned();
                if agent.is_none() && m.required {
                    return Err(BuildError::SshMissing { id });
                }
                key.push(format!(
                    "ssh id={id} required={} present={} {common}\n",
                    m.required,
                    agent.is_some()
                ));
                items.push(Item::Ssh {
                    mount: m.clone(),
                    agent,
                    index: ssh_index,
                });
                ssh_index += 1;
            }
        }
    }
    Ok(Planned {
        items,
        key: key.concat(),
    })
}

fn secret_id(m: &Mount) -> Result<String, BuildError> {
    m.id.clone()
        .or_else(|| {
            m.target.as_deref().and_then(|t| {
                Path::new(t)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
            })
        })
        .ok_or_else(|| BuildError::InvalidMount {
            spec: "type=secret".to_owned(),
            reason: "a secret mount needs id= or target=".to_owned(),
        })
}

/// Whether anything under `source` is excluded by the ignore file.
fn has_ignored(ctx: &Context, source: &Source) -> Result<bool, BuildError> {
    if !source.path.is_dir() {
        return Ok(false);
    }
    let all = wharf_dockerfile::ignore::Matcher::default();
    for entry in wharf_dockerfile::ignore::walk(&source.path, &all) {
        let entry = entry?;
        if ctx.is_excluded(&context::join_rel(&source.rel, &entry.rel_path)) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn bind(source: &Path, target: &str, read_only: bool) -> Result<SpecMount, BuildError> {
    let mut options = vec!["rbind".to_owned(), "nosuid".to_owned(), "nodev".to_owned()];
    options.push(if read_only { "ro" } else { "rw" }.to_owned());
    Ok(MountBuilder::default()
        .destination(target)
        .typ("bind")
        .source(source)
        .options(options)
        .build()?)
}

/// `-v ...:U`: the source tree, links themselves included, owned by `owner`.
fn chown_tree(path: &Path, owner: (u32, u32)) -> Result<(), BuildError> {
    std::os::unix::fs::lchown(path, Some(owner.0), Some(owner.1))
        .map_err(BuildError::io("changing the owner of", path))?;
    let meta = std::fs::symlink_metadata(path).map_err(BuildError::io("reading", path))?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).map_err(BuildError::io("reading", path))? {
            let entry = entry.map_err(BuildError::io("reading", path))?;
            chown_tree(&entry.path(), owner)?;
        }
    }
    Ok(())
}

fn chown_chmod(path: &Path, uid: u32, gid: u32, mode: u32) -> Result<(), BuildError> {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))
        .map_err(BuildError::io("changing the owner of", path))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(BuildError::io("changing the mode of", path))
}

impl Planned {
    /// Prepares the mounts for a RUN in `rootfs`: cache directories, secret files, staged
    /// sources (in `scratch`) and mount points.
    pub(crate) fn attach(
        &self,
        store: &Store,
        ctx: &Context,
        rootfs: &Path,
        scratch: &Path,
        workdir: &str,
    ) -> Result<Attached, BuildError> {
        let mut a = Attached {
            mounts: Vec::new(),
            env: Vec::new(),
            stubs: Vec::new(),
            temp: Vec::new(),
            locks: Vec::new(),
        };
        for (n, item) in self.items.iter().enumerate() {
            let private = scratch.join(format!("mount-{n}"));
            match item {
                Item::Bind {
                    mount,
                    source,
                    from,
                    stage,
                } => {
                    let target = target_of(mount, workdir, String::new);
                    let host = match (source, from) {
                        (_, Some(f)) => {
                            let src =
                                crate::config::clean_abs(mount.source.as_deref().unwrap_or("/"));
                            let p = rootfs::resolve(&f.container.rootfs(), &src, true)
                                .map_err(BuildError::io("resolving", &src))?;
                            if std::fs::symlink_metadata(&p).is_err() {
                                return Err(BuildError::SourceNotFoundIn {
                                    path: src,
                                    from: mount.from.clone().unwrap_or_default(),
                                });
                            }
                            p
                        }
                        (Some(s), None) if *stage => {
                            stage_source(ctx, s, &private)?;
                            a.temp.push(private.clone());
                            if s.path.is_dir() {
                                private.clone()
                            } else {
                                private.join(s.path.file_name().unwrap_or_default())
                            }
                        }
                        (Some(s), None) => s.path.clone(),
                        (None, None) => continue,
                    };
                    a.stub(rootfs, &target, !host.is_dir())?;
                    a.mounts.push(bind(&host, &target, mount.read_only)?);
                }
                Item::Cache { mount, from } => {
                    let target = target_of(mount, workdir, String::new);
                    let dir = a.cache_dir(store, mount, &target, &private, from.as_ref())?;
                    a.stub(rootfs, &target, false)?;
                    a.mounts.push(bind(&dir, &target, mount.read_only)?);
                }
                Item::Tmpfs(mount) => {
                    let target = target_of(mount, workdir, String::new);
                    let mut options = vec!["nosuid".to_owned(), "nodev".to_owned()];
                    if let Some(size) = mount.size {
                        options.push(format!("size={size}"));
                    }
                    a.stub(rootfs, &target, false)?;
                    a.mounts.push(
                        MountBuilder::default()
                            .destination(&target)
                            .typ("tmpfs")
                            .source("tmpfs")
                            .options(options)
                            .build()?,
                    );
                }
                Item::Secret { mount, secret } => {
                    let Some(secret) = secret else { continue };
                    if let Some(var) = &mount.env {
                        a.env.push(format!("{var}={}", secret_value(secret)?));
                        if mount.target.is_none() {
                            continue;
                        }
                    }
                    let id = secret_id(mount)?;
                    let target = target_of(mount, workdir, || format!("/run/secrets/{id}"));
                    {
                        // The secret's copy must never be readable by another user, not even
                        // between its creation and the chmod below: a 0700 directory, a 0600
                        // file created with that mode.
                        use std::os::unix::fs::DirBuilderExt as _;
                        std::fs::DirBuilder::new()
                            .recursive(true)
                            .mode(0o700)
                            .create(scratch)
                            .map_err(BuildError::io("creating", scratch))?;
                    }
                    a.temp.push(private.clone());
                    write_secret(secret, &private)?;
                    chown_chmod(
                        &private,
                        mount.uid.unwrap_or(0),
                        mount.gid.unwrap_or(0),
                        mount.mode.unwrap_or(0o400),
                    )?;
                    a.stub(rootfs, &target, true)?;
                    a.mounts.push(bind(&private, &target, true)?);
                }
                Item::Ssh {
                    mount,
                    agent,
                    index,
                } => {
                    let Some(agent) = agent else { continue };
                    let target = target_of(mount, workdir, || {
                        format!("/run/buildkit/ssh_agent.{index}")
                    });
                    a.stub(rootfs, &target, true)?;
                    a.mounts.push(bind(&agent.socket, &target, false)?);
                    a.env.push(format!("SSH_AUTH_SOCK={target}"));
                }
            }
        }
        Ok(a)
    }
}

/// Fills a new cache directory from its `from=` stage or image: the `source=` subpath (the
/// root by default), owners kept, as BuildKit makes the cache a mutable copy of that base.
fn seed_cache(dir: &Path, mount: &Mount, from: Option<&FromRoot>) -> Result<(), BuildError> {
    let Some(f) = from else { return Ok(()) };
    let src = crate::config::clean_abs(mount.source.as_deref().unwrap_or("/"));
    let path = rootfs::resolve(&f.container.rootfs(), &src, true)
        .map_err(BuildError::io("resolving", &src))?;
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(BuildError::SourceNotFoundIn {
            path: src,
            from: mount.from.clone().unwrap_or_default(),
        });
    }
    let source = Source {
        rel: src.trim_start_matches('/').to_owned(),
        path,
    };
    copy::copy_sources(
        std::slice::from_ref(&source),
        &CopySpec {
            rootfs: dir,
            dest: "/".to_owned(),
            chown: None,
            chmod: None,
            keep_owner: true,
            excluded: &|_| false,
            unpack: false,
            links: &copy::HardLinks::default(),
        },
    )
}

/// A filtered copy of a context source (ignored entries left out), owners kept.
fn stage_source(ctx: &Context, source: &Source, dir: &Path) -> Result<(), BuildError> {
    std::fs::create_dir_all(dir).map_err(BuildError::io("creating", dir))?;
    let excluded = |rel: &str| ctx.is_excluded(rel);
    copy::copy_sources(
        std::slice::from_ref(source),
        &CopySpec {
            rootfs: dir,
            dest: "/".to_owned(),
            chown: None,
            chmod: None,
            keep_owner: true,
            excluded: &excluded,
            unpack: false,
            links: &copy::HardLinks::default(),
        },
    )
}

/// The secret's value, for `env=` (held in memory only as long as the RUN's environment).
fn secret_value(secret: &Secret) -> Result<String, BuildError> {
    match &secret.source {
        SecretSource::Env(var) => std::env::var(var).map_err(|_| BuildError::SecretUnreadable {
            id: secret.id.clone(),
            from: format!("environment variable {var}"),
        }),
        SecretSource::File(p) => {
            std::fs::read_to_string(p).map_err(|_| BuildError::SecretUnreadable {
                id: secret.id.clone(),
                from: p.display().to_string(),
            })
        }
    }
}

/// Writes the secret's copy to `dest`, created 0600 (`std::fs::copy` would give it the
/// source's mode, `fs::write` the umask's).
fn write_secret(secret: &Secret, dest: &Path) -> Result<(), BuildError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let value = match &secret.source {
        SecretSource::File(p) => std::fs::read(p).map_err(|_| BuildError::SecretUnreadable {
            id: secret.id.clone(),
            from: p.display().to_string(),
        })?,
        SecretSource::Env(_) => secret_value(secret)?.into_bytes(),
    };
    let _ = std::fs::remove_file(dest);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dest)
        .and_then(|mut f| f.write_all(&value))
        .map_err(BuildError::io("writing", dest))
}

impl Attached {
    /// Nothing attached yet: for a RUN without `--mount` that gets the build's mounts.
    pub(crate) fn empty() -> Self {
        Self {
            mounts: Vec::new(),
            env: Vec::new(),
            stubs: Vec::new(),
            temp: Vec::new(),
            locks: Vec::new(),
        }
    }

    /// Adds the build's `-v` and `--device` mounts in front of the RUN's own (which may mount
    /// over them), with their mount points; a `U` volume's source is given to `owner` first.
    pub(crate) fn attach_build_mounts(
        &mut self,
        rootfs: &Path,
        list: &[crate::run::BuildMount],
        owner: (u32, u32),
    ) -> Result<(), BuildError> {
        let mut front = Vec::new();
        for m in list {
            let source = m.mount.source().clone().unwrap_or_default();
            if m.chown {
                chown_tree(&source, owner)?;
            }
            let target = m.mount.destination().to_string_lossy().into_owned();
            self.stub(rootfs, &target, !source.is_dir())?;
            front.push(m.mount.clone());
        }
        front.append(&mut self.mounts);
        self.mounts = front;
        Ok(())
    }

    /// Creates the mount point `target` (a file when `file`) if it is missing, remembering
    /// what was created.
    fn stub(&mut self, rootfs: &Path, target: &str, file: bool) -> Result<(), BuildError> {
        let host =
            rootfs::resolve(rootfs, target, true).map_err(BuildError::io("resolving", target))?;
        if std::fs::symlink_metadata(&host).is_ok() {
            return Ok(());
        }
        // The topmost missing directory: everything from there down is ours.
        let mut top = String::new();
        let mut done = String::new();
        for part in target.split('/').filter(|p| !p.is_empty()) {
            done.push('/');
            done.push_str(part);
            let p =
                rootfs::resolve(rootfs, &done, true).map_err(BuildError::io("resolving", &done))?;
            if std::fs::symlink_metadata(&p).is_err() {
                top.clone_from(&done);
                break;
            }
        }
        if file {
            let parent = Path::new(target)
                .parent()
                .map_or_else(|| "/".to_owned(), |p| p.to_string_lossy().into_owned());
            rootfs::mkdir_all(rootfs, &parent, None)
                .map_err(BuildError::io("creating", &parent))?;
            File::create(&host).map_err(BuildError::io("creating", &host))?;
        } else {
            rootfs::mkdir_all(rootfs, target, None).map_err(BuildError::io("creating", target))?;
        }
        let top = rootfs::resolve(rootfs, &top, true).map_err(BuildError::io("resolving", &top))?;
        self.stubs.push((host, top));
        Ok(())
    }

    /// The directory of a cache mount, locked as its `sharing` says.
    fn cache_dir(
        &mut self,
        store: &Store,
        mount: &Mount,
        target: &str,
        private: &Path,
        from: Option<&FromRoot>,
    ) -> Result<PathBuf, BuildError> {
        let mut id = mount.id.clone().unwrap_or_else(|| target.to_owned());
        if let Some(f) = from {
            // As BuildKit keys a cache with a base by the id and the base ref: another stage,
            // image or subpath is another cache.
            id = format!(
                "{id}\0{}\0{}",
                f.identity,
                mount.source.as_deref().unwrap_or("/")
            );
        }
        let name = wharf_oci::digest::sha256(id.as_bytes());
        let base = store.cache_dir().join("mounts");
        std::fs::create_dir_all(&base).map_err(BuildError::io("creating", &base))?;
        let dir = base.join(&name.digest()[..32]);
        let (uid, gid) = (mount.uid.unwrap_or(0), mount.gid.unwrap_or(0));
        let mode = mount.mode.unwrap_or(0o755);
        let lock_path = base.join(format!("{}.lock", &name.digest()[..32]));
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(BuildError::io("opening", &lock_path))?;
        let lock_err = BuildError::io("locking", &lock_path);
        match mount.sharing.unwrap_or(Sharing::Shared) {
            Sharing::Shared => lock.lock_shared().map_err(lock_err)?,
            Sharing::Locked => lock.lock().map_err(lock_err)?,
            Sharing::Private => {
                if lock.try_lock().is_err() {
                    // In use: this RUN gets its own empty directory, dropped afterwards.
                    std::fs::create_dir_all(private)
                        .map_err(BuildError::io("creating", private))?;
                    chown_chmod(private, uid, gid, mode)?;
                    self.temp.push(private.to_owned());
                    seed_cache(private, mount, from)?;
                    return Ok(private.to_owned());
                }
            }
        }
        self.locks.push(lock);
        if !dir.is_dir() {
            // Made under a temporary name and renamed, so a crash never leaves a half-set-up
            // directory under the real name.
            let tmp = base.join(format!(
                ".new-{}-{}",
                &name.digest()[..32],
                std::process::id()
            ));
            std::fs::create_dir_all(&tmp).map_err(BuildError::io("creating", &tmp))?;
            chown_chmod(&tmp, uid, gid, mode)?;
            seed_cache(&tmp, mount, from)?;
            if std::fs::rename(&tmp, &dir).is_err() {
                let _ = std::fs::remove_dir_all(&tmp);
            }
        }
        Ok(dir)
    }

    /// Removes what the RUN needed and must not leave behind: secret copies, private and staged
    /// directories, and mount points it created that are still empty.
    pub(crate) fn finish(mut self) {
        self.clean();
    }

    fn clean(&mut self) {
        for (point, top) in self.stubs.drain(..).rev() {
            let _ = std::fs::remove_file(&point).or_else(|_| std::fs::remove_dir(&point));
            let mut p = point.parent();
            while let Some(dir) = p {
                if !dir.starts_with(&top) || std::fs::remove_dir(dir).is_err() {
                    break;
                }
                p = dir.parent();
            }
        }
        for t in self.temp.drain(..) {
            let r = if t.is_dir() {
                std::fs::remove_dir_all(&t)
            } else {
                std::fs::remove_file(&t)
            };
            if let Err(e) = r
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!("removing {}: {e}", t.display());
            }
        }
    }
}

impl Drop for Attached {
    fn drop(&mut self) {
        self.clean();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache_mount(spec: &str) -> Mount {
        wharf_dockerfile::mount::parse_mount(spec, Some(&|v: &str| Ok(v.to_owned()))).unwrap()
    }

    fn attached() -> Attached {
        Attached {
            mounts: Vec::new(),
            env: Vec::new(),
            stubs: Vec::new(),
            temp: Vec::new(),
            locks: Vec::new(),
        }
    }

    #[test]
    fn cache_sharing_shared_and_private() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open(t.path().join("store")).unwrap();
        let scratch = t.path().join("scratch");
        let shared = cache_mount("type=cache,target=/c,id=x");
        let (mut a, mut b) = (attached(), attached());
        let d1 = a
            .cache_dir(&store, &shared, "/c", &scratch.join("1"), None)
            .unwrap();
        let d2 = b
            .cache_dir(&store, &shared, "/c", &scratch.join("2"), None)
            .unwrap();
        assert_eq!(d1, d2, "shared users get one directory");
        assert!(d1.starts_with(store.cache_dir().join("mounts")));
        std::fs::write(d1.join("kept"), "x").unwrap();
        drop((a, b));

        // private: the first user holds the directory; a concurrent one gets a fresh one.
        let private = cache_mount("type=cache,target=/c,id=x,sharing=private,mode=0700");
        let (mut a, mut b) = (attached(), attached());
        let p1 = a
            .cache_dir(&store, &private, "/c", &scratch.join("3"), None)
            .unwrap();
        let p2 = b
            .cache_dir(&store, &private, "/c", &scratch.join("4"), None)
            .unwrap();
        assert_eq!(p1, d1);
        assert!(p1.join("kept").exists());
        assert_ne!(p2, p1);
        assert!(std::fs::read_dir(&p2).unwrap().next().is_none());
        assert_eq!(
            std::fs::metadata(&p2).unwrap().permissions().mode() & 0o7777,
            0o700
        );
        drop(b);
        assert!(!p2.exists(), "a private copy is dropped after the RUN");
        drop(a);
        // Once released, the shared directory is available to private users again.
        let mut c = attached();
        let p3 = c
            .cache_dir(&store, &private, "/c", &scratch.join("5"), None)
            .unwrap();
        assert_eq!(p3, d1);
        // Another id is another directory.
        let other = cache_mount("type=cache,target=/c,id=y");
        assert_ne!(
            attached()
                .cache_dir(&store, &other, "/c", &scratch.join("6"), None)
                .unwrap(),
            d1
        );
    }
}
