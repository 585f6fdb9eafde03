//! `kiln build [-t NAME]... [-f FILE] CONTEXT`: build an image from a Dockerfile (`buildah bud`).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use wharf_build::{BuildOptions, Event, ManifestFormat, PullPolicy, Secret, SshAgent};
use wharf_cli::ExitError;
use wharf_cli::registry::RegistryArgs;

use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Name for the built image (repeatable); a name without a registry goes under localhost/
    #[arg(short = 't', long = "tag", value_name = "NAME")]
    pub tags: Vec<String>,
    /// The Dockerfile [default: CONTEXT/Containerfile or CONTEXT/Dockerfile]
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Set a build argument (KEY=VALUE; KEY alone takes the value from the environment)
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    pub build_args: Vec<String>,
    /// Build this stage and the stages it needs, not the last one
    #[arg(long, value_name = "STAGE")]
    pub target: Option<String>,
    /// Write the image ID to this file
    #[arg(long, value_name = "FILE")]
    pub iidfile: Option<PathBuf>,
    /// Do not use cached results; run every instruction
    #[arg(long)]
    pub no_cache: bool,
    /// Print only the image ID
    #[arg(short, long)]
    pub quiet: bool,
    /// Image format
    #[arg(long, value_name = "FORMAT", default_value = "oci", value_parser = ["oci", "docker"])]
    pub format: String,
    /// Created times of the image and its history, and the latest mtime in new layers, in
    /// seconds since the epoch [default: $SOURCE_DATE_EPOCH]
    #[arg(long, value_name = "SECONDS")]
    pub timestamp: Option<i64>,
    /// Run BuildKit's build checks on the Dockerfile and report them, without building; exit 1
    /// when there are findings
    #[arg(long)]
    pub check: bool,
    #[command(flatten)]
    pub engine: Box<EngineArgs>,
    /// Push every step's cache record (and layer) to this repository, HOST/NAME
    #[arg(long = "cache-to", value_name = "REPO")]
    pub cache_to: Vec<String>,
    /// Look steps up in this repository (repeatable) when the local cache misses
    #[arg(long = "cache-from", value_name = "REPO")]
    pub cache_from: Vec<String>,
    /// Also write the result here: type=local,dest=DIR (the filesystem), type=tar,dest=FILE,
    /// type=oci,dest=FILE or type=docker,dest=FILE (image archives); a bare DIR means local
    #[arg(short = 'o', long, value_name = "[type=TYPE,]dest=PATH")]
    pub output: Option<String>,
    /// Squash the new layers of the image into one on top of its base
    #[arg(long)]
    pub squash: bool,
    /// Cache every step as a layer (`--layers=false`: no cache, one new layer)
    #[arg(long, num_args = 0..=1, require_equals = true, default_value_t = true, default_missing_value = "true", value_name = "BOOL", action = clap::ArgAction::Set)]
    pub layers: bool,
    /// Build up to N independent stages at once (0: no limit) [default: the number of CPUs]
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Build for OS/ARCH[/VARIANT]; a comma-separated list builds each platform and tags a
    /// manifest list of them. RUN for a foreign architecture needs qemu-user binfmt emulation
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The build context: a directory, `-` for a tar archive (or a lone Dockerfile) on
    /// standard input, or an http(s) URL of either
    pub context: PathBuf,
}

