//! `berth run IMAGE [CMD...]`: run a command in a new container, in the foreground or detached
//! (`-d`, watched by `berth`'s monitor, see [`super::monitor`]).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use wharf_cli::ExitError;
pub use wharf_container::create::Prepared;
use wharf_container::create::{self, CreateOptions, Plan};
use wharf_container::{self as container, State};
use wharf_store::Store;

use crate::cli::Cli;

#[derive(Debug, clap::Args)]
#[allow(clippy::struct_excessive_bools)]
pub struct Args {
    /// Remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Run in the background and print the container ID
    #[arg(short, long)]
    pub detach: bool,
    /// Keep standard input open (else the container reads /dev/null)
    #[arg(short, long)]
    pub interactive: bool,
    /// Run an init as PID 1 that forwards signals and reaps zombies (the embedded runtime's
    /// own; with an external runtime, catatonit or tini from the host)
    #[arg(long)]
    pub init: bool,
    /// Pull the image: `always`, `missing` (when not in the store), `never`
    #[arg(long, value_enum, default_value = "missing")]
    pub pull: super::pull_policy::Policy,
    /// How an image is pulled: the same registry flags as `berth pull` and kiln (podman's names)
    #[command(flatten)]
    pub registry: wharf_cli::registry::RegistryArgs,
    /// User namespace mode: `keep-id` runs as your own uid and gid inside the container
    #[arg(long, value_parser = ["keep-id"])]
    pub userns: Option<String>,
    /// Allocate a pseudo-terminal for the container (its controlling terminal)
    #[arg(short, long)]
    pub tty: bool,
    /// Name the container
    #[arg(long)]
    pub name: Option<String>,
    /// Set an environment variable (`KEY=VALUE`, or `KEY` to take it from this environment)
    #[arg(short, long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Read `KEY=VALUE` lines from a file
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
    /// Working directory inside the container
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// User (`name`, `uid`, `uid:gid`) to run as
    #[arg(short, long)]
    pub user: Option<String>,
    /// Override the image's entrypoint (a string or a JSON array)
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Bind mount a host directory or a named volume (created on first use):
    /// `HOST-DIR:CONTAINER-DIR[:ro|rw]`, `NAME:CONTAINER-DIR[:ro|rw|nocopy]`, or `CONTAINER-DIR`
    /// alone for an anonymous volume (removed with the container by `--rm` and `rm -v`)
    #[arg(short, long = "volume", value_name = "HOST|NAME:CONTAINER[:OPTS]")]
    pub volume: Vec<String>,
    /// Attach a mount: `type=bind|volume|tmpfs,source=..,target=..[,readonly]`
    /// `[,tmpfs-size=..][,tmpfs-mode=..]` (`src`, `dst`, `destination` also work; a volume
    /// without source is anonymous)
    #[arg(long = "mount", value_name = "type=TYPE,OPTS")]
    pub mount: Vec<String>,
    /// Mount a fresh tmpfs: `CONTAINER-DIR[:OPTS]` (default `rw,noexec,nosuid,nodev`)
    #[arg(long = "tmpfs", value_name = "CONTAINER-DIR[:OPTS]")]
    pub tmpfs: Vec<String>,
    /// Mount the container's root filesystem read-only
    #[arg(long)]
    pub read_only: bool,
    /// Container host name [default: the first 12 characters of the ID]
    #[arg(long)]
    pub hostname: Option<String>,
    /// Network mode: `none` (loopback only), `host`, or `private` (own namespace with
    /// user-mode networking: `pasta`, else `slirp4netns`; or name one of them)
    /// [default: private with -p, else none]
    #[arg(long, value_parser = ["none", "host", "private", "pasta", "slirp4netns"])]
    pub network: Option<String>,
    /// Publish a container port on the host: `[[IP:][HOSTPORT]:]CONTAINERPORT[/tcp|udp]`
    /// (without a host port, a free one is chosen: see `berth port`)
    #[arg(
        short = 'p',
        long = "publish",
        value_name = "[[IP:][HOST]:]CONTAINER[/PROTO]"
    )]
    pub publish: Vec<String>,
    /// Add a capability (`CAP_NET_RAW`, `net_raw`, or `ALL`)
    #[arg(long = "cap-add", value_name = "CAP")]
    pub cap_add: Vec<String>,
    /// Drop a capability (or `ALL`)
    #[arg(long = "cap-drop", value_name = "CAP")]
    pub cap_drop: Vec<String>,
    /// `seccomp=PROFILE.json`, `seccomp=unconfined`, `no-new-privileges`; `label=disable` and
    /// `apparmor=unconfined` (what berth always does)
    #[arg(long = "security-opt", value_name = "OPT")]
    pub security_opt: Vec<String>,
    /// Memory limit (`32m`, `1g`; at least 6m)
    #[arg(short = 'm', long, value_name = "SIZE")]
    pub memory: Option<String>,
    /// CPU limit, in CPUs (`1.5`)
    #[arg(long, value_name = "N")]
    pub cpus: Option<String>,
    /// Maximum number of processes (`-1`: unlimited)
    #[arg(long = "pids-limit", value_name = "N", allow_hyphen_values = true)]
    pub pids_limit: Option<String>,
    /// `enabled`: limits go into a cgroup of the container's own; `disabled`: no cgroup (and no
    /// limit flag)
    #[arg(long, default_value = "enabled", value_parser = ["enabled", "disabled"])]
    pub cgroups: String,
    /// OCI runtime: the embedded one (default), or `runc`/`crun`/`youki`/a path
    #[arg(long)]
    pub runtime: Option<String>,
    /// Storage driver: overlay, fuse-overlayfs, copy [default: the first that works]
    #[arg(long)]
    pub storage_driver: Option<String>,
    /// Image name or ID
    pub image: String,
    /// Command and arguments (replace the image's CMD)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// An error with podman's exit code for a sandbox failure (125, 126, 127).
