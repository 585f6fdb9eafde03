//! `berth run IMAGE [CMD...]`: run a command in a new container, in the foreground or detached
//! (`-d`, watched by `berth`'s monitor, see [`super::monitor`]).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use wharf_cli::ExitError;
use wharf_sandbox::overlay::{Driver, MountRequest};
use wharf_sandbox::spec::SpecOptions;
use wharf_store::Store;

use crate::cli::Cli;
use crate::container::{self, Record, State};

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

/// A container whose root filesystem is mounted and whose bundle is written.
pub struct Prepared {
    pub dir: PathBuf,
    pub record: Record,
    pub bundle: wharf_sandbox::bundle::Bundle,
    pub driver: Driver,
    pub merged: PathBuf,
}

impl Prepared {
    /// Unmounts the root filesystem and, with `remove`, deletes the container's directory
    /// and its anonymous volumes.
    pub fn finish(&self, remove: bool) {
        wharf_sandbox::network::teardown(&self.dir);
        let _ = self.driver.unmount(&self.merged);
        if remove {
            let _ = std::fs::remove_dir_all(&self.dir);
            container::remove_anonymous_volumes(&self.dir, &self.record);
        }
    }
}

/// An error with podman's exit code for a sandbox failure (125, 126, 127).
pub fn sandbox_err(e: wharf_sandbox::SandboxError) -> anyhow::Error {
    let code = e.exit_code();
    let message = format!("{:#}", anyhow::Error::new(e));
    ExitError { code, message }.into()
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
        state.status = "exited".into();
        state.exit_code = Some(i32::from(code));
        state.finished = Some(container::now());
        container::write_json(&prepared.dir, container::STATE, &state)?;
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
    let mut state = State {
        status: "running".into(),
        started: Some(container::now()),
        ..State::default()
    };
    // A stop request while the container starts is passed on once it runs, not fatal to
    // this process (which would leave the container's files behind).
    wharf_sandbox::runtime::defer_signals().map_err(sandbox_err)?;
    if p.record.runtime == "embedded" {
        let c =
            wharf_sandbox::runtime::start(&p.bundle.spec, &p.bundle.dir).map_err(sandbox_err)?;
        state.pid = Some(c.pid());
        wharf_sandbox::runtime::forward_signals(c.pid()).map_err(sandbox_err)?;
        container::write_json(&p.dir, container::STATE, &state)?;
        wharf_sandbox::runtime::with_terminal_signals_ignored(|| c.wait()).map_err(sandbox_err)
    } else {
        let mut child = external_in(&p.record, &p.dir)
            .spawn()
            .with_context(|| format!("starting the OCI runtime {}", p.record.runtime))?;
        state.pid = Some(i32::try_from(child.id()).unwrap_or_default());
        if let Some(pid) = state.pid {
            // runc run passes them on to the container.
            wharf_sandbox::runtime::forward_signals(pid).map_err(sandbox_err)?;
        }
        container::write_json(&p.dir, container::STATE, &state)?;
        let status = child.wait().context("waiting for the OCI runtime")?;
        Ok(exit_code(status))
    }
}

/// `RUNTIME --root DIR/runtime run -b DIR/bundle ID` for the container in `dir`.
pub fn external_in(record: &Record, dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(&record.runtime);
    cmd.arg("--root")
        .arg(dir.join("runtime"))
        .arg("run")
        .arg("-b")
        .arg(dir.join("bundle"))
        .arg(&record.id);
    cmd
}

/// `RUNTIME delete --force ID`: when `runc run` itself was killed (`rm -f`), its container's
/// processes and cgroup would stay behind.
pub fn external_delete(dir: &Path, runtime: &str, id: &str) {
    let _ = std::process::Command::new(runtime)
        .arg("--root")
        .arg(dir.join("runtime"))
        .args(["delete", "--force", id])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

pub fn exit_code(status: std::process::ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(c), _) => u8::try_from(c & 0xff).unwrap_or(125),
        (None, Some(s)) => u8::try_from(128 + (s & 0x7f)).unwrap_or(125),
        _ => 125,
    }
}