/// Base image pulls, RUN secrets and network, and image metadata (boxed: `Args` stays small).
#[derive(Debug, clap::Args)]
pub struct EngineArgs {
    /// When to pull base images: missing (default: only when not in the store), always, never;
    /// buildah's true (pull, keep the local image if the registry fails) and false (never)
    #[arg(long, value_name = "POLICY", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value = "missing", value_parser = parse_pull)]
    pub pull: PullPolicy,
    /// A secret for `RUN --mount=type=secret` (repeatable): id=ID,src=FILE or id=ID,env=VAR;
    /// never stored in a layer, the history or the cache
    #[arg(long = "secret", value_name = "id=ID,src=FILE")]
    pub secrets: Vec<String>,
    /// An SSH agent socket for `RUN --mount=type=ssh` (repeatable): default (from
    /// $SSH_AUTH_SOCK) or ID=SOCKET
    #[arg(long = "ssh", value_name = "default|ID=SOCKET")]
    pub ssh: Vec<String>,
    /// Network of RUN steps (`RUN --network=default`): private (the default: an own namespace
    /// with outbound access through pasta, else slirp4netns; the host's loopback is out of
    /// reach), pasta or slirp4netns (private through that helper), host, or none (loopback only)
    #[arg(long, value_name = "MODE", default_value = "private",
          value_parser = wharf_build::network::NETWORK_VALUES)]
    pub network: String,
    /// How RUN steps are isolated: oci (namespaces, a fresh /proc, pivot_root), chroot (for
    /// unprivileged CI containers: the container's own /proc, /sys and /dev bound, a user
    /// namespace only where one can be made, the container's network) or rootfs (kaniko's
    /// model, only for disposable job containers running as root: chroot, no namespace, no
    /// mount). Default: $KILN_ISOLATION, else oci where it works, else the first that does
    #[arg(long, value_name = "MODE", value_parser = wharf_sandbox::isolation::Isolation::NAMES)]
    pub isolation: Option<String>,
    /// Read build arguments from FILE: KEY=VALUE lines as --build-arg takes them, `#` comments
    /// and blank lines skipped; --build-arg values win (repeatable)
    #[arg(long = "build-arg-file", value_name = "FILE")]
    pub build_arg_files: Vec<PathBuf>,
    /// Set a label in the image config, over the Dockerfile's LABEL (KEY=VALUE, repeatable)
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Set an annotation on the image manifest (KEY=VALUE, repeatable; OCI format only)
    #[arg(long = "annotation", value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,
    /// Set an environment variable in the built image (KEY=VALUE; KEY alone takes the value
    /// from the environment; repeatable)
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Remove an environment variable from the built image, inherited ones too (repeatable)
    #[arg(long = "unsetenv", value_name = "KEY")]
    pub unset_env: Vec<String>,
    /// Remove a label from the built image, inherited ones too (repeatable)
    #[arg(long = "unsetlabel", value_name = "KEY")]
    pub unset_labels: Vec<String>,
    /// Leave the history out of the built image's config
    #[arg(long)]
    pub omit_history: bool,
    /// Write BuildKit's build metadata JSON to FILE: containerimage.digest,
    /// containerimage.config.digest, containerimage.descriptor, image.name
    #[arg(long, value_name = "FILE")]
    pub metadata_file: Option<PathBuf>,
    /// Write the build's progress to FILE instead of standard error
    #[arg(long, value_name = "FILE")]
    pub logfile: Option<PathBuf>,
    /// Build only the stages the target needs (`--skip-unused-stages=false`: every stage up to
    /// the target)
    #[arg(long, num_args = 0..=1, require_equals = true, default_value_t = true, default_missing_value = "true", value_name = "BOOL", action = clap::ArgAction::Set)]
    pub skip_unused_stages: bool,
    /// Build for this OS (with --arch and --variant, instead of --platform) [default: the host's]
    #[arg(long, value_name = "OS", conflicts_with = "platform")]
    pub os: Option<String>,
    /// Build for this architecture (amd64, arm64, ...) [default: the host's]
    #[arg(long, value_name = "ARCH", conflicts_with = "platform")]
    pub arch: Option<String>,
    /// A named context for `COPY --from=NAME`, `RUN --mount=from=NAME` and `FROM NAME`:
    /// NAME=DIR (a local directory, with its own ignore file) or NAME=docker-image://REF
    /// (repeatable)
    #[arg(long = "build-context", value_name = "NAME=DIR|docker-image://REF")]
    pub build_contexts: Vec<String>,
    /// Created time of the image and its history in seconds since the epoch, also given to
    /// the Dockerfile as the SOURCE_DATE_EPOCH build argument; file times are kept unless
    /// --rewrite-timestamp (buildah 1.38)
    #[arg(long, value_name = "SECONDS")]
    pub source_date_epoch: Option<i64>,
    /// With --source-date-epoch: clamp file times in new layers to it
    #[arg(long, requires = "source_date_epoch")]
    pub rewrite_timestamp: bool,
    /// Add a capability to RUN's set (repeatable; podman's defaults otherwise)
    #[arg(long = "cap-add", value_name = "CAP")]
    pub cap_add: Vec<String>,
    /// Drop a capability from RUN's set (repeatable; `all` drops every one)
    #[arg(long = "cap-drop", value_name = "CAP")]
    pub cap_drop: Vec<String>,
    /// Compression of new layers
    #[arg(long, value_name = "FORMAT", value_parser = ["gzip", "zstd"])]
    pub compression_format: Option<String>,
    /// Write new layers uncompressed
    #[arg(long, conflicts_with = "compression_format")]
    pub disable_compression: bool,
    /// Add the built image (each platform's, with --platform LIST) to the manifest list LIST,
    /// created when missing (buildah's multi-arch CI flow)
    #[arg(long, value_name = "LIST")]
    pub manifest: Option<String>,
    /// Add HOST with IP to RUN's /etc/hosts (HOST:IP, repeatable)
    #[arg(long = "add-host", value_name = "HOST:IP", conflicts_with = "no_hosts")]
    pub add_hosts: Vec<String>,
    /// Do not generate /etc/hosts for RUN: it sees the image's own
    #[arg(long)]
    pub no_hosts: bool,
    /// Build for this architecture variant (v7, ...)
    #[arg(long, value_name = "VARIANT", conflicts_with = "platform")]
    pub variant: Option<String>,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
    /// Attach an SBOM of the image as an in-toto attestation referrer: SPDX 2.3 of the
    /// packages (dpkg, apk) and the files COPY/ADD added (true, spdx, cyclonedx, false)
    #[arg(long, value_name = "BOOL|FORMAT", num_args = 0..=1, require_equals = true,
          default_missing_value = "true")]
    pub sbom: Option<String>,
    /// Attach SLSA v1 provenance as an in-toto attestation referrer: min (the default, unless
    /// $BUILDX_NO_DEFAULT_ATTESTATIONS=1), max (with the Dockerfile and its steps), false
    #[arg(long, value_name = "min|max|false", num_args = 0..=1, require_equals = true,
          default_missing_value = "min")]
    pub provenance: Option<String>,
    /// An attestation to attach, as buildx: type=sbom[,format=cyclonedx] or
    /// type=provenance[,mode=max]; disabled=true turns one off (repeatable)
    #[arg(long = "attest", value_name = "type=TYPE[,KEY=VALUE...]")]
    pub attest: Vec<String>,
    /// Where attestations go: referrer (an OCI 1.1 referrer of the image, which keeps its
    /// digest) or index (also BuildKit's layout: the names then point at an index of the image
    /// and its attestation manifest, for registries without referrers)
    #[arg(long, value_name = "LAYOUT", default_value = "referrer",
          value_parser = ["referrer", "index"])]
    pub attest_layout: String,
    /// Sign the built image with the GPG key of this fingerprint, for the first -t name; the
    /// signature is kept with the image and `kiln push` writes it to lookaside storage
    #[arg(long, value_name = "FINGERPRINT")]
    pub sign_by: Option<String>,
    /// Sign the built image with this sigstore (cosign) private key, for the first -t name;
    /// the signature is kept as an OCI 1.1 referrer that `kiln push` carries
    #[arg(long, value_name = "PATH")]
    pub sign_by_sigstore_private_key: Option<PathBuf>,
    /// Read the signing key's passphrase from the first line of PATH (default: $COSIGN_PASSWORD, else none)
    #[arg(long, value_name = "PATH")]
    pub sign_passphrase_file: Option<PathBuf>,
}

