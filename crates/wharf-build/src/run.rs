//! RUN: the command executes in the sandbox (embedded runtime) on the working container's
//! merged root, with the image's environment, user and working directory, the stage's SHELL,
//! and the build arguments in effect as extra environment variables.

use std::path::Path;

use wharf_dockerfile::instruction::{Command, Run, RunScript};
use wharf_oci::config::ContainerConfig;
use wharf_oci::oci_spec;
use wharf_oci::oci_spec::runtime::MountBuilder;
use wharf_sandbox::isolation::Isolation;
use wharf_sandbox::spec::{NetworkMode, SpecOptions};

use crate::error::BuildError;

/// Docker's default SHELL.
pub const DEFAULT_SHELL: [&str; 2] = ["/bin/sh", "-c"];

/// What one RUN executes.
#[derive(Debug)]
pub struct RunRequest<'a> {
    pub run: &'a Run,
    /// The stage's config so far (Env, User, WorkingDir, Shell).
    pub config: &'a ContainerConfig,
    /// `KEY=VALUE` from build arguments, not overriding ENV.
    pub args_env: Vec<String>,
    pub rootfs: &'a Path,
    /// Where the bundle and heredoc scripts go (outside the root filesystem).
    pub scratch: &'a Path,
    pub hostname: &'a str,
}

/// What a RUN gets beyond its instruction and config: `--mount` results and the build's
/// default network.
#[derive(Debug, Default)]
pub struct RunExtras {
    /// Mounts after the defaults (`RUN --mount`).
    pub mounts: Vec<oci_spec::runtime::Mount>,
    /// `KEY=VALUE` for this command only (`SSH_AUTH_SOCK`, `env=` secrets).
    pub env: Vec<String>,
    /// The network of `RUN` and `RUN --network=default`; loopback only when `None`.
    pub network: Option<NetworkMode>,
    /// The private network to join when the RUN's network is [`NetworkMode::Private`].
    pub private: Option<crate::network::Joined>,
    /// `--cap-add` / `--cap-drop` of the build.
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    /// `--add-host HOST:IP`: extra `/etc/hosts` lines, as `(host, ip)`.
    pub add_hosts: Vec<(String, String)>,
    /// `--no-hosts`: no generated `/etc/hosts` (the image's own, if any, is seen).
    pub no_hosts: bool,
    /// The isolation, and whether `chroot` must create a user namespace to get a mount
    /// namespace.
    pub isolation: Isolation,
    pub new_userns: bool,
    /// The build's sandbox flags (their mounts are already in `mounts`).
    pub sandbox: RunSandbox,
}

/// The network `run` gets: its own `--network`, else the build's `default`. The host's only
/// when the build's is: the caller decides that, never the Dockerfile.
pub(crate) fn network(run: &Run, default: Option<NetworkMode>) -> Result<NetworkMode, BuildError> {
    let default = default.unwrap_or(NetworkMode::None);
    match run.network.as_deref() {
        Some("host") if default != NetworkMode::Host => Err(BuildError::HostNetworkNotAllowed),
        Some("none") => Ok(NetworkMode::None),
        _ => Ok(default),
    }
}

/// Runs the command; a non-zero exit is [`BuildError::RunFailed`]. `RUN --mount` needs
/// [`run_with`].
pub fn run(req: &RunRequest<'_>) -> Result<(), BuildError> {
    if !req.run.mounts.is_empty() {
        return Err(BuildError::Unsupported {
            what: "RUN --mount outside a build".to_owned(),
        });
    }
    run_with(req, &RunExtras::default())
}

