//! `berth port CONTAINER [PRIVATE_PORT[/PROTO]]`: the host addresses a container's ports are
//! published on (podman port).

use std::process::ExitCode;

use crate::cli::Cli;
use crate::{container, ports};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Container name or ID
    pub container: String,
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

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let only = args.port.as_deref().map(parse_private).transpose()?;
    let store = super::open_store(cli)?;
    let found = container::find(&store, &args.container)?;
    let Some(lines) = ports::lines(&found.record.ports, only) else {
        let (port, proto) = only.unwrap_or_default();
        anyhow::bail!(
            "container {} does not publish port \"{port}/{proto}\"",
            found.record.name
        );
    };
    for l in lines {
        println!("{l}");
    }
    Ok(ExitCode::SUCCESS)
}