/// How RUN steps are sandboxed beyond the defaults (buildah's flags; boxed with `EngineArgs`).
#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// Bind-mount a host directory into every RUN: HOST-DIR:CONTAINER-DIR[:OPTIONS], options
    /// ro, rw, z, Z, U (the source is given to RUN's user), [r]private/[r]shared/[r]slave,
    /// [no]exec, [no]suid, [no]dev (repeatable); nothing of it goes into a layer
    #[arg(short = 'v', long = "volume", value_name = "HOST:CONTAINER[:OPTS]")]
    pub volumes: Vec<String>,
    /// Name server for RUN's /etc/resolv.conf (repeatable); `none`: no generated resolv.conf
    #[arg(long = "dns", value_name = "IP|none")]
    pub dns: Vec<String>,
    /// Search domain for RUN's /etc/resolv.conf (repeatable; `.`: none)
    #[arg(long = "dns-search", value_name = "DOMAIN")]
    pub dns_search: Vec<String>,
    /// Option line entry for RUN's /etc/resolv.conf (ndots:2, edns0, ...; repeatable)
    #[arg(long = "dns-option", value_name = "OPTION")]
    pub dns_option: Vec<String>,
    /// RUN's security options: seccomp=FILE, seccomp=unconfined, no-new-privileges;
    /// label=disable and apparmor=unconfined (what kiln always does); repeatable
    #[arg(long = "security-opt", value_name = "OPT")]
    pub security_opt: Vec<String>,
    /// Resource limit of RUN: TYPE=SOFT[:HARD] (nofile, nproc, core, stack, ...; -1:
    /// unlimited; at most kiln's own hard limit; repeatable)
    #[arg(long = "ulimit", value_name = "TYPE=SOFT[:HARD]")]
    pub ulimit: Vec<String>,
    /// Memory limit of each RUN (`64m`, `1g`): a cgroup per RUN; refused where this host
    /// cannot enforce it (rootless on cgroup v1)
    #[arg(short = 'm', long, value_name = "SIZE")]
    pub memory: Option<String>,
    /// CPU limit of each RUN, in CPUs (`1.5`); refused where it cannot be enforced, as --memory
    #[arg(long, value_name = "N")]
    pub cpus: Option<String>,
    /// Maximum number of processes of each RUN (`-1`: unlimited); as --memory
    #[arg(long = "pids-limit", value_name = "N", allow_hyphen_values = true)]
    pub pids_limit: Option<String>,
    /// Memory plus swap of each RUN (`128m`; `-1`: unlimited swap); needs --memory; as
    /// --memory
    #[arg(long = "memory-swap", value_name = "SIZE", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// CPU weight of each RUN relative to other processes (1024: the default); as --memory
    #[arg(short = 'c', long = "cpu-shares", value_name = "SHARES")]
    pub cpu_shares: Option<String>,
    /// CFS scheduler period of each RUN, in microseconds (with --cpu-quota); as --memory
    #[arg(
        long = "cpu-period",
        value_name = "MICROSECONDS",
        conflicts_with = "cpus"
    )]
    pub cpu_period: Option<String>,
    /// CPU time each RUN may use per --cpu-period, in microseconds; as --memory
    #[arg(
        long = "cpu-quota",
        value_name = "MICROSECONDS",
        conflicts_with = "cpus"
    )]
    pub cpu_quota: Option<String>,
    /// CPUs each RUN may run on (`0-3`, `0,2`); as --memory
    #[arg(long = "cpuset-cpus", value_name = "LIST")]
    pub cpuset_cpus: Option<String>,
    /// Memory nodes each RUN may allocate on (`0`, NUMA machines); as --memory
    #[arg(long = "cpuset-mems", value_name = "LIST")]
    pub cpuset_mems: Option<String>,
    /// Give RUN a host device node: HOST[:CONTAINER][:PERMISSIONS] (rw or rwm: no devices
    /// cgroup could narrow the access), or a CDI device VENDOR/CLASS=NAME (its spec's env,
    /// device nodes and mounts); repeatable
    #[arg(
        long = "device",
        value_name = "HOST[:CONTAINER][:PERMS]|VENDOR/CLASS=NAME"
    )]
    pub devices: Vec<String>,
    /// Read CDI device specs (JSON or YAML) from this directory instead of /etc/cdi and
    /// /var/run/cdi, for --device and RUN --device (repeatable; a later one wins)
    #[arg(long = "cdi-spec-dir", value_name = "DIR")]
    pub cdi_spec_dirs: Vec<PathBuf>,
    /// Use cached steps only when they were made less than DURATION ago (`10m`, `1h`; `0`:
    /// no cache, as --no-cache); remote --cache-from records are not used with it
    #[arg(long, value_name = "DURATION", value_parser = wharf_cli::registry::parse_duration)]
    pub cache_ttl: Option<std::time::Duration>,
    /// Label the image with io.wharf.version (kiln's version), as buildah's io.buildah.version;
    /// off unless asked, so that builds stay reproducible across kiln versions
    #[arg(long, num_args = 0..=1, require_equals = true, default_value_t = false, default_missing_value = "true", value_name = "BOOL", action = clap::ArgAction::Set)]
    pub identity_label: bool,
    /// Build for every platform all the base images offer (the intersection of their manifest
    /// lists; FROM scratch offers any) and tag a manifest list of them
    #[arg(long, conflicts_with_all = ["platform", "os", "arch", "variant"])]
    pub all_platforms: bool,
}