/// Runs the command with `extras`; a non-zero exit is [`BuildError::RunFailed`].
pub fn run_with(req: &RunRequest<'_>, extras: &RunExtras) -> Result<(), BuildError> {
    let shell: Vec<String> = req
        .config
        .shell
        .clone()
        .unwrap_or_else(|| DEFAULT_SHELL.map(String::from).to_vec());
    let mut extra_mounts = Vec::new();
    let args: Vec<String> = match req.run.script() {
        RunScript::Command(Command::Exec(argv)) => argv,
        RunScript::Command(Command::Shell(text)) | RunScript::Shell(text) => {
            shell.into_iter().chain([text]).collect()
        }
        RunScript::File { name, content } => {
            let host = req.scratch.join(format!("heredoc-{name}"));
            std::fs::write(&host, content).map_err(BuildError::io("writing", &host))?;
            std::fs::set_permissions(&host, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .map_err(BuildError::io("changing the mode of", &host))?;
            let dest = format!("/dev/pipes/{name}");
            extra_mounts.push(
                MountBuilder::default()
                    .destination(&dest)
                    .typ("bind")
                    .source(&host)
                    .options(vec!["bind".to_owned(), "ro".to_owned()])
                    .build()
                    .map_err(BuildError::Spec)?,
            );
            vec![dest]
        }
    };
    let mut opts = SpecOptions::new(req.rootfs, req.hostname);
    opts.command = Some(args);
    // RUN never goes through the image's ENTRYPOINT.
    opts.entrypoint = Some(Vec::new());
    opts.env.clone_from(&req.args_env);
    opts.env.extend(extras.env.iter().cloned());
    opts.network = network(req.run, extras.network)?;
    opts.cap_add.clone_from(&extras.cap_add);
    opts.cap_drop.clone_from(&extras.cap_drop);
    opts.seccomp = extras.sandbox.seccomp.clone();
    opts.rlimits.clone_from(&extras.sandbox.rlimits);
    opts.dns.clone_from(&extras.sandbox.dns);
    if let Some(limits) = &extras.sandbox.limits {
        // Its own cgroup per RUN, made and removed by the runtime around the command.
        let path = wharf_sandbox::cgroup::check(limits, &format!("kiln-{}", req.hostname))
            .map_err(|e| BuildError::from(wharf_sandbox::SandboxError::from(e)))?;
        opts.cgroup = Some((path, limits.clone()));
    }
    if opts.network == NetworkMode::Private {
        // Never a fresh unconnected namespace in its place: that would silently be `none`.
        let joined = extras
            .private
            .as_ref()
            .ok_or_else(|| BuildError::Unsupported {
                what: "a private RUN network without its namespace".to_owned(),
            })?;
        opts.network_namespace = Some(joined.netns.clone());
        opts.dns_servers = vec![joined.dns];
    }
    extra_mounts.extend(extras.mounts.iter().cloned());
    opts.extra_mounts = extra_mounts;
    if let Some(w) = req.config.working_dir.as_deref().filter(|w| !w.is_empty()) {
        crate::rootfs::mkdir_all(req.rootfs, w, None).map_err(BuildError::io("creating", w))?;
    }
    let mut bundle =
        wharf_sandbox::bundle::write_bundle(&req.scratch.join("bundle"), Some(req.config), opts)?;
    adjust_hosts(
        &mut bundle,
        extras.sandbox.dns.none,
        extras.no_hosts,
        &extras.add_hosts,
    )?;
    wharf_sandbox::isolation::apply(&mut bundle.spec, extras.isolation, extras.new_userns)?;
    let stubs = EtcStubs::before(req.rootfs);
    let code = wharf_sandbox::runtime::run(&bundle.spec, &bundle.dir);
    stubs.clean();
    if !extras.env.is_empty() {
        // config.json holds `env=` secrets: it must not outlive the command.
        let config = bundle.config_path();
        if let Err(e) = std::fs::remove_file(&config) {
            tracing::warn!("removing {}: {e}", config.display());
        }
    }
    let code = code?;
    if code != 0 {
        return Err(BuildError::RunFailed { code });
    }
    Ok(())
}

fn drop_mount(bundle: &mut wharf_sandbox::bundle::Bundle, dest: &str) {
    let mounts: Vec<_> = bundle
        .spec
        .mounts()
        .iter()
        .flatten()
        .filter(|m| m.destination() != Path::new(dest))
        .cloned()
        .collect();
    bundle.spec.set_mounts(Some(mounts));
}

/// `--add-host` lines appended to the generated hosts file; `--no-hosts` drops its mount (the
/// embedded runtime runs the in-memory spec), and so does `--dns none` for resolv.conf. For a
/// build's RUN and `kiln run` alike.
pub(crate) fn adjust_hosts(
    bundle: &mut wharf_sandbox::bundle::Bundle,
    dns_none: bool,
    no_hosts: bool,
    add_hosts: &[(String, String)],
) -> Result<(), BuildError> {
    if dns_none {
        // `--dns none`: the image's own resolv.conf, none generated (buildah's).
        drop_mount(bundle, "/etc/resolv.conf");
    }
    if no_hosts {
        drop_mount(bundle, "/etc/hosts");
    } else if !add_hosts.is_empty() {
        use std::io::Write as _;
        let path = bundle.dir.join("hosts");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(BuildError::io("opening", &path))?;
        for (host, ip) in add_hosts {
            writeln!(f, "{ip}\t{host}").map_err(BuildError::io("writing", &path))?;
        }
    }
    Ok(())
}

/// The files the runtime bind-mounts over `/etc` (hosts, hostname, resolv.conf): where the
/// image lacks them it creates empty mount points, which are no part of what the RUN made.
/// BuildKit removes the stubs it created (executor's `MountStubsCleaner`); so do we, and
/// `/etc` itself when it was made only for them.
struct EtcStubs {
    /// Host paths of the files missing before the RUN.
    missing: Vec<std::path::PathBuf>,
    /// The host path of `/etc` when it was missing too.
    etc: Option<std::path::PathBuf>,
}

impl EtcStubs {
    const FILES: [&str; 3] = ["/etc/hosts", "/etc/hostname", "/etc/resolv.conf"];

    fn before(rootfs: &Path) -> Self {
        let absent = |p: &str| {
            crate::rootfs::resolve(rootfs, p, false)
                .ok()
                .filter(|h| std::fs::symlink_metadata(h).is_err())
        };
        Self {
            missing: Self::FILES.iter().filter_map(|p| absent(p)).collect(),
            etc: absent("/etc"),
        }
    }

    /// Removes the stubs still empty (a RUN writing to one wrote through the mount).
    fn clean(self) {
        for f in &self.missing {
            if std::fs::symlink_metadata(f).is_ok_and(|m| m.is_file() && m.len() == 0) {
                let _ = std::fs::remove_file(f);
            }
        }
        if let Some(etc) = &self.etc {
            // Fails, as it should, when the RUN put something else there.
            let _ = std::fs::remove_dir(etc);
        }
    }
}

/// What the build's flags add to every RUN's sandbox (buildah's `-v`, `--device`, `--dns*`,
/// `--security-opt`, `--ulimit`, `--memory`/`--cpus`): the same for each step, and no part of
/// the cache key, as in buildah (they shape how a command runs, not what the Dockerfile asks).
#[derive(Debug, Clone, Default)]
pub struct RunSandbox {
    /// `-v` binds and `--device` nodes, mounted before the RUN's own `--mount`s; their mount
    /// points are removed afterwards when the RUN created them (nothing of them in a layer).
    pub mounts: Vec<BuildMount>,
    /// `--dns`, `--dns-search`, `--dns-option`.
    pub dns: wharf_sandbox::bundle::Dns,
    /// `--security-opt seccomp=...`.
    pub seccomp: wharf_sandbox::spec::SeccompMode,
    /// `--ulimit`: the full rlimit list (`None`: the sandbox's defaults).
    pub rlimits: Option<Vec<(wharf_sandbox::spec::PosixRlimitType, u64, u64)>>,
    /// `--memory`, `--cpus`, `--pids-limit`: each RUN gets a cgroup of its own with them
    /// (checked against the host by the caller with [`wharf_sandbox::cgroup::check`]).
    pub limits: Option<wharf_sandbox::cgroup::Limits>,
    /// `KEY=VALUE` every RUN gets: the `env` edits of `--device VENDOR/CLASS=NAME` (CDI).
    pub env: Vec<String>,
    /// Where `RUN --device=VENDOR/CLASS=NAME` finds CDI specs (`--cdi-spec-dir`; empty:
    /// [`wharf_sandbox::cdi::DEFAULT_SPEC_DIRS`]).
    pub cdi_spec_dirs: Vec<std::path::PathBuf>,
}

/// One `-v`/`--volume` or `--device` of a build.
#[derive(Debug, Clone)]
pub struct BuildMount {
    pub mount: oci_spec::runtime::Mount,
    /// `U`: the source's owner becomes the RUN's user before each RUN, recursively.
    pub chown: bool,
}

impl BuildMount {
    /// Parses buildah's `-v HOST-DIR:CONTAINER-DIR[:OPTIONS]`: `ro`/`rw`, `z`/`Z` (SELinux
    /// relabelling: nothing to do where SELinux is not enabled, refused where it is, since
    /// wharf applies no labels), `U`, propagation (`[r]private`, `[r]shared`, `[r]slave`),
    /// `[r]bind`, `[no]exec`, `[no]suid`, `[no]dev`. `O` (an overlay over the source) is
    /// refused with the reason.
    ///
    /// # Errors
    /// [`BuildError::InvalidVolume`] naming the value and what is wrong with it.
    pub fn volume(spec: &str) -> Result<Self, BuildError> {
        let bad = |reason: String| BuildError::InvalidVolume {
            value: spec.to_owned(),
            reason,
        };
        let parts: Vec<&str> = spec.split(':').collect();
        let (host, dest, opts) = match parts.as_slice() {
            [h, d] => (*h, *d, ""),
            [h, d, o] => (*h, *d, *o),
            _ => {
                return Err(bad(
                    "expected HOST-DIR:CONTAINER-DIR[:OPTIONS] (a named volume or an anonymous \
                     one has no meaning in a build)"
                        .into(),
                ));
            }
        };
        if !host.starts_with('/') {
            return Err(bad(format!(
                "the host path {host:?} must be absolute (named volumes are berth's)"
            )));
        }
        if !dest.starts_with('/') {
            return Err(bad(format!("the container path {dest:?} must be absolute")));
        }
        let mut options = vec!["rbind".to_owned()];
        let mut access = "rw";
        let mut chown = false;
        for o in opts.split(',').filter(|o| !o.is_empty()) {
            match o {
                "ro" | "rw" => access = o,
                "z" | "Z" => {
                    if std::path::Path::new("/sys/fs/selinux/enforce").exists() {
                        return Err(bad(format!(
                            "{o}: SELinux is enabled here and wharf does not relabel files; \
                             hint: label the source yourself (chcon) and leave {o} out"
                        )));
                    }
                }
                "U" => chown = true,
                "O" => {
                    return Err(bad(
                        "O (an overlay over the source) is not supported; hint: use ro, or \
                         rw to let RUN write to the source"
                            .into(),
                    ));
                }
                "private" | "rprivate" | "shared" | "rshared" | "slave" | "rslave" | "exec"
                | "noexec" | "suid" | "nosuid" | "dev" | "nodev" => options.push(o.to_owned()),
                "bind" => "bind".clone_into(&mut options[0]),
                "rbind" => {}
                _ => {
                    return Err(bad(format!(
                        "unknown option {o:?} (ro, rw, z, Z, U, [r]private, [r]shared, \
                         [r]slave, [r]bind, [no]exec, [no]suid, [no]dev)"
                    )));
                }
            }
        }
        options.push(access.to_owned());
        let source =
            std::fs::canonicalize(host).map_err(|e| bad(format!("the host path {host}: {e}")))?;
        let mount = MountBuilder::default()
            .destination(dest)
            .typ("bind")
            .source(source)
            .options(options)
            .build()
            .map_err(BuildError::Spec)?;
        Ok(Self { mount, chown })
    }
}