pub fn sandbox_err(e: wharf_sandbox::SandboxError) -> anyhow::Error {
    let code = e.exit_code();
    let message = format!("{:#}", anyhow::Error::new(e));
    ExitError { code, message }.into()
}

/// A failure of the library with podman's exit code where it has one: a sandbox failure
/// ([`sandbox_err`]) or the OCI runtime's.
pub fn container_err(e: wharf_container::ContainerError) -> anyhow::Error {
    match e {
        wharf_container::ContainerError::Sandbox(s) => sandbox_err(s),
        wharf_container::ContainerError::Runtime { code, message } => {
            ExitError { code, message }.into()
        }
        e => e.into(),
    }
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let prepared = prepare(&store, args)?;
    if args.detach {
        return super::monitor::start_detached(cli, &store, &prepared);
    }
    let result = foreground(&prepared, args.interactive);
    prepared.finish(args.rm);
    let code = result?;
    if !args.rm {
        let mut state = container::load(&prepared.dir)?.state;
        if state.exit(Some(i32::from(code))) {
            container::write_json(&prepared.dir, container::STATE, &state)?;
        }
    }
    Ok(ExitCode::from(code))
}

fn foreground(p: &Prepared, interactive: bool) -> anyhow::Result<u8> {
    if super::tty::wants_terminal(&p.bundle.spec) {
        return super::tty::foreground(p, interactive);
    }
    if !interactive {
        let null = std::fs::File::open("/dev/null").context("opening /dev/null")?;
        nix::unistd::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), 0)
            .context("redirecting standard input")?;
    }
    // A stop request while the container starts is passed on once it runs, not fatal to
    // this process (which would leave the container's files behind).
    wharf_sandbox::runtime::defer_signals().map_err(sandbox_err)?;
    if p.record.runtime == "embedded" {
        let c =
            wharf_sandbox::runtime::start(&p.bundle.spec, &p.bundle.dir).map_err(sandbox_err)?;
        let state = State::started(c.pid(), None);
        wharf_sandbox::runtime::forward_signals(c.pid()).map_err(sandbox_err)?;
        container::write_json(&p.dir, container::STATE, &state)?;
        wharf_sandbox::runtime::with_terminal_signals_ignored(|| c.wait()).map_err(sandbox_err)
    } else {
        let mut child = wharf_container::runtime::run_command(&p.record, &p.dir)
            .spawn()
            .with_context(|| format!("starting the OCI runtime {}", p.record.runtime))?;
        let state = State::started(i32::try_from(child.id()).unwrap_or_default(), None);
        if let Some(pid) = state.pid {
            // runc run passes them on to the container.
            wharf_sandbox::runtime::forward_signals(pid).map_err(sandbox_err)?;
        }
        container::write_json(&p.dir, container::STATE, &state)?;
        let status = child.wait().context("waiting for the OCI runtime")?;
        Ok(wharf_container::runtime::exit_code(status))
    }
}

