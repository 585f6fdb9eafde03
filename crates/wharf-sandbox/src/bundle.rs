//! OCI bundles: a directory with `config.json` (and the generated `/etc` files) next to a root
//! filesystem, as `runc run -b DIR` and other OCI runtimes take it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use oci_spec::runtime::Spec;
use wharf_oci::config::ContainerConfig;

use crate::error::SandboxError;
use crate::spec::{self, EtcFiles, NetworkMode, SpecOptions};

/// A written bundle.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub dir: PathBuf,
    pub spec: Spec,
}

impl Bundle {
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("config.json")
    }
}

/// Writes `data` to `path` atomically, created with `mode`. Not synced: a bundle lives as long
/// as its container and is rewritten for the next one; a crash leaves a container that is
/// discarded anyway, and four syncs cost ~50 ms per run.
fn write_atomic(path: &Path, data: &[u8], mode: u32) -> Result<(), SandboxError> {
    let tmp = path.with_extension("tmp");
    wharf_fs::Atomic::new(path)
        .mode(mode)
        .temp_at(&tmp)
        .durability(wharf_fs::Durability::Unsynced)
        .write(data)
        .map_err(|source| SandboxError::Write {
            path: path.to_path_buf(),
            source,
        })
}

/// `/etc/hosts` for a container called `hostname`.
pub fn hosts_file(hostname: &str) -> String {
    format!(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{hostname}\n"
    )
}

/// The host's resolver configuration without loopback name servers, which a container in its
/// own network namespace cannot reach (systemd-resolved's 127.0.0.53, dnsmasq), after
/// `nameservers` (a private network's DNS forwarder, which reaches them for it).
pub fn resolv_conf(host: &str, network: NetworkMode, nameservers: &[std::net::IpAddr]) -> String {
    let first = nameservers.iter().fold(String::new(), |mut out, ip| {
        let _ = writeln!(out, "nameserver {ip}");
        out
    });
    host.lines()
        .filter(|l| {
            if network == NetworkMode::Host {
                return true;
            }
            let mut f = l.split_whitespace();
            !(f.next() == Some("nameserver")
                && f.next()
                    .is_some_and(|ip| ip.starts_with("127.") || ip == "::1"))
        })
        .fold(first, |mut out, l| {
            out.push_str(l);
            out.push('\n');
            out
        })
}

/// `--dns`, `--dns-search`, `--dns-option`: what the container's `/etc/resolv.conf` says
/// instead of the host's (each list, when given, replaces the host's lines of its kind).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dns {
    pub servers: Vec<std::net::IpAddr>,
    /// Search domains; `.` alone clears the host's list (podman's `--dns-search .`).
    pub search: Vec<String>,
    pub options: Vec<String>,
    /// `--dns none`: no `/etc/resolv.conf` is generated; the image's own is seen.
    pub none: bool,
}

impl Dns {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `base` (a generated resolv.conf) with the lines these flags replace.
    pub fn apply(&self, base: &str) -> String {
        let mut out = String::new();
        for ip in &self.servers {
            let _ = writeln!(out, "nameserver {ip}");
        }
        let replaced = |l: &str| {
            let key = l.split_whitespace().next().unwrap_or_default();
            (key == "nameserver" && !self.servers.is_empty())
                || ((key == "search" || key == "domain") && !self.search.is_empty())
                || (key == "options" && !self.options.is_empty())
        };
        for l in base.lines().filter(|l| !replaced(l)) {
            out.push_str(l);
            out.push('\n');
        }
        let search: Vec<&str> = self
            .search
            .iter()
            .map(String::as_str)
            .filter(|s| *s != ".")
            .collect();
        if !search.is_empty() {
            let _ = writeln!(out, "search {}", search.join(" "));
        }
        if !self.options.is_empty() {
            let _ = writeln!(out, "options {}", self.options.join(" "));
        }
        out
    }
}

/// Writes `dir/{hosts,resolv.conf,hostname}` and `dir/config.json` for `opts` (whose
/// `etc_files` are set to the written files).
pub fn write_bundle(
    dir: &Path,
    image: Option<&ContainerConfig>,
    mut opts: SpecOptions,
) -> Result<Bundle, SandboxError> {
    // 0700 and a 0600 config.json: the spec holds the container's environment (`-e
    // DB_PASSWORD=...`, a build's `--secret ...,env=`), which no other user may read. The
    // `/etc` files stay 0644: they are bind-mounted for every user inside the container.
    {
        use std::os::unix::fs::DirBuilderExt as _;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| SandboxError::Write {
                path: dir.to_path_buf(),
                source,
            })?;
    }
    let etc = EtcFiles {
        hosts: dir.join("hosts"),
        resolv_conf: dir.join("resolv.conf"),
        hostname: dir.join("hostname"),
    };
    write_atomic(&etc.hosts, hosts_file(&opts.hostname).as_bytes(), 0o644)?;
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    write_atomic(
        &etc.resolv_conf,
        opts.dns
            .apply(&resolv_conf(&host_resolv, opts.network, &opts.dns_servers))
            .as_bytes(),
        0o644,
    )?;
    write_atomic(
        &etc.hostname,
        format!("{}\n", opts.hostname).as_bytes(),
        0o644,
    )?;
    opts.etc_files = Some(etc);
    let spec = spec::generate(image, &opts)?;
    let json = serde_json::to_vec_pretty(&spec).map_err(SandboxError::SerializeSpec)?;
    write_atomic(&dir.join("config.json"), &json, 0o600)?;
    Ok(Bundle {
        dir: dir.to_path_buf(),
        spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_resolvers_are_dropped_for_a_private_network() {
        let host = "search example.org\nnameserver 127.0.0.53\nnameserver 10.0.0.2\n";
        assert_eq!(
            resolv_conf(host, NetworkMode::None, &[]),
            "search example.org\nnameserver 10.0.0.2\n"
        );
        assert_eq!(resolv_conf(host, NetworkMode::Host, &[]), host);
        assert_eq!(
            resolv_conf(
                host,
                NetworkMode::Private,
                &["169.254.1.1".parse().unwrap()]
            ),
            "nameserver 169.254.1.1\nsearch example.org\nnameserver 10.0.0.2\n"
        );
    }
}
