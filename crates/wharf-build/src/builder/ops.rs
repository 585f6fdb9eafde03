//! `kiln run` (a command in the sandbox, as a RUN step, with the container's config) and
//! `kiln copy`/`kiln add` (host files, or files of another container or image, with COPY/ADD's
//! rules from [`crate::copy`]), each on the overlay mounted for the operation.

use std::path::{Path, PathBuf};

use wharf_sandbox::spec::{NetworkMode, SpecOptions};
use wharf_store::Store;

use super::mount::Mounted;
use super::{Container, ContainerError};
use crate::container::WorkingContainer;
use crate::context::Source;
use crate::copy::{self, CopySpec};
use crate::network::OwnNetwork;
use crate::{BuildError, rootfs, sources};

/// What `kiln run` executes. How it is sandboxed (network, isolation, capabilities, hosts,
/// devices, DNS, seccomp, ulimits, limits) is the one set of options a build's RUN has,
/// [`crate::RunOptions`], so that both run a command the same way.
#[derive(Debug, Clone, Default)]
pub struct RunCommand {
    pub command: Vec<String>,
    /// Overrides the config's `User`.
    pub user: Option<String>,
    /// Overrides the config's `WorkingDir` (created when missing, as for RUN).
    pub working_dir: Option<String>,
    /// `KEY=VALUE` on top of the config's `Env`.
    pub env: Vec<String>,
    /// `HOST:CONTAINER[:ro|rw]` bind mounts.
    pub volumes: Vec<String>,
    /// The helper of a private network (`pasta` or `slirp4netns`); the first installed when
    /// `None`.
    pub network_tool: Option<String>,
    /// `network` (loopback only when `None`), `isolation`, `cap_add`/`cap_drop`,
    /// `add_hosts`/`no_hosts` and `sandbox` (its mounts, such as `--device`, after `volumes`)
    /// apply; secrets and SSH agents are a build's only.
    pub run: crate::RunOptions,
}

/// `kiln run -v`: the parser of `kiln build -v`, one syntax for both.
fn bind(spec: &str) -> Result<wharf_oci::oci_spec::runtime::Mount, ContainerError> {
    let m = crate::run::BuildMount::volume(spec)?;
    if m.chown {
        return Err(ContainerError::InvalidValue {
            flag: "--volume",
            value: spec.to_owned(),
            reason: "U is for kiln build; hint: chown the source yourself".to_owned(),
        });
    }
    Ok(m.mount)
}