/// The label `--identity-label` sets (buildah's is `io.buildah.version`).
pub const IDENTITY_LABEL: &str = "io.wharf.version";

/// The Dockerfile a build reads: `-f`, else `CONTEXT/Containerfile`, else `CONTEXT/Dockerfile`.
fn dockerfile_path(args: &Args) -> PathBuf {
    args.file.clone().unwrap_or_else(|| {
        let containerfile = args.context.join("Containerfile");
        if containerfile.is_file() {
            containerfile
        } else {
            args.context.join("Dockerfile")
        }
    })
}

fn parse_pull(value: &str) -> Result<PullPolicy, String> {
    PullPolicy::parse(value)
        .ok_or_else(|| format!("{value:?} is not one of always, missing, never, true, false"))
}

/// `KEY=VALUE` flags (`KEY` alone is an empty value, as buildah).
fn key_values(flag: &str, list: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for item in list {
        let (k, v) = item.split_once('=').unwrap_or((item.as_str(), ""));
        if k.is_empty() {
            bail!("invalid --{flag} {item:?}: expected KEY=VALUE");
        }
        out.insert(k.to_owned(), v.to_owned());
    }
    Ok(out)
}

fn build_args(list: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for a in list {
        match a.split_once('=') {
            Some((k, v)) => out.insert(k.to_owned(), v.to_owned()),
            None => match std::env::var(a) {
                Ok(v) => out.insert(a.clone(), v),
                Err(_) => continue,
            },
        };
        if a.starts_with('=') {
            bail!("invalid --build-arg {a:?}: expected KEY=VALUE");
        }
    }
    Ok(out)
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    if args.check {
        // `docker build --check`: the checks alone, failing on any finding.
        let lint = super::lint::Args {
            file: dockerfile_path(args),
            skip: Vec::new(),
            error: true,
        };
        return super::lint::run(&lint);
    }
    let invocation = wharf_build::attest::Invocation::start();
    let attest = wharf_build::attest::AttestOptions::from_flags(
        args.engine.sbom.as_deref(),
        args.engine.provenance.as_deref(),
        &args.engine.attest,
        wharf_build::attest::no_default_from_env(),
    )?;
    // Keys are read (and passphrases checked) before building, not after a long build.
    let signing = build_signing(args)?;
    // Inside the rootless user namespace the default root is still the user's own store.
    let store = super::open_store(cli)?;
    let timestamp = match args.timestamp {
        Some(t) => Some(t),
        None => match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(v) if !v.is_empty() => Some(
                v.parse()
                    .with_context(|| format!("invalid SOURCE_DATE_EPOCH {v:?}"))?,
            ),
            _ => None,
        },
    };
    let stdin = std::path::Path::new("-");
    if args.context == stdin && args.file.as_deref() == Some(stdin) {
        bail!("the context and the Dockerfile cannot both come from standard input");
    }
    let url = args
        .context
        .to_str()
        .filter(|c| c.starts_with("http://") || c.starts_with("https://"));
    let runtime = wharf_cli::registry::runtime()?.handle().clone();
    let stdin_context = if args.context == stdin {
        Some(
            wharf_build::context_source::from_reader(std::io::stdin().lock(), &store)
                .context("reading the build context from standard input")?,
        )
    } else if let Some(url) = url {
        let net = wharf_registry::Downloader::new(runtime.clone(), args.registry.client_options()?);
        Some(wharf_build::context_source::from_url(url, &store, &net)?)
    } else {
        None
    };
    let stdin_dockerfile = if args.file.as_deref() == Some(stdin) {
        Some(
            wharf_build::context_source::dockerfile_from_reader(std::io::stdin().lock(), &store)
                .context("reading the Dockerfile from standard input")?,
        )
    } else {
        None
    };
    let mut opts = BuildOptions::new(
        stdin_context
            .as_ref()
            .map_or(args.context.as_path(), |m| m.dir()),
        runtime.clone(),
    );
    opts.dockerfile = match (&stdin_context, &stdin_dockerfile) {
        // In an archive, -f names a file inside it, as docker reads it.
        (Some(m), _) => m
            .dockerfile
            .clone()
            .or_else(|| args.file.as_ref().map(|f| m.dir().join(f))),
        (None, Some(d)) => d.dockerfile.clone(),
        (None, None) => args.file.clone(),
    };
    opts.tags.clone_from(&args.tags);
    let mut arg_list = Vec::new();
    for f in &args.engine.build_arg_files {
        arg_list.extend(wharf_build::read_build_arg_file(f)?);
    }
    arg_list.extend(args.build_args.iter().cloned());
    opts.build_args = build_args(&arg_list)?;
    opts.labels = key_values("label", &args.engine.labels)?;
    opts.annotations = key_values("annotation", &args.engine.annotations)?;
    opts.target.clone_from(&args.target);
    opts.no_cache = args.no_cache;
    opts.format = ManifestFormat::parse(&args.format).unwrap_or_default();
    opts.timestamp = timestamp;
    let e = &args.engine;
    let platforms = match (&args.platform, &e.os, &e.arch, &e.variant) {
        (Some(list), ..) => parse_platforms(list)?,
        (None, None, None, None) => Vec::new(),
        (None, os, arch, variant) => {
            let host = wharf_oci::platform::Platform::host();
            vec![wharf_oci::platform::Platform::new(
                os.as_deref().unwrap_or(&host.os),
                arch.as_deref().unwrap_or(&host.architecture),
                variant.as_deref(),
            )]
        }
    };
    opts.edits = wharf_build::ConfigEdits {
        env: e
            .env
            .iter()
            .filter_map(|kv| match kv.split_once('=') {
                Some(_) => Some(kv.clone()),
                // KEY alone: from the environment, left out when unset (as --build-arg).
                None => std::env::var(kv).ok().map(|v| format!("{kv}={v}")),
            })
            .collect(),
        unset_env: e.unset_env.clone(),
        unset_labels: e.unset_labels.clone(),
        omit_history: e.omit_history,
    };
    if let Some(kv) = e.env.iter().find(|kv| kv.starts_with('=') || kv.is_empty()) {
        bail!("invalid --env {kv:?}: expected KEY=VALUE");
    }
    opts.skip_unused_stages = e.skip_unused_stages;
    wharf_sandbox::spec::capability_set(&e.cap_add, &e.cap_drop)
        .map_err(|err| anyhow::anyhow!(err))
        .context("--cap-add/--cap-drop")?;
    for h in &e.add_hosts {
        let (host, ip) = h
            .split_once(':')
            .filter(|(h, ip)| !h.is_empty() && ip.parse::<std::net::IpAddr>().is_ok())
            .with_context(|| format!("invalid --add-host {h:?}: expected HOST:IP"))?;
        opts.run.add_hosts.push((host.to_owned(), ip.to_owned()));
    }
    opts.run.no_hosts = e.no_hosts;
    opts.run.sandbox = sandbox(&e.sandbox)?;
    if let Some(ttl) = e.sandbox.cache_ttl {
        if ttl.is_zero() {
            opts.no_cache = true;
        } else {
            opts.cache_ttl = Some(ttl);
        }
    }
    if e.sandbox.identity_label {
        opts.labels
            .entry(IDENTITY_LABEL.to_owned())
            .or_insert_with(|| env!("CARGO_PKG_VERSION").to_owned());
    }
    opts.run.cap_add.clone_from(&e.cap_add);
    opts.run.cap_drop.clone_from(&e.cap_drop);
    if e.disable_compression {
        opts.compression = wharf_oci::media_type::LayerCompression::None;
    } else if e.compression_format.as_deref() == Some("zstd") {
        anyhow::ensure!(
            args.format != "docker",
            "--compression-format zstd: the docker image format has no zstd layers; use --format oci"
        );
        opts.compression = wharf_oci::media_type::LayerCompression::Zstd;
    }
    if let Some(s) = e.source_date_epoch {
        opts.source_date_epoch = Some(s);
        opts.rewrite_timestamp = e.rewrite_timestamp;
        opts.build_args
            .entry("SOURCE_DATE_EPOCH".to_owned())
            .or_insert_with(|| s.to_string());
    }
    for spec in &e.build_contexts {
        let (name, ctx) = wharf_build::NamedContext::parse(spec)?;
        opts.build_contexts.insert(name, ctx);
    }
    let mut log: Box<dyn std::io::Write> = match &e.logfile {
        Some(f) => Box::new(
            std::fs::File::create(f)
                .with_context(|| format!("creating --logfile {}", f.display()))?,
        ),
        None => Box::new(std::io::stderr()),
    };
    if let [one] = platforms.as_slice() {
        opts.platform = Some(one.clone());
    }
    opts.pull.policy = args.engine.pull;
    opts.pull.client = args.registry.client_options()?;
    opts.pull.signature_policy = Some(args.registry.policy.context()?);
    let platforms = if e.sandbox.all_platforms {
        let all =
            wharf_build::multi_platform::base_platforms(&store, &opts).map_err(build_error)?;
        if let [one] = all.as_slice() {
            opts.platform = Some(one.clone());
        }
        all
    } else {
        platforms
    };
    for s in &args.engine.secrets {
        opts.run.secrets.push(Secret::parse(s)?);
    }
    for s in &args.engine.ssh {
        opts.run.ssh.push(SshAgent::parse(s)?);
    }
    let (network, network_tool) = wharf_build::network::parse_network(&args.engine.network);
    opts.run.network = Some(network);
    opts.network_tool = network_tool;
    opts.run.isolation = match &args.engine.isolation {
        Some(name) => Some(name.parse()?),
        None => wharf_sandbox::isolation::Isolation::from_env()?,
    };
    opts.squash = args.squash;
    if let Some(jobs) = args.jobs {
        opts.jobs = if jobs == 0 { usize::MAX } else { jobs };
    }
    opts.layers = args.layers;
    opts.remote_cache.to.clone_from(&args.cache_to);
    opts.remote_cache.from.clone_from(&args.cache_from);
    if !opts.remote_cache.is_empty() {
        opts.remote_cache.client = opts.pull.client.clone();
    }
    let output = args
        .output
        .as_deref()
        .map(wharf_build::output::Output::parse)
        .transpose()?;
    let quiet = args.quiet;
    let mut on_event = |e: Event| {
        let err = &mut log;
        let _ = match e {
            Event::Step {
                stage,
                number,
                total,
                text,
            } if !quiet => {
                writeln!(err, "[{stage}] STEP {number}/{total}: {text}")
            }
            Event::CacheHit { key } if !quiet => writeln!(err, "--> Using cache {key}"),
            Event::Warning(w) => writeln!(err, "WARN: {w}"),
            Event::Pulling(r) if !quiet => writeln!(err, "Pulling {r}"),
            _ => Ok(()),
        };
    };
    if platforms.len() > 1 {
        anyhow::ensure!(
            args.engine.attest_layout == "referrer" || attest.is_empty(),
            "--attest-layout=index with several platforms is not supported yet: use the default \
             referrer layout, or build one platform"
        );
        anyhow::ensure!(
            output.is_none(),
            "--output with several platforms is not supported: build one platform per --output"
        );
        let list = wharf_build::build_platforms(&store, &opts, &platforms, &mut on_event)
            .map_err(build_error)?;
        let invocation = invocation.finish();
        for (platform, built) in &list.images {
            wharf_build::attest::attach(&store, &opts, built, &attest, &invocation, &mut |w| {
                on_event(Event::Warning(w));
            })
            .with_context(|| format!("attaching attestations to the {platform} image"))?;
            if let Some((signing, identity)) = &signing {
                sign(&store, signing, identity, &built.manifest)?;
            }
        }
        if let Some(f) = &args.iidfile {
            std::fs::write(f, list.index.to_string())
                .with_context(|| format!("writing {}", f.display()))?;
        }
        if !quiet {
            for t in &args.tags {
                let name = wharf_store::normalize_name(t).unwrap_or_else(|_| t.clone());
                eprintln!(
                    "Successfully tagged {name} (a manifest list of {} images)",
                    list.images.len()
                );
            }
        }
        if let Some(f) = &args.engine.metadata_file {
            write_metadata(&store, f, &list.index, None, &args.tags)?;
        }
        if let Some(name) = &args.engine.manifest {
            let images: Vec<&wharf_oci::Digest> =
                list.images.iter().map(|(_, b)| &b.manifest).collect();
            add_to_list(&store, name, &images)?;
        }
        println!("{}", list.index.digest());
        return Ok(ExitCode::SUCCESS);
    }
    let built = match wharf_build::build(&store, &opts, &mut on_event) {
        Ok(b) => b,
        Err(e) => return Err(build_error(e)),
    };
    let invocation = invocation.finish();
    let attestation =
        wharf_build::attest::attach(&store, &opts, &built, &attest, &invocation, &mut |w| {
            on_event(Event::Warning(w));
        })
        .context("attaching attestations")?;
    if let Some((signing, identity)) = &signing {
        sign(&store, signing, identity, &built.manifest)?;
    }
    if let Some(a) = attestation.filter(|_| args.engine.attest_layout == "index") {
        let index = wharf_build::attest::index_layout(&store, &built, &a, &args.tags)
            .context("writing the attestation index (--attest-layout=index)")?;
        // The names now point at the index, and `cosign sign NAME` signs what the name
        // resolves to: the index too, not only the image (as `cosign sign --recursive`), so
        // that a pull by name and a pull of the image by digest both find a signature.
        if let Some((signing, identity)) = &signing {
            sign(&store, signing, identity, index.digest())?;
        }
    }
    if let Some(o) = &output {
        o.write(&store, &built.manifest, &args.tags, &runtime)
            .context("writing the --output")?;
    }
    let id = built.image_id.to_string();
    if let Some(f) = &args.engine.metadata_file {
        write_metadata(
            &store,
            f,
            &built.manifest,
            Some(&built.image_id),
            &args.tags,
        )?;
    }
    if let Some(name) = &args.engine.manifest {
        add_to_list(&store, name, &[&built.manifest])?;
    }
    if let Some(f) = &args.iidfile {
        std::fs::write(f, &id).with_context(|| format!("writing {}", f.display()))?;
    }
    if !quiet {
        for t in &args.tags {
            let name = wharf_store::normalize_name(t).unwrap_or_else(|_| t.clone());
            eprintln!("Successfully tagged {name}");
        }
    }
    println!("{}", built.image_id.digest());
    Ok(ExitCode::SUCCESS)
}

