//! `kiln run [--user U] [--workingdir DIR] [-v HOST:CTR] [--env K=V] [--cap-add CAP]
//! [--cap-drop CAP] [--device DEV] [--no-hosts] CTR [--] CMD...`: run a command in a working
//! container, in the sandbox as a RUN step (the same `wharf_build::RunOptions`), with the
//! container's config (`buildah run`). Changes to the file system stay in the container.

use std::process::ExitCode;

use anyhow::Context as _;
use wharf_build::builder::{self, RunCommand};
use wharf_cli::ExitError;

use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run as this user (USER[:GROUP], names or IDs) instead of the config's
    #[arg(short, long, value_name = "USER")]
    pub user: Option<String>,
    /// Run in this directory instead of the config's (created when missing)
    #[arg(long, value_name = "DIR")]
    pub workingdir: Option<String>,
    /// Bind-mount a host directory: HOST-DIR:CONTAINER-DIR[:ro|rw] (repeatable)
    #[arg(
        short,
        long = "volume",
        value_name = "HOST-DIR:CONTAINER-DIR[:OPTIONS]"
    )]
    pub volumes: Vec<String>,
    /// Set an environment variable for the command: KEY=VALUE (repeatable)
    #[arg(short, long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Network: private (the default, or the container's `kiln from --network`: an own
    /// namespace with outbound access through pasta, else slirp4netns; the host's loopback is
    /// out of reach), pasta or slirp4netns (private through that helper), host (the host's, or
    /// the rootless namespace's), or none (loopback only)
    #[arg(long, value_name = "MODE", value_parser = wharf_build::network::NETWORK_VALUES)]
    pub network: Option<String>,
    /// How the command is isolated: oci, chroot or rootfs (see `kiln build --isolation`);
    /// default: the container's `kiln from --isolation`, $KILN_ISOLATION, else oci where it
    /// works, else the first that does
    #[arg(long, value_name = "MODE", value_parser = wharf_sandbox::isolation::Isolation::NAMES)]
    pub isolation: Option<String>,
    /// Add a capability to the command's set (repeatable; podman's defaults otherwise)
    #[arg(long = "cap-add", value_name = "CAP")]
    pub cap_add: Vec<String>,
    /// Drop a capability from the command's set (repeatable; `all` drops every one)
    #[arg(long = "cap-drop", value_name = "CAP")]
    pub cap_drop: Vec<String>,
    /// Give the command a host device node: HOST[:CONTAINER][:PERMISSIONS] (rw or rwm;
    /// repeatable)
    #[arg(long = "device", value_name = "HOST[:CONTAINER][:PERMS]")]
    pub devices: Vec<String>,
    /// Do not generate /etc/hosts: the command sees the container's own
    #[arg(long)]
    pub no_hosts: bool,
    /// Working container name or ID
    pub container: String,
    /// The command and its arguments
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    pub command: Vec<String>,
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let ctr = builder::find(&store, &args.container)?;
    for e in &args.env {
        if !e.contains('=') {
            anyhow::bail!("invalid --env {e:?}: expected KEY=VALUE");
        }
    }
    let chosen = args
        .network
        .as_deref()
        .or(ctr.record.network.as_deref())
        .unwrap_or("private");
    let (network, network_tool) = wharf_build::network::parse_network(chosen);
    wharf_sandbox::spec::capability_set(&args.cap_add, &args.cap_drop)
        .map_err(|err| anyhow::anyhow!(err))
        .context("--cap-add/--cap-drop")?;
    let mut sandbox = wharf_build::run::RunSandbox::default();
    for d in &args.devices {
        let device = wharf_cli::run_flags::Device::parse(d)?;
        sandbox.mounts.push(wharf_build::run::BuildMount {
            mount: device.mount()?,
            chown: false,
        });
    }
    let opts = RunCommand {
        command: args.command.clone(),
        user: args.user.clone(),
        working_dir: args.workingdir.clone(),
        env: args.env.clone(),
        volumes: args.volumes.clone(),
        network_tool,
        run: wharf_build::RunOptions {
            network: Some(network),
            isolation: match args
                .isolation
                .as_deref()
                .or(ctr.record.isolation.as_deref())
            {
                Some(name) => Some(name.parse()?),
                None => wharf_sandbox::isolation::Isolation::from_env()?.or_else(weaker_isolation),
            },
            cap_add: args.cap_add.clone(),
            cap_drop: args.cap_drop.clone(),
            no_hosts: args.no_hosts,
            sandbox,
            ..wharf_build::RunOptions::default()
        },
    };
    match builder::run(&store, &ctr, &opts) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => match e.run_exit_code() {
            // The command's own status, with buildah's message.
            Some(code) => Err(ExitError {
                code,
                message: format!("while running runtime: exit status {code}"),
            }
            .into()),
            None => Err(anyhow::Error::new(e))
                .with_context(|| format!("running in container {:?}", args.container)),
        },
    }
}

/// The isolation picked when none was asked for and `oci` cannot work here (an unprivileged
/// job container), said in one line as `kiln build` says it; `None` where `oci` works.
fn weaker_isolation() -> Option<wharf_sandbox::isolation::Isolation> {
    let facts = wharf_sandbox::isolation::Facts::probe();
    let best = facts.best().ok()?;
    if best == wharf_sandbox::isolation::Isolation::Oci {
        return None;
    }
    eprintln!(
        "kiln run uses {best} isolation: {}; set --isolation {best} to say so",
        facts.oci_refusal().unwrap_or_default()
    );
    Some(best)
}