/// Runs a command in the container; a non-zero exit is [`BuildError::RunFailed`].
pub fn run(store: &Store, ctr: &Container, opts: &RunCommand) -> Result<(), ContainerError> {
    let mut extra_mounts = Vec::new();
    for v in &opts.volumes {
        extra_mounts.push(bind(v)?);
    }
    extra_mounts.extend(opts.run.sandbox.mounts.iter().map(|m| m.mount.clone()));
    let mounted = Mounted::new(store, ctr)?;
    let rootfs = mounted.rootfs();
    let mut config = ctr.runtime_config();
    if let Some(w) = &opts.working_dir {
        config.working_dir = Some(w.clone());
    }
    if let Some(w) = config.working_dir.as_deref().filter(|w| !w.is_empty()) {
        rootfs::mkdir_all(&rootfs, w, None).map_err(ContainerError::io("creating", w))?;
    }
    let mut spec = SpecOptions::new(&rootfs, ctr.record.name.clone());
    spec.command = Some(opts.command.clone());
    // As buildah run: the command replaces the entrypoint too.
    spec.entrypoint = Some(Vec::new());
    spec.env.clone_from(&opts.env);
    spec.env.extend(opts.run.sandbox.env.iter().cloned());
    spec.user.clone_from(&opts.user);
    // The sandbox options of a build's RUN (crate::run::run_with), the same way.
    spec.cap_add.clone_from(&opts.run.cap_add);
    spec.cap_drop.clone_from(&opts.run.cap_drop);
    spec.seccomp = opts.run.sandbox.seccomp.clone();
    spec.rlimits.clone_from(&opts.run.sandbox.rlimits);
    spec.dns.clone_from(&opts.run.sandbox.dns);
    if let Some(limits) = &opts.run.sandbox.limits {
        let path = wharf_sandbox::cgroup::check(limits, &format!("kiln-{}", ctr.record.id))
            .map_err(wharf_sandbox::SandboxError::from)?;
        spec.cgroup = Some((path, limits.clone()));
    }
    let facts = wharf_sandbox::isolation::Facts::probe();
    let isolation = match opts.run.isolation {
        Some(wanted) => facts.check(wanted).map(|()| wanted),
        None => facts.best(),
    }
    .map_err(|reason| BuildError::Isolation { reason })?;
    // chroot and rootfs have no network namespace of their own.
    let network = if isolation == wharf_sandbox::isolation::Isolation::Oci {
        opts.run.network.unwrap_or(NetworkMode::None)
    } else {
        NetworkMode::Host
    };
    spec.network = network;
    spec.extra_mounts = extra_mounts;
    let scratch = ctr.scratch();
    // Torn down (helper stopped, namespace unbound) when the command has returned.
    let network = if network == NetworkMode::Private {
        let net = OwnNetwork::start(&scratch, opts.network_tool.as_deref())?;
        let joined = net.joined();
        spec.network_namespace = Some(joined.netns);
        spec.dns_servers = vec![joined.dns];
        Some(net)
    } else {
        None
    };
    let mut bundle =
        wharf_sandbox::bundle::write_bundle(&scratch.join("bundle"), Some(&config), spec)?;
    crate::run::adjust_hosts(
        &mut bundle,
        opts.run.sandbox.dns.none,
        opts.run.no_hosts,
        &opts.run.add_hosts,
    )?;
    let new_userns = facts.mountns_errno.is_some();
    wharf_sandbox::isolation::apply(&mut bundle.spec, isolation, new_userns)?;
    let code = wharf_sandbox::runtime::run(&bundle.spec, &bundle.dir)?;
    drop(network);
    drop(mounted);
    if code != 0 {
        return Err(BuildError::RunFailed { code }.into());
    }
    Ok(())
}

/// What `kiln copy` / `kiln add` copy.
#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    /// Host paths, or with `from` paths in that container or image.
    pub sources: Vec<String>,
    /// Relative destinations start at the container's working directory.
    pub dest: String,
    pub chown: Option<String>,
    pub chmod: Option<String>,
    /// A working container or an image to copy from.
    pub from: Option<String>,
    /// `kiln add`: unpack local tar archives.
    pub unpack: bool,
    /// `--checksum`: the digest a downloaded (URL) source must have.
    pub checksum: Option<String>,
    /// How URL sources are downloaded (the process's runtime and registry context); needed
    /// only when a source is a URL.
    pub net: Option<wharf_registry::Downloader>,
}

/// Where `--from` files come from, kept mounted while they are copied.
enum FromRoot {
    Container(Mounted),
    Image(WorkingContainer),
}

impl FromRoot {
    fn rootfs(&self) -> PathBuf {
        match self {
            FromRoot::Container(m) => m.rootfs(),
            FromRoot::Image(w) => w.rootfs(),
        }
    }
}

fn open_from(store: &Store, ctr: &Container, from: &str) -> Result<FromRoot, ContainerError> {
    match super::find(store, from) {
        Ok(other) => Ok(FromRoot::Container(Mounted::new(store, &other)?)),
        Err(ContainerError::NotFound { .. }) => {
            let image = super::load_image(store, from)?;
            let lowers = super::unpack(store, &image.layers)?;
            let diff_ids = image.layers.iter().map(|l| l.diff_id.clone()).collect();
            Ok(FromRoot::Image(WorkingContainer::create(
                store,
                &ctr.driver()?,
                lowers,
                diff_ids,
            )?))
        }
        Err(e) => Err(e),
    }
}

fn host_source(s: &str) -> Result<Source, ContainerError> {
    let path = std::path::absolute(s).map_err(ContainerError::io("resolving", s))?;
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(ContainerError::InvalidValue {
            flag: "source",
            value: s.to_owned(),
            reason: "no such file or directory".to_owned(),
        });
    }
    let rel = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Source { rel, path })
}