/// RUN's sandbox flags, each checked before anything is built.
fn sandbox(a: &SandboxArgs) -> anyhow::Result<wharf_build::run::RunSandbox> {
    use wharf_cli::run_flags;
    use wharf_sandbox::cgroup;
    let mut out = wharf_build::run::RunSandbox::default();
    for v in &a.volumes {
        out.mounts.push(wharf_build::run::BuildMount::volume(v)?);
    }
    out.cdi_spec_dirs = wharf_sandbox::cdi::spec_dirs(&a.cdi_spec_dirs);
    for d in &a.devices {
        if wharf_sandbox::cdi::is_cdi_name(d) {
            let edits = wharf_sandbox::cdi::resolve(d, &out.cdi_spec_dirs)?;
            out.mounts.extend(
                edits
                    .mounts
                    .into_iter()
                    .map(|mount| wharf_build::run::BuildMount {
                        mount,
                        chown: false,
                    }),
            );
            out.env.extend(edits.env);
            continue;
        }
        let device = run_flags::Device::parse(d)?;
        out.mounts.push(wharf_build::run::BuildMount {
            mount: device.mount()?,
            chown: false,
        });
    }
    out.dns = run_flags::dns(&a.dns, &a.dns_search, &a.dns_option)?;
    let security = run_flags::security_opts(&a.security_opt)?;
    // RUN always has no_new_privs (the sandbox's default), so `no-new-privileges` is granted.
    out.seccomp = security.seccomp;
    out.rlimits = run_flags::ulimits(&a.ulimit)?;
    let cpus = a.cpus.as_deref().map(cgroup::parse_cpus).transpose()?;
    let quota = a
        .cpu_quota
        .as_deref()
        .map(cgroup::parse_cpu_quota)
        .transpose()?;
    let limits = cgroup::Limits {
        memory: a.memory.as_deref().map(cgroup::parse_memory).transpose()?,
        cpu_quota: cpus.or(quota),
        pids: a
            .pids_limit
            .as_deref()
            .map(cgroup::parse_pids)
            .transpose()?
            .flatten(),
        more: cgroup::MoreLimits {
            memory_swap: a
                .memory_swap
                .as_deref()
                .map(cgroup::parse_memory_swap)
                .transpose()?,
            cpu_shares: a
                .cpu_shares
                .as_deref()
                .map(cgroup::parse_cpu_shares)
                .transpose()?,
            cpu_period: a
                .cpu_period
                .as_deref()
                .map(cgroup::parse_cpu_period)
                .transpose()?,
            cpuset_cpus: a
                .cpuset_cpus
                .as_deref()
                .map(|v| cgroup::parse_cpuset("--cpuset-cpus", v))
                .transpose()?,
            cpuset_mems: a
                .cpuset_mems
                .as_deref()
                .map(|v| cgroup::parse_cpuset("--cpuset-mems", v))
                .transpose()?,
        },
    };
    limits.validate(cpus.is_some(), quota.is_some())?;
    if !limits.is_empty() {
        // Refused now, with the reason, where the host cannot enforce them: never ignored.
        wharf_sandbox::cgroup::check(&limits, "check")?;
        out.limits = Some(limits);
    }
    Ok(out)
}