/// Checks the flags, resolves (or pulls) the image, then has the library create the
/// container: its root filesystem mounted and its bundle written. On failure nothing is left
/// behind.
pub fn prepare(store: &Store, args: &Args) -> anyhow::Result<Prepared> {
    // Every flag is checked before the store is touched.
    let mut env = Vec::new();
    for f in &args.env_file {
        env.extend(read_env_file(f)?);
    }
    for e in &args.env {
        env.push(env_entry(e));
    }
    let security = wharf_cli::run_flags::security_opts(&args.security_opt)?;
    let plan = Plan::new(CreateOptions {
        image: args.image.clone(),
        name: args.name.clone(),
        runtime: args.runtime.clone(),
        storage_driver: args.storage_driver.clone(),
        volume: args.volume.clone(),
        mount: args.mount.clone(),
        tmpfs: args.tmpfs.clone(),
        network: args.network.clone(),
        publish: args.publish.clone(),
        memory: args.memory.clone(),
        cpus: args.cpus.clone(),
        pids_limit: args.pids_limit.clone(),
        cgroups: args.cgroups.clone(),
        cap_add: args.cap_add.clone(),
        cap_drop: args.cap_drop.clone(),
        seccomp: security.seccomp,
        no_new_privileges: security.no_new_privileges,
        env,
        workdir: args.workdir.clone(),
        user: args.user.clone(),
        entrypoint: args.entrypoint.as_deref().map(create::parse_entrypoint),
        command: args.command.clone(),
        hostname: args.hostname.clone(),
        read_only: args.read_only,
        tty: args.tty,
        init: args.init,
        keep_id: args.userns.as_deref() == Some("keep-id"),
        detach: args.detach,
        remove: args.rm,
    })
    .map_err(container_err)?;
    if let Some(warning) = wharf_container::runtime::host_warning(plan.runtime()) {
        eprintln!("warning: {warning}");
    }
    let record = super::pull_policy::resolve(store, &args.image, args.pull, &args.registry)?;
    let image_id = store.image_id(&record)?;
    let (raw, config) = wharf_cli::images::load(store, &record)?;
    let manifest = raw
        .image()
        .with_context(|| format!("image {} has no manifest for this platform", args.image))?;
    let image = create::Image {
        id: &image_id,
        manifest,
        config: &config,
    };
    let prepared = plan.create(store, image).map_err(container_err)?;
    for warning in &prepared.warnings {
        eprintln!("WARN: {warning}");
    }
    Ok(prepared)
}

fn env_entry(e: &str) -> String {
    if e.contains('=') {
        e.to_string()
    } else {
        format!("{e}={}", std::env::var(e).unwrap_or_default())
    }
}

fn read_env_file(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the env file {}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(env_entry)
        .collect())
}
