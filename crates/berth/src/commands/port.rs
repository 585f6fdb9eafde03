//! `berth port [-a | -l | CONTAINER] [PRIVATE_PORT[/PROTO]]`: the host addresses a container's
//! ports are published on (podman port). `-a` lists every running container's, each line
//! prefixed with its short ID and a tab; `-l` takes the newest container.

use std::process::ExitCode;

use crate::cli::Cli;
use wharf_container::ports;
use wharf_container::{self as container, Found};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show the published ports of every running container
    #[arg(short, long, conflicts_with = "latest")]
    pub all: bool,
    /// Act on the newest container
    #[arg(short, long)]
    pub latest: bool,
    /// Container name or ID (not with --all or --latest, whose first argument is the port)
    #[arg(required_unless_present_any = ["all", "latest"])]
    pub container: Option<String>,
    /// Show only the host address of this container port (`80`, `80/tcp`, `53/udp`)
    #[arg(value_name = "PRIVATE_PORT[/PROTO]")]
    pub port: Option<String>,
}

fn parse_private(s: &str) -> anyhow::Result<(u16, &str)> {
    let (port, proto) = s.split_once('/').unwrap_or((s, "tcp"));
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| anyhow::anyhow!("invalid port {s:?}: expected PORT[/tcp|udp]"))?;
    anyhow::ensure!(
        matches!(proto, "tcp" | "udp"),
        "invalid port {s:?}: unknown protocol {proto:?} (tcp or udp)"
    );
    Ok((port, proto))
}

/// The containers to show and the port filter, from the three ways of calling `port`.
fn targets(cli: &Cli, args: &Args) -> anyhow::Result<(Vec<Found>, Option<String>)> {
    let store = super::open_store(cli)?;
    if args.all || args.latest {
        let flag = if args.all { "--all" } else { "--latest" };
        anyhow::ensure!(
            args.port.is_none(),
            "with {flag}, port takes at most one argument, the port: PRIVATE_PORT[/PROTO]"
        );
        let everything = container::list(&store)?;
        let chosen = if args.all {
            // podman lists only running containers here.
            everything.into_iter().filter(Found::running).collect()
        } else {
            let newest = everything
                .into_iter()
                .next()
                .ok_or_else(|| anyhow::anyhow!("--latest: there are no containers"))?;
            vec![newest]
        };
        return Ok((chosen, args.container.clone()));
    }
    let key = args.container.as_deref().unwrap_or_default();
    Ok((vec![container::find(&store, key)?], args.port.clone()))
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let (containers, port) = targets(cli, args)?;
    let only = port.as_deref().map(parse_private).transpose()?;
    let mut shown = false;
    for found in &containers {
        let prefix = if args.all {
            format!("{}\t", &found.record.id[..found.record.id.len().min(12)])
        } else {
            String::new()
        };
        if let Some(lines) = ports::lines(&found.record.ports, only) {
            shown |= !lines.is_empty();
            for l in lines {
                println!("{prefix}{l}");
            }
        }
    }
    // With a port: an error unless some container publishes it (podman's message).
    if let Some((port, proto)) = only
        && !shown
    {
        match containers.as_slice() {
            [one] => anyhow::bail!(
                "container {} does not publish port \"{port}/{proto}\"",
                one.record.name
            ),
            _ => anyhow::bail!("no running container publishes port \"{port}/{proto}\""),
        }
    }
    Ok(ExitCode::SUCCESS)
}
