//! `kiln build [-t NAME]... [-f FILE] CONTEXT`: build an image from a Dockerfile (`buildah bud`).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use wharf_build::{BuildOptions, Event, Format, PullPolicy, Secret, SshAgent};
use wharf_cli::ExitError;
use wharf_sandbox::spec::NetworkMode;

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
    /// The build context directory
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
    /// Require HTTPS and verify certificates when pulling (`--tls-verify=false` allows plain HTTP)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub tls_verify: Option<bool>,
    /// Credentials USER:PASSWORD for the registry base images come from
    #[arg(long, value_name = "USER:PASSWORD")]
    pub creds: Option<String>,
    /// Auth file for pulling base images
    #[arg(long, env = "REGISTRY_AUTH_FILE", value_name = "PATH")]
    pub authfile: Option<PathBuf>,
    /// Use certificates (*.crt, *.cert, *.key) in DIR when pulling
    #[arg(long, value_name = "DIR")]
    pub cert_dir: Option<PathBuf>,
    /// A secret for `RUN --mount=type=secret` (repeatable): id=ID,src=FILE or id=ID,env=VAR;
    /// never stored in a layer, the history or the cache
    #[arg(long = "secret", value_name = "id=ID,src=FILE")]
    pub secrets: Vec<String>,
    /// An SSH agent socket for `RUN --mount=type=ssh` (repeatable): default (from
    /// $SSH_AUTH_SOCK) or ID=SOCKET
    #[arg(long = "ssh", value_name = "default|ID=SOCKET")]
    pub ssh: Vec<String>,
    /// Network of RUN steps (`RUN --network=default`): host (the default) or none (loopback only)
    #[arg(long, value_name = "MODE", value_parser = ["host", "none"])]
    pub network: Option<String>,
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
    let mut opts = BuildOptions::new(&args.context);
    opts.dockerfile.clone_from(&args.file);
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
    opts.pull.policy = args.engine.pull;
    opts.pull.client.tls_verify = args.engine.tls_verify;
    opts.pull.client.creds = args
        .engine
        .creds
        .as_deref()
        .map(wharf_registry::Credentials::parse)
        .transpose()
        .context("--creds")?;
    opts.pull.client.authfile.clone_from(&args.engine.authfile);
    opts.pull.client.cert_dir.clone_from(&args.engine.cert_dir);
    for s in &args.engine.secrets {
        opts.run.secrets.push(Secret::parse(s)?);
    }
    for s in &args.engine.ssh {
        opts.run.ssh.push(SshAgent::parse(s)?);
    }
    opts.run.network = Some(match args.engine.network.as_deref() {
        Some("none") => NetworkMode::None,
        _ => NetworkMode::Host,
    });
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
    let built = match wharf_build::build(&store, &opts, &mut on_event) {
        Ok(b) => b,
        Err(e) => {
            // A failing RUN ends the build with the command's own exit status, as buildah.
            if let Some(code) = e.run_exit_code() {
                let mut message = format!("building: {e}");
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    message.push_str(": ");
                    message.push_str(&s.to_string());
                    source = s.source();
                }
                return Err(ExitError { code, message }.into());
            }
            return Err(anyhow::Error::new(e).context("building"));
        }
    };
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
