//! A container's published ports as recorded in `container.json`, and podman's three ways of
//! showing them: the `PORTS` column of `ps` (`0.0.0.0:41234->80/tcp`), `NetworkSettings.Ports`
//! of `inspect` (`{"80/tcp": [{"HostIp": "", "HostPort": "41234"}]}`) and the lines of
//! `berth port` (`80/tcp -> 0.0.0.0:41234`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use wharf_sandbox::network::PortMapping;

/// One `-p` flag once its host ports are known (chosen by berth when the flag gave none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    /// The host address; empty for all addresses.
    pub host_ip: String,
    pub host_port: u16,
    pub container_port: u16,
    /// How many consecutive ports.
    pub count: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
}

impl From<&PortMapping> for Published {
    fn from(p: &PortMapping) -> Self {
        Published {
            host_ip: p.host_ip.map(|ip| ip.to_string()).unwrap_or_default(),
            host_port: p.host_port,
            container_port: p.container_port,
            count: p.count,
            protocol: p.proto.name().to_string(),
        }
    }
}

impl Published {
    /// The host address as podman prints it: `0.0.0.0` for all, `[::1]` for IPv6.
    fn shown_ip(&self) -> String {
        match self.host_ip.as_str() {
            "" => "0.0.0.0".to_string(),
            ip if ip.contains(':') => format!("[{ip}]"),
            ip => ip.to_string(),
        }
    }

    /// Each single port of the mapping: (host port, container port).
    fn each(&self) -> impl Iterator<Item = (u16, u16)> + '_ {
        (0..self.count).map(|i| (self.host_port + i, self.container_port + i))
    }
}

fn range(first: u16, count: u16) -> String {
    if count > 1 {
        format!("{first}-{}", first + (count - 1))
    } else {
        first.to_string()
    }
}

/// `ps`'s `PORTS` column: `0.0.0.0:8080-8081->80-81/tcp, 127.0.0.1:5353->53/udp`.
pub fn column(ports: &[Published]) -> String {
    ports
        .iter()
        .map(|p| {
            format!(
                "{}:{}->{}/{}",
                p.shown_ip(),
                range(p.host_port, p.count),
                range(p.container_port, p.count),
                p.protocol
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `inspect`'s `NetworkSettings.Ports`: every container port with its host bindings.
pub fn inspect(ports: &[Published]) -> Value {
    let mut out = Map::new();
    for p in ports {
        for (host, ctr) in p.each() {
            let key = format!("{ctr}/{}", p.protocol);
            let binding = json!({"HostIp": p.host_ip, "HostPort": host.to_string()});
            match out.get_mut(&key) {
                Some(Value::Array(list)) => list.push(binding),
                _ => {
                    out.insert(key, Value::Array(vec![binding]));
                }
            }
        }
    }
    Value::Object(out)
}

/// `berth port`'s lines: `80/tcp -> 0.0.0.0:41234` for every port, or only the host
/// addresses (`0.0.0.0:41234`) of container port `only` (`80`, `80/tcp`, `53/udp`).
/// `None` when `only` is given but not published.
pub fn lines(ports: &[Published], only: Option<(u16, &str)>) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for p in ports {
        for (host, ctr) in p.each() {
            let addr = format!("{}:{host}", p.shown_ip());
            match only {
                None => out.push(format!("{ctr}/{} -> {addr}", p.protocol)),
                Some((port, proto)) if port == ctr && proto == p.protocol => out.push(addr),
                Some(_) => {}
            }
        }
    }
    (only.is_none() || !out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_sandbox::network::parse_port;

    fn published(specs: &[&str]) -> Vec<Published> {
        specs
            .iter()
            .map(|s| Published::from(&parse_port(s).unwrap()))
            .collect()
    }

    #[test]
    fn shown_like_podman() {
        let ports = published(&["41234:80", "127.0.0.1:8080-8081:90-91/udp", "[::1]:7000:70"]);
        assert_eq!(
            column(&ports),
            "0.0.0.0:41234->80/tcp, 127.0.0.1:8080-8081->90-91/udp, [::1]:7000->70/tcp"
        );
        assert_eq!(
            inspect(&ports)["91/udp"],
            json!([{"HostIp": "127.0.0.1", "HostPort": "8081"}])
        );
        assert_eq!(
            inspect(&ports)["80/tcp"],
            json!([{"HostIp": "", "HostPort": "41234"}])
        );
        assert_eq!(
            lines(&ports, None).unwrap(),
            [
                "80/tcp -> 0.0.0.0:41234",
                "90/udp -> 127.0.0.1:8080",
                "91/udp -> 127.0.0.1:8081",
                "70/tcp -> [::1]:7000"
            ]
        );
        assert_eq!(
            lines(&ports, Some((91, "udp"))).unwrap(),
            ["127.0.0.1:8081"]
        );
        assert_eq!(lines(&ports, Some((91, "tcp"))), None);
        assert_eq!(lines(&[], None).unwrap(), Vec::<String>::new());
    }
}