type Signing = (wharf_transport::SignOptions, wharf_oci::Reference);

/// `--sign-by-sigstore-private-key`/`--sign-by`: the signers and the identity the signatures
/// name (the first `-t`, fully qualified, as `buildah build --sign-by` signs for it).
fn build_signing(args: &Args) -> anyhow::Result<Option<Signing>> {
    let e = &args.engine;
    let flags = wharf_cli::signing::SignArgs {
        sign_by: e.sign_by.clone(),
        sign_by_sigstore_private_key: e.sign_by_sigstore_private_key.clone(),
        sign_passphrase_file: e.sign_passphrase_file.clone(),
        registry_referrers_mode: None,
    };
    let Some(opts) = flags.options(args.registry.policy.registries_d.as_deref(), None)? else {
        return Ok(None);
    };
    let Some(first) = args.tags.first() else {
        bail!(
            "kiln build --sign-by/--sign-by-sigstore-private-key needs a name \
             (-t REGISTRY/NAME:TAG): the signature names the image it is for"
        );
    };
    let name = wharf_store::normalize_name(first)
        .with_context(|| format!("the image name {first:?} to sign for"))?;
    let identity = wharf_oci::Reference::parse(&name)
        .with_context(|| format!("the image name {name:?} to sign for"))?;
    Ok(Some((opts, identity)))
}

