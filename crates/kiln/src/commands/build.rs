//! `kiln build [-t NAME]... [-f FILE] CONTEXT`: build an image from a Dockerfile (`buildah bud`).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use wharf_build::{BuildOptions, Event, Format, PullPolicy, Secret, SshAgent};
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
}

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
    let stdin_context = if args.context == stdin {
        Some(
            wharf_build::context_source::from_reader(std::io::stdin().lock(), &store)
                .context("reading the build context from standard input")?,
        )
    } else if let Some(url) = url {
        Some(wharf_build::context_source::from_url(url, &store)?)
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
    opts.format = if args.format == "docker" {
        Format::Docker
    } else {
        Format::Oci
    };
    opts.timestamp = timestamp;
    let platforms = match &args.platform {
        Some(list) => parse_platforms(list)?,
        None => Vec::new(),
    };
    if let [one] = platforms.as_slice() {
        opts.platform = Some(one.clone());
    }
    opts.pull.policy = args.engine.pull;
    opts.pull.client = args.registry.client_options()?;
    opts.pull.signature_policy = Some(args.registry.policy.context()?);
    for s in &args.engine.secrets {
        opts.run.secrets.push(Secret::parse(s)?);
    }
    for s in &args.engine.ssh {
        opts.run.ssh.push(SshAgent::parse(s)?);
    }
    let (network, network_tool) = wharf_build::network::parse_network(&args.engine.network);
    opts.run.network = Some(network);
    opts.network_tool = network_tool;
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
        let mut err = std::io::stderr().lock();
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
            output.is_none(),
            "--output with several platforms is not supported: build one platform per --output"
        );
        let list = wharf_build::build_platforms(&store, &opts, &platforms, &mut on_event)
            .map_err(build_error)?;
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
        println!("{}", list.index.digest());
        return Ok(ExitCode::SUCCESS);
    }
    let built = match wharf_build::build(&store, &opts, &mut on_event) {
        Ok(b) => b,
        Err(e) => return Err(build_error(e)),
    };
    if let Some(o) = &output {
        o.write(&store, &built.manifest, &args.tags)
            .context("writing the --output")?;
    }
    let id = built.image_id.to_string();
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