/// Resolves the image, unpacks its layers, creates the container's directory, mounts its root
/// filesystem and writes its bundle. On failure nothing is left behind.
pub fn prepare(store: &Store, args: &Args) -> anyhow::Result<Prepared> {
    let runtime = runtime_program(args.runtime.as_deref())?;
    // Validate every flag before touching the store.
    let mut volumes = crate::volumes::parse_all(&args.volume, &args.mount, &args.tmpfs)?;
    let mut network = crate::network::plan(args.network.as_deref(), &args.publish)?;
    let limits = crate::resources::plan(
        args.memory.as_deref(),
        args.cpus.as_deref(),
        args.pids_limit.as_deref(),
        &args.cgroups,
    )?;
    let mut env = Vec::new();
    for f in &args.env_file {
        env.extend(read_env_file(f)?);
    }
    for e in &args.env {
        env.push(env_entry(e));
    }
    let security = wharf_cli::run_flags::security_opts(&args.security_opt)?;
    wharf_sandbox::spec::capability_set(&args.cap_add, &args.cap_drop)
        .map_err(|e| anyhow::anyhow!(e))?;
    let entrypoint = args.entrypoint.as_deref().map(parse_entrypoint);
    let init = args.init.then(|| super::init::mode(&runtime)).transpose()?;

    let record = super::pull_policy::resolve(store, &args.image, args.pull, &args.registry)?;
    let image_id = store.image_id(&record)?;
    let (raw, config) = wharf_cli::images::load(store, &record)?;
    let image_volumes = config.config.as_ref().and_then(|c| c.volumes.as_ref());
    let anonymous = crate::volumes::anonymous_for_image(
        image_volumes.into_iter().flat_map(|v| v.keys()),
        &volumes,
    )?;
    volumes.extend(anonymous);
    let anonymous = crate::volumes::anonymous_names(&volumes);
    let manifest = raw
        .image()
        .with_context(|| format!("image {} has no manifest for this platform", args.image))?;
    let unpacked = store
        .unpack_layers(
            manifest,
            &config.rootfs.diff_ids,
            &wharf_store::default_apply_options(),
        )
        .with_context(|| format!("unpacking the layers of {}", args.image))?;
    // Rootless, mknod is refused: device nodes in a layer are skipped (as containers/storage
    // does) and said once, when the layer is unpacked.
    for (layer, skipped) in &unpacked.skipped_devices {
        eprintln!(
            "WARN: layer {layer}: skipped {} device node(s) that a rootless user cannot create: {}",
            skipped.count,
            skipped.first.join(", ")
        );
    }
    let layers = unpacked.dirs;

    let id = container::new_id();
    // Held until the record is written: the name is taken only then.
    let names_lock = store.lock_container_names()?;
    let name = match &args.name {
        Some(n) => {
            if container::name_taken(store, n)? {
                anyhow::bail!("the container name {n:?} is already in use; hint: berth rm {n}");
            }
            n.clone()
        }
        None => format!("berth_{}", &id[..12]),
    };
    let dir = store.container_dir(&id)?;
    let driver = match &args.storage_driver {
        Some(n) => Driver::by_name(n).map_err(sandbox_err)?,
        None => Driver::detect(&store.containers_dir()),
    };
    let cleanup = |e: anyhow::Error| {
        let _ = std::fs::remove_dir_all(&dir);
        e
    };
    let chains = wharf_store::chain_id(&config.rootfs.diff_ids);
    store
        .record_container_layers(&id, &chains)
        .map_err(|e| cleanup(e.into()))?;
    let req = MountRequest {
        layers,
        upper: dir.join("upper"),
        work: dir.join("work"),
        target: dir.join("merged"),
    };
    for d in [&req.upper, &req.work, &req.target] {
        std::fs::create_dir_all(d)
            .with_context(|| format!("creating {}", d.display()))
            .map_err(cleanup)?;
    }
    driver.mount(&req).map_err(|e| cleanup(sandbox_err(e)))?;
    let unmount_cleanup = |e: anyhow::Error| {
        let _ = driver.unmount(&req.target);
        cleanup(e)
    };

    let mut opts = SpecOptions::new(
        &req.target,
        args.hostname
            .clone()
            .unwrap_or_else(|| id[..12].to_string()),
    );
    opts.readonly_rootfs = args.read_only;
    opts.terminal = args.tty;
    opts.init = init;
    opts.command = (!args.command.is_empty()).then(|| args.command.clone());
    opts.entrypoint = entrypoint;
    opts.env = env;
    opts.workdir.clone_from(&args.workdir);
    opts.user.clone_from(&args.user);
    if let Some(limits) = limits {
        let path =
            wharf_sandbox::cgroup::check(&limits, &id).map_err(|e| unmount_cleanup(e.into()))?;
        opts.cgroup = Some((path, limits));
    }
    opts.network = network.mode;
    if let Some(tool) = &network.tool {
        wharf_sandbox::network::assign_host_ports(&mut network.ports)
            .map_err(|e| unmount_cleanup(e.into()))?;
        let netns = wharf_sandbox::network::setup(tool, &dir, &network.ports)
            .map_err(|e| unmount_cleanup(e.into()))?;
        opts.network_namespace = Some(netns);
        opts.dns_servers = vec![tool.dns_forwarder()];
    }
    let unmount_cleanup = |e: anyhow::Error| {
        wharf_sandbox::network::teardown(&dir);
        unmount_cleanup(e)
    };
    opts.cap_add.clone_from(&args.cap_add);
    opts.cap_drop.clone_from(&args.cap_drop);
    opts.seccomp = security.seccomp;
    opts.no_new_privileges = security.no_new_privileges || opts.no_new_privileges;
    let unmount_cleanup = |e: anyhow::Error| {
        crate::volumes::remove_anonymous(store.root(), &anonymous);
        unmount_cleanup(e)
    };
    opts.extra_mounts =
        crate::volumes::to_oci(store.root(), &volumes, &req.target).map_err(unmount_cleanup)?;
    if args.userns.as_deref() == Some("keep-id") {
        super::keep_id::apply(&req.target, &mut opts).map_err(unmount_cleanup)?;
    }
    let bundle =
        wharf_sandbox::bundle::write_bundle(&dir.join("bundle"), config.config.as_ref(), opts)
            .map_err(|e| unmount_cleanup(sandbox_err(e)))?;
    let command = bundle
        .spec
        .process()
        .as_ref()
        .and_then(|p| p.args().clone())
        .unwrap_or_default();
    if command.is_empty() {
        return Err(unmount_cleanup(anyhow::anyhow!(
            "no command given and image {} has neither CMD nor ENTRYPOINT",
            args.image
        )));
    }
    let record = Record {
        id,
        name,
        image: args.image.clone(),
        image_id: image_id.to_string(),
        command,
        created: container::now(),
        runtime,
        driver: driver.kind().name().to_string(),
        detached: args.detach,
        remove: args.rm,
        stop_signal: config
            .config
            .as_ref()
            .and_then(|c| c.stop_signal.clone())
            .unwrap_or_else(|| "SIGTERM".into()),
        anonymous_volumes: anonymous.clone(),
        ports: network
            .ports
            .iter()
            .map(crate::ports::Published::from)
            .collect(),
    };
    let write = container::write_json(&dir, container::RECORD, &record).and_then(|()| {
        container::write_json(
            &dir,
            container::STATE,
            &State {
                status: "created".into(),
                ..State::default()
            },
        )
    });
    write.map_err(unmount_cleanup)?;
    drop(names_lock);
    Ok(Prepared {
        dir,
        record,
        bundle,
        driver,
        merged: req.target,
    })
}

fn runtime_program(name: Option<&str>) -> anyhow::Result<String> {
    let Some(name) = name.filter(|n| *n != "embedded") else {
        return Ok("embedded".into());
    };
    if name.contains('/') {
        anyhow::ensure!(
            Path::new(name).is_file(),
            "OCI runtime {name} does not exist"
        );
        return Ok(name.into());
    }
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()));
    anyhow::ensure!(
        found,
        "OCI runtime {name:?} not found in PATH; hint: install the Debian package {name}, or \
         leave --runtime out to use the embedded runtime"
    );
    if name == "crun" && Path::new("/sys/fs/cgroup/unified").is_dir() {
        eprintln!(
            "warning: crun 1.8 refuses hybrid cgroup hosts like this one (\"cgroups in hybrid \
             mode not supported\"); use --runtime runc or the embedded runtime"
        );
    }
    Ok(name.into())
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

fn parse_entrypoint(s: &str) -> Vec<String> {
    if s.is_empty() {
        return Vec::new();
    }
    serde_json::from_str::<Vec<String>>(s).unwrap_or_else(|_| vec![s.to_string()])
}