/// Signs the built manifest and keeps the signature with it as a referrer.
fn sign(
    store: &wharf_store::Store,
    signing: &wharf_transport::SignOptions,
    identity: &wharf_oci::Reference,
    manifest: &wharf_oci::Digest,
) -> anyhow::Result<()> {
    wharf_transport::signatures::sign_stored(store, &signing.signers, identity, manifest)
        .with_context(|| format!("signing the built image {manifest} for {identity}"))?;
    Ok(())
}

/// `--manifest LIST`: adds `images` to the list, creating it when no image has that name.
fn add_to_list(
    store: &wharf_store::Store,
    list: &str,
    images: &[&wharf_oci::Digest],
) -> anyhow::Result<()> {
    use wharf_build::manifest_list;
    if store.resolve(list).is_err() {
        manifest_list::create(store, list, &[])
            .with_context(|| format!("creating the manifest list {list}"))?;
    }
    for image in images {
        manifest_list::add(
            store,
            list,
            image.as_ref(),
            &manifest_list::AddToList::default(),
        )
        .with_context(|| format!("adding {image} to the manifest list {list}"))?;
    }
    Ok(())
}

/// `--metadata-file`: BuildKit's metadata JSON (`docker buildx build --metadata-file`) for the
/// image or index `manifest`: its digest and descriptor, the config digest, the names.
fn write_metadata(
    store: &wharf_store::Store,
    path: &std::path::Path,
    manifest: &wharf_oci::Digest,
    config: Option<&wharf_oci::Digest>,
    tags: &[String],
) -> anyhow::Result<()> {
    let raw = wharf_oci::RawManifest::parse(store.read_small(manifest)?, None)?;
    let names: Vec<String> = tags
        .iter()
        .map(|t| wharf_store::normalize_name(t).unwrap_or_else(|_| t.clone()))
        .collect();
    let mut meta = serde_json::json!({
        "containerimage.digest": manifest.to_string(),
        "containerimage.descriptor": serde_json::to_value(raw.descriptor())?,
    });
    if let Some(c) = config {
        meta["containerimage.config.digest"] = c.to_string().into();
    }
    if !names.is_empty() {
        meta["image.name"] = names.join(",").into();
    }
    std::fs::write(path, serde_json::to_vec_pretty(&meta)?)
        .with_context(|| format!("writing --metadata-file {}", path.display()))
}

/// A failed build: a failing RUN ends it with the command's own exit status, as buildah.
fn build_error(e: wharf_build::BuildError) -> anyhow::Error {
    if let Some(code) = e.run_exit_code() {
        let mut message = format!("building: {e}");
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        return ExitError { code, message }.into();
    }
    anyhow::Error::new(e).context("building")
}

/// `--platform`: a comma-separated list of `OS/ARCH[/VARIANT]`, each named once.
fn parse_platforms(list: &str) -> anyhow::Result<Vec<wharf_oci::platform::Platform>> {
    let mut out: Vec<wharf_oci::platform::Platform> = Vec::new();
    for p in list.split(',') {
        let platform = wharf_oci::platform::Platform::parse(p.trim())
            .with_context(|| format!("--platform {list}"))?;
        anyhow::ensure!(
            !out.contains(&platform),
            "--platform {list}: {platform} is named twice"
        );
        out.push(platform);
    }
    Ok(out)
}
