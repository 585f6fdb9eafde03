//! `--network` and `-p`: podman's rules for which network a container gets.

use wharf_sandbox::network::{PortMapping, Tool, parse_port};
use wharf_sandbox::spec::NetworkMode;

use crate::ContainerError;

/// The network a container will get, decided before anything is created.
#[derive(Debug)]
pub struct Plan {
    pub mode: NetworkMode,
    /// The user-mode helper of a private network.
    pub tool: Option<Tool>,
    pub ports: Vec<PortMapping>,
}

/// `--network` (`None` when not given) and the `-p` flags (host ports still 0 where the flag
/// gave none: [`wharf_sandbox::network::assign_host_ports`] picks them). Published ports need a private
/// network, which is then the default; without `-p` the default stays `none`.
pub fn plan(network: Option<&str>, publish: &[String]) -> Result<Plan, ContainerError> {
    let ports = publish
        .iter()
        .map(|p| parse_port(p))
        .collect::<Result<Vec<_>, _>>()?;
    let chosen = network.unwrap_or(if ports.is_empty() { "none" } else { "private" });
    let mode = match chosen {
        "none" => NetworkMode::None,
        "host" => NetworkMode::Host,
        _ => NetworkMode::Private,
    };
    if mode != NetworkMode::Private && !ports.is_empty() {
        crate::error::bail!(
            "-p/--publish needs a private network, and --network {chosen} has none; hint: leave \
             --network out or use --network private (pasta or slirp4netns)"
        );
    }
    let tool = match chosen {
        "pasta" | "slirp4netns" => Some(Tool::find(Some(chosen))?),
        "private" => Some(Tool::find(None)?),
        _ => None,
    };
    Ok(Plan { mode, tool, ports })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_need_a_private_network() {
        assert_eq!(plan(None, &[]).unwrap().mode, NetworkMode::None);
        let err = plan(Some("none"), &["8080:80".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs a private network"), "{err}");
        assert!(plan(Some("host"), &["8080:80".into()]).is_err());
        assert!(
            plan(None, &["80/sctp".into()])
                .unwrap_err()
                .to_string()
                .contains("-p/--publish")
        );
    }
}