/// Copies (or, with `unpack`, adds) files into the container.
pub fn add(store: &Store, ctr: &Container, opts: &AddOptions) -> Result<(), ContainerError> {
    let urls = opts.sources.iter().any(|s| sources::is_url(s));
    if let Some(u) = opts
        .sources
        .iter()
        .find(|s| s.contains("://") && !sources::is_url(s))
    {
        return Err(ContainerError::Unsupported {
            what: format!("adding the URL {u:?} (only http and https are fetched)"),
        });
    }
    if let (Some(c), false) = (&opts.checksum, urls) {
        return Err(BuildError::InvalidFlag {
            flag: "checksum",
            value: c.clone(),
            reason: "only an http(s) source can be verified with --checksum".to_owned(),
        }
        .into());
    }
    if urls && opts.from.is_some() {
        return Err(ContainerError::InvalidValue {
            flag: "--from",
            value: opts.from.clone().unwrap_or_default(),
            reason: "URL sources are fetched, not read from a container or image".to_owned(),
        });
    }
    let from = opts
        .from
        .as_deref()
        .map(|f| open_from(store, ctr, f))
        .transpose()?;
    // URLs are downloaded into a staging directory first, then copied like host files (as
    // Docker's ADD: not unpacked, mode 0600, the Last-Modified time).
    let staging = if urls {
        let tmp = store.tmp_dir();
        std::fs::create_dir_all(&tmp).map_err(ContainerError::io("creating", &tmp))?;
        Some(
            tempfile::Builder::new()
                .prefix("add-")
                .tempdir_in(&tmp)
                .map_err(ContainerError::io("creating a staging directory in", &tmp))?,
        )
    } else {
        None
    };
    let mut sources = Vec::new();
    for (n, s) in opts.sources.iter().enumerate() {
        if let (Some(dir), true) = (&staging, sources::is_url(s)) {
            let sub = dir.path().join(n.to_string());
            std::fs::create_dir(&sub).map_err(ContainerError::io("creating", &sub))?;
            let net = opts.net.as_ref().ok_or_else(|| BuildError::Fetch {
                url: s.clone(),
                reason: "no downloader was given for URL sources".to_owned(),
            })?;
            let fetched = sources::fetch(s, opts.checksum.as_deref(), &sub, net)?;
            sources.push(Source {
                rel: fetched.name,
                path: fetched.path,
            });
            continue;
        }
        match &from {
            None => sources.push(host_source(s)?),
            Some(root) => {
                let root = root.rootfs();
                let abs = crate::config::clean_abs(s);
                let path = rootfs::resolve(&root, &abs, true)
                    .map_err(ContainerError::io("resolving", &abs))?;
                if std::fs::symlink_metadata(&path).is_err() {
                    return Err(BuildError::SourceNotFoundIn {
                        path: s.clone(),
                        from: opts.from.clone().unwrap_or_default(),
                    }
                    .into());
                }
                sources.push(Source {
                    rel: abs.trim_start_matches('/').to_owned(),
                    path,
                });
            }
        }
    }
    let mounted = Mounted::new(store, ctr)?;
    let root = mounted.rootfs();
    let chown = opts
        .chown
        .as_deref()
        .map(|v| copy::parse_chown(&root, v))
        .transpose()?;
    let chmod = opts.chmod.as_deref().map(copy::parse_chmod).transpose()?;
    let workdir = ctr.runtime_config().working_dir.unwrap_or_default();
    let mut dest = rootfs::absolute(&workdir, &opts.dest);
    if dest.ends_with("/.") || opts.dest == "." {
        dest = format!("{}/", dest.trim_end_matches('.').trim_end_matches('/'));
    }
    let excluded = |_: &str| false;
    // Downloads are never unpacked (Docker's rule), local archives are with `add`.
    let (fetched, local): (Vec<Source>, Vec<Source>) = sources.into_iter().partition(|s| {
        staging
            .as_ref()
            .is_some_and(|d| s.path.starts_with(d.path()))
    });
    if !fetched.is_empty() && !local.is_empty() && !dest.ends_with('/') {
        // Several sources go into a directory.
        dest.push('/');
    }
    for (group, unpack) in [(local, opts.unpack), (fetched, false)] {
        if group.is_empty() {
            continue;
        }
        let spec = CopySpec {
            rootfs: Path::new(&root),
            dest: dest.clone(),
            chown,
            chmod: chmod.clone(),
            keep_owner: from.is_some(),
            excluded: &excluded,
            unpack,
            links: &copy::HardLinks::default(),
        };
        copy::copy_sources(&group, &spec)?;
    }
    drop(from);
    drop(mounted);
    Ok(())
}
