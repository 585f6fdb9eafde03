//! `kiln run [--user U] [--workingdir DIR] [-v HOST:CTR] [--env K=V] CTR [--] CMD...`: run a
//! command in a working container, in the sandbox as a RUN step, with the container's config
//! (`buildah run`). Changes to the file system stay in the container.

use std::process::ExitCode;

use anyhow::Context as _;
use wharf_build::builder::{self, RunOptions};
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
    let opts = RunOptions {
        command: args.command.clone(),
        user: args.user.clone(),
        working_dir: args.workingdir.clone(),
        env: args.env.clone(),
        volumes: args.volumes.clone(),
        network,
        network_tool,
        isolation: match args
            .isolation
            .as_deref()
            .or(ctr.record.isolation.as_deref())
        {
            Some(name) => Some(name.parse()?),
            None => wharf_sandbox::isolation::Isolation::from_env()?.or_else(weaker_isolation),
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
